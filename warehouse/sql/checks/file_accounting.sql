-- Every loaded file of the partition: rows_read = rows_loaded + rows_quarantined.
select count(*) as failing, count(*) as files_unbalanced,
       nullif(array_to_string(list(file_path order by file_path)[1:5], ', '), '') as examples
from ops.file_manifest
where school_year = $year and province_code = $province and status = 'loaded'
  and (rows_read is null or rows_read <> rows_loaded + rows_quarantined)
