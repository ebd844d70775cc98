-- Files of the monthly record types (attendance, canteen meals) expected, received and on time per
-- school month and unit (school, directorate, region, nation): the completeness and timeliness
-- heat maps of the reports. A school counts at its own unit and every unit above it
-- (core.geo_ancestor). Counts of files, not of pupils: not suppressed.
with school as (
    select school_year, period as month, school_code,
           count(*) filter (is_expected) as files_expected,
           count(*) filter (is_expected and is_received) as files_received,
           count(*) filter (is_expected and is_received and is_on_time) as files_on_time
    from core.fct_submission
    where period is not null
    group by all
), levels as (
    select school_year, month, 'school' as geo_level, school_code as geo_code, files_expected, files_received,
           files_on_time
    from school
    union all
    select s.school_year, s.month, a.ancestor_level, a.ancestor_code, s.files_expected, s.files_received,
           s.files_on_time
    from school s
    join core.geo_ancestor a on a.school_year = s.school_year and a.geo_level = 'school'
                            and a.geo_code = s.school_code
)
select school_year, month, geo_level, geo_code, sum(files_expected)::bigint as files_expected,
       sum(files_received)::bigint as files_received, sum(files_on_time)::bigint as files_on_time,
       sum(files_received) / nullif(sum(files_expected), 0) as completeness,
       sum(files_on_time) / nullif(sum(files_received), 0) as timeliness
from levels
group by all
