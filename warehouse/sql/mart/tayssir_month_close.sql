-- mart.tayssir_month_close for one (month, directorate): each school with Tayssir beneficiaries,
-- the month's compliant pupils and entitlement, why the others are not paid, and whether the
-- school's attendance for the month arrived (and on time). Rerunning a month replaces it.
with months as (
    select t.school_year, t.school_code,
           count(distinct t.pupil_key) filter (t.is_active) as active_beneficiaries,
           count(distinct t.pupil_key) filter (t.is_compliant) as compliant_pupils,
           sum(t.entitlement_mad) as entitlement_mad,
           count(*) filter (t.reason_not_paid = 'over_threshold') as over_threshold,
           count(*) filter (t.reason_not_paid = 'no_attendance') as no_attendance,
           count(*) filter (t.reason_not_paid = 'level_not_covered') as level_not_covered
    from core.fct_tayssir_month t
    where t.month = $month and t.province_code = $province
    group by all
)
select m.school_year, $month as month, $province as province_code, m.school_code, m.active_beneficiaries,
       m.compliant_pupils, m.entitlement_mad, m.over_threshold as not_paid_over_threshold,
       m.no_attendance as not_paid_no_attendance, m.level_not_covered as not_paid_level,
       coalesce(s.is_expected, false) as attendance_expected, coalesce(s.is_received, false) as attendance_received,
       coalesce(s.is_on_time, false) as attendance_on_time, now() as closed_at
from months m
left join core.fct_submission s
  on s.school_code = m.school_code and s.record_type = 'attendance' and s.period = $month
 and s.school_year = m.school_year
