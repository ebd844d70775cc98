-- Raw rows of the latest loaded version of each of the files $files of one partition ($year,
-- $province), in file and row order: what staging prepares and validates.
select r.* exclude (load_id, content_sha256)
from {{table}} r
join ops.file_manifest m on m.file_path = r.file_path and m.version = r.file_version
where m.status = 'loaded' and r.school_year = $year and r.province_code = $province
  and r.file_path in (select unnest($files))
order by r.file_path, r.sheet, r.row_number
