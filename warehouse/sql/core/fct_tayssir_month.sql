-- fct_tayssir_month: one row per Tayssir beneficiary, school and school month of the year, saying
-- whether the month is due (compliant) and, if not, why (contract sections 6 and 8). Attendance
-- and levels come from the facts (core.fct_attendance, core.fct_enrolment) of the partition.
with beneficiaries as (
    select b.school_year, b.province_code, b.school_code, core.pupil_key(b.massar_code) as pupil_key,
           coalesce(b.status, 'active') as status,
           -- active from the month of enrolment (September when absent or earlier) to June
           greatest(coalesce(strftime(b.enrolled_on, '%Y-%m'), ''), left(b.school_year, 4) || '-09') as active_from
    from staging.tayssir_beneficiaries b
    where b.school_year = $year and b.province_code = $province
      and not b.is_quarantined and not b.is_duplicate_copy
), roster as (
    select school_code, pupil_key, min(level_code) as level_code
    from core.fct_enrolment
    where school_year = $year and province_code = $province
    group by all
), months as (
    select distinct month from core.dim_date where school_year = $year
), attendance as (
    select school_code, pupil_key, month, unjustified_absence_days
    from core.fct_attendance
    where school_year = $year and province_code = $province
), amounts as (
    select rule_key as level_code, value_num as amount from core.programme_rule
    where school_year = $year and programme = 'tayssir' and rule = 'monthly_amount_mad'
), thresholds as (
    select rule_key as cycle, value_num as max_days from core.programme_rule
    where school_year = $year and programme = 'tayssir' and rule = 'max_unjustified_absence_days'
), assembled as (
    select b.school_year, b.province_code, b.school_code, m.month, b.pupil_key, r.level_code, l.cycle,
           b.status = 'active' and m.month >= b.active_from as is_active,
           a.pupil_key is not null as attendance_reported,
           a.unjustified_absence_days, t.max_days, am.amount
    from beneficiaries b
    join roster r using (school_code, pupil_key)
    cross join months m
    left join core.dim_level l on l.level_code = r.level_code
    left join attendance a on a.school_code = b.school_code and a.pupil_key = b.pupil_key and a.month = m.month
    left join amounts am on am.level_code = r.level_code
    left join thresholds t on t.cycle = l.cycle
)
select x.school_year, x.province_code, v.school_key, x.school_code, x.month,
       (replace(x.month, '-', '') || '01')::integer as date_key,
       x.pupil_key, x.level_code, x.cycle, x.is_active, x.attendance_reported,
       x.unjustified_absence_days, x.max_days::bigint as max_unjustified_absence_days,
       coalesce(x.is_active and x.amount is not null and x.attendance_reported
                and x.unjustified_absence_days <= x.max_days, false) as is_compliant,
       case when x.is_active and x.amount is not null and x.attendance_reported
                 and x.unjustified_absence_days <= x.max_days then x.amount else 0 end as entitlement_mad,
       case when not x.is_active then 'not_active'
            when x.amount is null or x.max_days is null then 'level_not_covered'
            when not x.attendance_reported then 'no_attendance'
            when x.unjustified_absence_days > x.max_days then 'over_threshold'
       end as reason_not_paid
from assembled x
join core.school_year_version v on v.school_year = x.school_year and v.school_code = x.school_code
