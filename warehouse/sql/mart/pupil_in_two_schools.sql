-- Exact duplicates of one school year ($year), all directorates together: a pupil on two or more
-- schools' accepted rosters (one row per school month) or active on two or more schools' Tayssir
-- lists in a month (core.pupils_at_two_schools, the one definition of a pupil at two schools).
--
-- Holding school, for each pupil and school month, among the schools that list the pupil:
--   1. the one school that reported the pupil's attendance that month (holding_basis attendance)
--   2. else, among the schools that reported it (when several) or all of them (when none), the
--      school whose accepted roster of the year arrived last: arrival time of the roster version
--      in ops.file_manifest (received_at, else loaded_at), then the higher file version, then
--      the smaller school code (attendance+latest_roster, latest_roster).
-- Attendance is where the pupil is seen that month; the latest roster is the latest statement of
-- where the pupil is enrolled (a transfer sends the new school's roster after the old one).
with two_rosters as (
    select pupil_key from core.pupils_at_two_schools($year, 'roster', null)
), two_lists as (
    select pupil_key, month from core.pupils_at_two_schools($year, 'tayssir', null)
), pupils as (
    select pupil_key from two_rosters union select pupil_key from two_lists
), roster as (
    -- their accepted rosters of the year and when each roster version arrived
    select e.pupil_key, e.school_code, min(e.province_code) as province_code,
           max(coalesce(m.received_at, m.loaded_at)) as roster_time, max(e.file_version) as roster_version
    from core.fct_enrolment e
    left join ops.file_manifest m on m.file_path = e.file_path and m.version = e.file_version
    where e.school_year = $year and e.pupil_key in (select pupil_key from pupils)
    group by e.pupil_key, e.school_code
), months as (
    select strftime(make_date(left($year, 4)::integer, 9, 1) + to_months(i::integer), '%Y-%m') as month
    from range(10) t(i)
), involved as (
    select 'roster' as kind, r.pupil_key, m.month, r.school_code, r.province_code
    from roster r
    semi join two_rosters using (pupil_key)
    cross join months m
    union all
    select 'tayssir' as kind, t.pupil_key, t.month, t.school_code, min(t.province_code) as province_code
    from core.fct_tayssir_month t
    semi join two_lists l on l.pupil_key = t.pupil_key and l.month = t.month
    where t.school_year = $year and t.is_active
    group by t.pupil_key, t.month, t.school_code
), attended as (
    select distinct pupil_key, month, school_code from core.fct_attendance
    where school_year = $year and pupil_key in (select pupil_key from involved)
), ranked as (
    select i.kind, i.pupil_key, i.month, i.school_code, i.province_code,
           count(a.school_code) over w as attendance_schools,
           row_number() over (partition by i.kind, i.pupil_key, i.month
                              order by a.school_code is not null desc, r.roster_time desc nulls last,
                                       r.roster_version desc nulls last, i.school_code) as pick
    from involved i
    left join attended a on a.pupil_key = i.pupil_key and a.month = i.month and a.school_code = i.school_code
    left join roster r on r.pupil_key = i.pupil_key and r.school_code = i.school_code
    window w as (partition by i.kind, i.pupil_key, i.month)
)
select $year as school_year, kind, month, pupil_key,
       count(*)::integer as schools,
       list(school_code order by school_code) as school_codes,
       list(province_code order by school_code) as province_codes,
       count(distinct province_code) > 1 as crosses_directorates,
       max(attendance_schools)::integer as attendance_schools,
       any_value(school_code) filter (where pick = 1) as holding_school_code,
       any_value(province_code) filter (where pick = 1) as holding_province_code,
       case max(attendance_schools) when 1 then 'attendance' when 0 then 'latest_roster'
            else 'attendance+latest_roster' end as holding_basis
from ranked
group by kind, pupil_key, month
