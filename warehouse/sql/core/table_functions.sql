-- Table functions of the core schema, created after the views they read (warehouse/schema.py).

-- A pupil at two schools: listed (core.pupil_listing) by two or more schools in the same school
-- year and source ('roster', 'attendance', 'tayssir'), and month for the monthly sources. One row
-- per pupil (and month) with the schools and their directorates, in school code order. With a
-- province, only the pupils that province lists are looked at, so a partition's check reads its
-- own pupils' rows and not the whole nation's; null looks at every pupil.
--
-- Rosters are matched on the staged rows' Massar code, whose keyed hash is the listing's pupil key:
-- the same pupils as matching the listing on its keys (barring a collision of two codes' 60-bit
-- keys), but the key is computed for the pupils found twice only, not for every roster row of the
-- nation, which a partition's roster warning would otherwise do at each directorate's load.
create or replace macro core.pupils_at_two_schools(school_year_, source_, province_) as table
with roster_mine as (
    select distinct massar_code
    from staging.students
    where source_ = 'roster' and school_year = school_year_ and (province_ is null or province_code = province_)
      and not is_quarantined and not is_duplicate_copy
), roster_twice as (
    select s.school_year, 'roster' as source, null::varchar as month, core.pupil_key(s.massar_code) as pupil_key,
           count(distinct s.school_code) as schools,
           list(distinct s.school_code order by s.school_code) as school_codes
    from staging.students s
    semi join roster_mine m on m.massar_code = s.massar_code
    where source_ = 'roster' and s.school_year = school_year_ and not s.is_quarantined and not s.is_duplicate_copy
    group by s.school_year, s.massar_code
    having count(distinct s.school_code) > 1
), mine as (
    select distinct pupil_key, coalesce(month, '') as month_key
    from core.pupil_listing
    where source_ <> 'roster' and school_year = school_year_ and source = source_
      and (province_ is null or province_code = province_)
), listed as (
    select l.*
    from core.pupil_listing l
    semi join mine m on m.pupil_key = l.pupil_key and m.month_key = coalesce(l.month, '')
    where source_ <> 'roster' and l.school_year = school_year_ and l.source = source_
)
select school_year, source, month, pupil_key,
       count(distinct school_code) as schools,
       list(distinct school_code order by school_code) as school_codes
from listed
group by school_year, source, month, pupil_key
having count(distinct school_code) > 1
union all
select * from roster_twice;
