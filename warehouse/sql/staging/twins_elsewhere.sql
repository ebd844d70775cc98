-- The accepted roster rows of the school year's other directorates whose pupil_on_two_rosters
-- warning the rosters just staged for one partition ($year, $province) change, as the temp table
-- twins_elsewhere (`warn`: true, the row must now carry the warning; false, it must no longer).
-- A partition's own staging warns its own rows only; without this, of a pupil on two directorates'
-- rosters only the roster loaded last was warned, and a roster corrected in one directorate left
-- the other's warning open.
create or replace temp table twins_elsewhere as
with rosters as not materialized (
    -- the year's accepted roster rows (as core.pupils_at_two_schools reads them)
    select file_path, file_version, sheet, row_number, school_year, province_code, school_code, massar_code
    from staging.students
    where school_year = $year and not is_quarantined and not is_duplicate_copy
), mine as (
    select distinct core.pupil_key(massar_code) as pupil_key from rosters where province_code = $province
), elsewhere as (
    -- the partition's pupils on the year's other directorates' accepted rosters (so on two schools'),
    -- found by their integer keys in core.pupil_identity: matching the year's 7 M roster rows on
    -- Massar codes took 0.45 s for each of a nation's 82 partitions, the keys 0.12 s. Those rows
    -- are as fresh as their partitions' last core step, which follows their staging in every load.
    select distinct i.province_code, i.massar_code
    from core.pupil_identity i semi join mine using (pupil_key)
    where i.school_year = $year and i.province_code <> $province
), should as (
    select r.* from rosters r
    join elsewhere e on e.province_code = r.province_code and e.massar_code = r.massar_code
), warned as (
    -- the other directorates' roster rows with the warning open
    select r.*
    from rosters r
    join (select file_path, file_version, sheet, row_number from ops.row_issue
          where rule = 'pupil_on_two_rosters' and status = 'open' and school_year = $year
            and province_code <> $province) i
      on i.file_path = r.file_path and i.file_version = r.file_version and i.sheet is not distinct from r.sheet
     and i.row_number = r.row_number
), still_twice as (
    -- of their pupils, those still on two schools' rosters
    select massar_code from rosters semi join warned using (massar_code)
    group by massar_code having count(distinct school_code) > 1
)
select s.file_path, s.file_version, s.sheet, s.row_number, s.school_year, s.province_code, s.school_code,
       s.massar_code, true as warn
from should s
where not exists (select 1 from warned w
                  where w.file_path = s.file_path and w.file_version = s.file_version
                    and w.sheet is not distinct from s.sheet and w.row_number = s.row_number)
union all
select w.file_path, w.file_version, w.sheet, w.row_number, w.school_year, w.province_code, w.school_code,
       w.massar_code, false as warn
from warned w
where w.massar_code not in (select massar_code from still_twice);
