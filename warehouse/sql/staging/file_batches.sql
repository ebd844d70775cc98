-- The current files of one record type ($rt) of a partition with their rows, to stage in batches
-- ($files: only these; null: all).
select file_path, coalesce(rows_read, 0) as rows
from ops.file_manifest
where record_type = $rt and school_year = $year and province_code = $province and status = 'loaded'
  and ($files is null or file_path in (select unnest($files)))
order by file_path
