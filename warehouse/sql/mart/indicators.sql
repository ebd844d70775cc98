-- mart.indicators for one (school year, directorate): the school rows of the directorate. The rows
-- of the directorate, its region and the nation are sums of the level below (rollup.sql, run for
-- each level by the mart builder).
-- A school has a row for an indicator and period only when it sent the record type feeding it
-- (not reported is not zero); a school that did send gets its value, zero included.
delete from mart.indicators
where school_year = $year and geo_level = 'school'
  and geo_code in (select school_code from core.dim_school where province_code = $province);
insert into mart.indicators by name
with received as (
    select school_code, record_type, period from core.fct_submission
    where school_year = $year and province_code = $province and is_received
), yearly_reporters as (
    select distinct school_code, record_type from received
), payments_received as (
    select count(*) > 0 as any_file from ops.file_manifest
    where record_type = 'tayssir_payments' and status = 'loaded' and province_code = $province
      and school_year in ($year, (left($year, 4)::integer + 1) || '-' || (left($year, 4)::integer + 2))
), enrolment as (
    select school_code, count(distinct pupil_key) as pupils,
           count(distinct pupil_key) filter (gender = 'F') as girls
    from core.fct_enrolment where school_year = $year and province_code = $province group by 1
), tayssir_year as (
    select school_code, count(distinct pupil_key) filter (is_active) as beneficiaries
    from core.fct_tayssir_month where school_year = $year and province_code = $province group by 1
), tayssir_month as (
    select school_code, month, count(distinct pupil_key) filter (is_compliant) as compliant,
           sum(entitlement_mad) as entitlement
    from core.fct_tayssir_month where school_year = $year and province_code = $province group by 1, 2
), paid as (
    select school_code, sum(amount_mad) filter (status = 'paid') as paid
    from core.fct_tayssir_payment where period_school_year = $year and province_code = $province group by 1
), bags as (
    select school_code, sum(eligible) as eligible, sum(kits_requested) as requested,
           sum(kits_received) as received, sum(kits_distributed) as distributed
    from core.fct_schoolbag where school_year = $year and province_code = $province group by 1
), grants as (
    select school_code, count(distinct pupil_key) filter (status = 'granted') as grantees,
           sum(amount_mad) filter (status = 'granted') as amount
    from core.fct_boarding_grant where school_year = $year and province_code = $province group by 1
), canteen as (
    select school_code, month, sum(meals_served) as meals, sum(cost_mad) as cost
    from core.fct_canteen_month where school_year = $year and province_code = $province group by 1, 2
), completeness as (
    select school_code, sum(expected) as expected, sum(received) as received, sum(on_time) as on_time
    from core.submission_status where school_year = $year and province_code = $province group by 1
    having sum(expected) > 0
), recon as (
    select school_code,
           sum(paid_mad) filter (class = 'paid_as_due') as paid_as_due_mad,
           count(*) filter (class = 'paid_as_due') as paid_as_due_count,
           sum(due_mad - paid_mad) filter (class = 'unpaid_due') as unpaid_due_mad,
           count(*) filter (class = 'unpaid_due') as unpaid_due_count,
           sum(paid_mad) filter (class = 'paid_not_due') as paid_not_due_mad,
           count(*) filter (class = 'paid_not_due') as paid_not_due_count,
           sum(paid_mad - due_mad) filter (class = 'amount_mismatch') as amount_mismatch_mad,
           count(*) filter (class = 'amount_mismatch') as amount_mismatch_count
    from mart.tayssir_reconciliation where school_year = $year and province_code = $province group by 1
), targeting as (
    select school_code, eligible_pupils, exclusion_candidates
    from mart.tayssir_targeting where school_year = $year and province_code = $province
), forecast as (
    -- next year's kits, filed under the year whose roster they are forecast from
    select school_code, sum(kits_needed) as kits_needed
    from mart.schoolbag_forecast where school_year = $year and province_code = $province group by 1
), school_values as (
    select r.school_code, null as month, 'enrolled_pupils' as indicator, coalesce(e.pupils, 0) as value
    from yearly_reporters r left join enrolment e using (school_code) where r.record_type = 'students'
    union all
    select r.school_code, null, 'enrolled_girls', coalesce(e.girls, 0)
    from yearly_reporters r left join enrolment e using (school_code) where r.record_type = 'students'
    union all
    -- from the roster alone (eligibility by the year's rules, kits by the forecast): every school
    -- that sent one, whether or not it sent a Tayssir list (not on a list is not a beneficiary)
    select r.school_code, null, unnest(['tayssir_eligible_pupils', 'tayssir_exclusion_candidates',
                                        'schoolbag_kits_needed_next_year']),
           unnest([coalesce(t.eligible_pupils, 0), coalesce(t.exclusion_candidates, 0),
                   coalesce(f.kits_needed, 0)])
    from yearly_reporters r left join targeting t using (school_code) left join forecast f using (school_code)
    where r.record_type = 'students'
    union all
    select r.school_code, null, 'tayssir_beneficiaries', coalesce(t.beneficiaries, 0)
    from yearly_reporters r left join tayssir_year t using (school_code) where r.record_type = 'tayssir_beneficiaries'
    union all
    select a.school_code, a.period, 'tayssir_compliant_pupils', coalesce(t.compliant, 0)
    from received a
    join yearly_reporters b on b.school_code = a.school_code and b.record_type = 'tayssir_beneficiaries'
    left join tayssir_month t on t.school_code = a.school_code and t.month = a.period
    where a.record_type = 'attendance'
    union all
    select a.school_code, a.period, 'tayssir_entitlement_mad', coalesce(t.entitlement, 0)
    from received a
    join yearly_reporters b on b.school_code = a.school_code and b.record_type = 'tayssir_beneficiaries'
    left join tayssir_month t on t.school_code = a.school_code and t.month = a.period
    where a.record_type = 'attendance'
    union all
    select r.school_code, null, 'tayssir_paid_mad', coalesce(p.paid, 0)
    from yearly_reporters r cross join payments_received pr left join paid p using (school_code)
    where r.record_type = 'tayssir_beneficiaries' and pr.any_file
    union all
    -- payment reconciliation (beyond the interface): amounts and pupil-instalments per class
    select r.school_code, null,
           unnest(['tayssir_paid_as_due_mad', 'tayssir_paid_as_due_count', 'tayssir_unpaid_due_mad',
                   'tayssir_unpaid_due_count', 'tayssir_paid_not_due_mad', 'tayssir_paid_not_due_count',
                   'tayssir_amount_mismatch_mad', 'tayssir_amount_mismatch_count']),
           unnest([coalesce(c.paid_as_due_mad, 0), coalesce(c.paid_as_due_count, 0), coalesce(c.unpaid_due_mad, 0),
                   coalesce(c.unpaid_due_count, 0), coalesce(c.paid_not_due_mad, 0),
                   coalesce(c.paid_not_due_count, 0), coalesce(c.amount_mismatch_mad, 0),
                   coalesce(c.amount_mismatch_count, 0)])
    from yearly_reporters r cross join payments_received pr left join recon c using (school_code)
    where r.record_type = 'tayssir_beneficiaries' and pr.any_file
    union all
    select r.school_code, null, unnest(['schoolbag_eligible_pupils', 'schoolbag_kits_requested',
                                        'schoolbag_kits_received', 'schoolbag_kits_distributed']),
           unnest([coalesce(b.eligible, 0), coalesce(b.requested, 0), coalesce(b.received, 0),
                   coalesce(b.distributed, 0)])
    from yearly_reporters r left join bags b using (school_code) where r.record_type = 'schoolbags'
    union all
    select r.school_code, null, unnest(['boarding_grantees', 'boarding_grant_mad']),
           unnest([coalesce(g.grantees, 0), coalesce(g.amount, 0)])
    from yearly_reporters r left join grants g using (school_code) where r.record_type = 'boarding_grants'
    union all
    select a.school_code, a.period, unnest(['canteen_meals_served', 'canteen_cost_mad']),
           unnest([coalesce(c.meals, 0), coalesce(c.cost, 0)])
    from received a left join canteen c on c.school_code = a.school_code and c.month = a.period
    where a.record_type = 'canteen_meals'
    union all
    select school_code, null, unnest(['files_expected', 'files_received', 'files_on_time']),
           unnest([expected, received, on_time])
    from completeness
)
select 'school' as geo_level, v.school_code as geo_code, s.name_fr as geo_name_fr, s.name_ar as geo_name_ar,
       $year as school_year, v.month, v.indicator, v.value::double as value
from school_values v
join core.school_year_version s on s.school_year = $year and s.school_code = v.school_code;
