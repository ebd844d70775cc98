-- Raw rows of the latest loaded version of the files $files (null: every file) of one partition
-- ($year, $province; both null: the referential, which has no partition), numbered in file and row
-- order (`_row_id`, how the rules name the rows they flag): what staging prepares and validates.
create or replace temp table {{target}} as
select r.* exclude (load_id, content_sha256),
       (row_number() over (order by r.file_path, r.sheet, r.row_number) - 1)::bigint as _row_id
from {{table}} r
join ops.file_manifest m on m.file_path = r.file_path and m.version = r.file_version
where m.status = 'loaded'
  and ($year is null or r.school_year = $year) and ($province is null or r.province_code = $province)
  and ($files is null or r.file_path in (select unnest($files)));
