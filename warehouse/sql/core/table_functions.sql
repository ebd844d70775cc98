-- Table functions of the core schema, created after the views they read (warehouse/schema.py).

-- A pupil at two schools: listed (core.pupil_listing) by two or more schools in the same school
-- year and source ('roster', 'attendance', 'tayssir'), and month for the monthly sources. One row
-- per pupil (and month) with the schools and their directorates, in school code order. With a
-- province, only the pupils that province lists are looked at, so a partition's check reads its
-- own pupils' rows and not the whole nation's; null looks at every pupil.
create or replace macro core.pupils_at_two_schools(school_year_, source_, province_) as table
with mine as (
    select distinct pupil_key, coalesce(month, '') as month_key
    from core.pupil_listing
    where school_year = school_year_ and source = source_ and (province_ is null or province_code = province_)
), listed as (
    select l.*
    from core.pupil_listing l
    semi join mine m on m.pupil_key = l.pupil_key and m.month_key = coalesce(l.month, '')
    where l.school_year = school_year_ and l.source = source_
)
select school_year, source, month, pupil_key,
       count(distinct school_code) as schools,
       list(distinct school_code order by school_code) as school_codes
from listed
group by school_year, source, month, pupil_key
having count(distinct school_code) > 1;
