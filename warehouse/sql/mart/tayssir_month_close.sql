-- mart.tayssir_month_close for one (month, directorate): each school with Tayssir beneficiaries,
-- the month's compliant pupils and entitlement, why the others are not paid, and whether the
-- school's attendance for the month arrived (and on time). Where the directorate signed the month
-- (ops.approval_unit), compliant pupils and entitlement are the school's signed values; a school
-- the signature did not cover, or a month not signed, keeps the live ones, marked provisional.
-- Rerunning a month replaces it.
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
), signed as (
    select v.school_year, v.geo_code as school_code, u.state, u.fingerprint,
           max(v.value) filter (v.indicator = 'tayssir_compliant_pupils') as compliant_pupils,
           max(v.value) filter (v.indicator = 'tayssir_entitlement_mad') as entitlement_mad
    from ops.approval_unit u
    join ops.approved_value v using (signature_id)
    where u.province_code = $province and u.period = $month and u.state in ('approved', 'accepted')
      and v.geo_level = 'school' and v.indicator in ('tayssir_compliant_pupils', 'tayssir_entitlement_mad')
    group by all
)
select m.school_year, $month as month, $province as province_code, m.school_code, m.active_beneficiaries,
       coalesce(g.compliant_pupils::integer, m.compliant_pupils) as compliant_pupils,
       coalesce(g.entitlement_mad::decimal(14, 2), m.entitlement_mad) as entitlement_mad,
       m.over_threshold as not_paid_over_threshold,
       m.no_attendance as not_paid_no_attendance, m.level_not_covered as not_paid_level,
       coalesce(s.is_expected, false) as attendance_expected, coalesce(s.is_received, false) as attendance_received,
       coalesce(s.is_on_time, false) as attendance_on_time, now() as closed_at,
       coalesce(g.state, 'provisional') as approval_state, g.fingerprint as signed_fingerprint
from months m
left join core.fct_submission s
  on s.school_code = m.school_code and s.record_type = 'attendance' and s.period = $month
 and s.school_year = m.school_year
left join signed g on g.school_year = m.school_year and g.school_code = m.school_code
