-- Raw rows of the latest loaded version of the files $files (null: every file) of one partition
-- ($year, $province; both null: the referential, which has no partition), numbered in file and row
-- order (`_row_id`, how the rules name the rows they flag): what staging prepares and validates.
-- `_row_id` is the rank of the row's (file, version, sheet) times 2^32 plus its row number: in the
-- same order as numbering every row, unique, but without sorting the partition's rows (a million
-- for a directorate's month of attendance), only its few thousand sheets.
create or replace temp table {{target}} as
with current_rows as (
    select r.* exclude (load_id, content_sha256)
    from {{table}} r
    join ops.file_manifest m on m.file_path = r.file_path and m.version = r.file_version
    where m.status = 'loaded'
      and ($year is null or r.school_year = $year) and ($province is null or r.province_code = $province)
      and ($files is null or r.file_path in (select unnest($files)))
), sheets as (
    select file_path, file_version, sheet,
           (row_number() over (order by file_path, file_version, sheet) - 1)::bigint as sheet_rank
    from (select distinct file_path, file_version, sheet from current_rows)
)
select c.*, s.sheet_rank * 4294967296 + c.row_number as _row_id
from current_rows c
join sheets s on s.file_path = c.file_path and s.file_version = c.file_version
             and s.sheet is not distinct from c.sheet;
