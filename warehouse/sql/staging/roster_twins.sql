-- The accepted roster rows of one school year ($year) whose pupil_on_two_rosters warning is not
-- what the year's rosters say, as the temp table roster_twins (`warn`: true, the row must now carry
-- the warning; false, it must no longer). A partition's staging warns its own rows against every
-- roster of the year, but another directorate's rows are not its to change: of a pupil on two
-- directorates' rosters, only the roster staged last would be warned, and a roster corrected in one
-- directorate would leave the other's warning open. Matched on Massar codes, as
-- core.pupils_at_two_schools groups them, over the staged rows only: nothing here waits for a
-- partition's core step.
create or replace temp table roster_twins as
with rosters as not materialized (
    -- the year's accepted roster rows (as core.pupils_at_two_schools reads them)
    select file_path, file_version, sheet, row_number, school_year, province_code, school_code, massar_code
    from staging.students
    where school_year = $year and not is_quarantined and not is_duplicate_copy
), twice as (
    select massar_code from rosters group by massar_code having count(distinct school_code) > 1
), warned as (
    -- the rows with the warning open
    select file_path, file_version, sheet, row_number from ops.row_issue
    where rule = 'pupil_on_two_rosters' and status = 'open' and school_year = $year
), should as (
    select r.* from rosters r semi join twice using (massar_code)
)
select s.*, true as warn
from should s
where not exists (select 1 from warned w
                  where w.file_path = s.file_path and w.file_version = s.file_version
                    and w.sheet is not distinct from s.sheet and w.row_number = s.row_number)
union all
select r.*, false as warn
from rosters r
join warned w on w.file_path = r.file_path and w.file_version = r.file_version
 and w.sheet is not distinct from r.sheet and w.row_number = r.row_number
where r.massar_code not in (select massar_code from twice);
