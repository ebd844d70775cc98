-- Raw rows of the latest loaded version of every referential snapshot file, in file and row order.
select r.* exclude (load_id, content_sha256)
from raw.schools r
join ops.file_manifest m on m.file_path = r.file_path and m.version = r.file_version
where m.status = 'loaded'
order by r.file_path, r.sheet, r.row_number
