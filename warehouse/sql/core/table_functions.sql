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
with rosters as not materialized (
    -- the year's accepted roster rows (core.pupil_listing's roster source, before keying); read
    -- twice below, and not materialised: copying the nation's 7 M rows costs more than rescanning
    select school_year, province_code, school_code, massar_code
    from staging.students
    where source_ = 'roster' and school_year = school_year_ and not is_quarantined and not is_duplicate_copy
), roster_twice as (
    select school_year, 'roster' as source, null::varchar as month, core.pupil_key(massar_code) as pupil_key,
           count(distinct school_code) as schools,
           list(distinct school_code order by school_code) as school_codes
    from rosters
    semi join (select massar_code from rosters where province_ is null or province_code = province_) using (massar_code)
    group by school_year, massar_code
    having count(distinct school_code) > 1
), mine as (
    select distinct pupil_key
    from core.pupil_listing
    where source_ <> 'roster' and school_year = school_year_ and source = source_
      and (province_ is null or province_code = province_)
), listed as (
    -- every month of the province's pupils; `having` keeps the months the province lists them in
    -- (matching on the pupil alone, one integer, probes the year's rows about twice as fast as on
    -- the pupil and the month)
    select l.*
    from core.pupil_listing l
    semi join mine m on m.pupil_key = l.pupil_key
    where source_ <> 'roster' and l.school_year = school_year_ and l.source = source_
), twice as (
    -- the pupil months listed by two schools, found with min and max first: counting and listing
    -- the distinct schools of every pupil month cost twice the scan (nation, a directorate's
    -- check: 0.4-0.9 s -> 0.3 s), and few pupil months have two schools
    select school_year, source, month, pupil_key
    from listed
    group by school_year, source, month, pupil_key
    having min(school_code) <> max(school_code) and (province_ is null or bool_or(province_code = province_))
)
select l.school_year, l.source, l.month, l.pupil_key,
       count(distinct l.school_code) as schools,
       list(distinct l.school_code order by l.school_code) as school_codes
from listed l
semi join twice t on t.school_year = l.school_year and t.source = l.source and t.month is not distinct from l.month
                 and t.pupil_key is not distinct from l.pupil_key
group by l.school_year, l.source, l.month, l.pupil_key
union all
select * from roster_twice;
