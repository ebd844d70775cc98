-- mart.tayssir_reconciliation for one (school year, directorate): each beneficiary's entitlement
-- per instalment against the operator's payment lines for the months of that school year
-- (period_from), wherever the line's file sits. What was due and not collected (lines unclaimed or
-- cancelled, up to the part of the due list left unpaid) goes onto the next instalment's due
-- list, instalment after instalment. A payment line's instalment is the instalment whose months
-- hold its period_from (configs/programme_rules.yaml).
with recursive instalments as (
    select rule_key::integer as instalment, value_num::integer as month_of_year
    from core.programme_rule where school_year = $year and programme = 'tayssir' and rule = 'instalments'
), due as (
    select t.school_code, t.pupil_key, i.instalment,
           count(*) filter (t.is_compliant) as months_due, sum(t.entitlement_mad) as entitlement_mad,
           string_agg(distinct t.reason_not_paid, ',' order by t.reason_not_paid) as reasons_not_due
    from core.fct_tayssir_month t
    join instalments i on i.month_of_year = right(t.month, 2)::integer
    where t.school_year = $year and t.province_code = $province
    group by all
), lines as (
    select p.pupil_key, i.instalment, min(p.school_code) as school_code,
           coalesce(sum(p.amount_mad) filter (p.status = 'paid'), 0) as paid_mad,
           coalesce(sum(p.amount_mad) filter (p.status in ('unclaimed', 'cancelled')), 0) as not_collected_mad,
           count(*) as payment_lines
    from core.fct_tayssir_payment p
    join instalments i on i.month_of_year = right(p.period_from, 2)::integer
    where p.province_code = $province and p.period_school_year = $year
    group by all
), pupils as (
    select distinct pupil_key, school_code from due
    union
    select distinct pupil_key, school_code from lines
    where pupil_key not in (select pupil_key from due)
), grid as (
    select p.school_code, p.pupil_key, i.instalment
    from pupils p cross join (select distinct instalment from instalments) i
), joined as (
    select g.school_code, g.pupil_key, g.instalment, coalesce(d.months_due, 0) as months_due,
           coalesce(d.entitlement_mad, 0)::decimal(14, 2) as entitlement_mad,
           coalesce(l.paid_mad, 0)::decimal(14, 2) as paid_mad,
           coalesce(l.not_collected_mad, 0)::decimal(14, 2) as not_collected_mad,
           coalesce(l.payment_lines, 0) as payment_lines, d.reasons_not_due
    from grid g
    left join due d using (school_code, pupil_key, instalment)
    left join lines l on l.pupil_key = g.pupil_key and l.instalment = g.instalment
), chain as (
    select j.*, 0::decimal(14, 2) as carried_over_mad, j.entitlement_mad as due_mad
    from joined j where j.instalment = (select min(instalment) from instalments)
    union all
    select j.*, c.carry, (j.entitlement_mad + c.carry)::decimal(14, 2)
    from (select *, least(not_collected_mad, greatest(due_mad - paid_mad, 0))::decimal(14, 2) as carry
          from chain) c
    join joined j on j.pupil_key = c.pupil_key and j.school_code = c.school_code and j.instalment = c.instalment + 1
)
select $year as school_year, $province as province_code, school_code, pupil_key, instalment, months_due,
       entitlement_mad, carried_over_mad, due_mad, paid_mad, not_collected_mad, payment_lines, reasons_not_due,
       case when due_mad = 0 and paid_mad = 0 then 'nothing_due'
            when due_mad = 0 then 'paid_not_due'
            when paid_mad = 0 then 'unpaid_due'
            when paid_mad = due_mad then 'paid_as_due'
            else 'amount_mismatch' end as class
from chain
