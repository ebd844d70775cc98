-- School-level aggregates watched for outliers: one row per school, school year, month ('' for
-- yearly metrics) and metric. A school contributes only where it reported (not reported is not 0).
create or replace temp view outlier_metrics as
select school_year, province_code, school_code, month, 'absence_rate' as metric,
       sum(unjustified_absence_days + justified_absence_days)::double / nullif(sum(school_days), 0) as value
from core.fct_attendance group by all
union all
select school_year, province_code, school_code, '' as month, 'kits_requested_per_eligible',
       sum(kits_requested)::double / nullif(sum(eligible), 0)
from core.fct_schoolbag group by all
union all
select school_year, province_code, school_code, month, 'meals_per_beneficiary',
       sum(meals_served)::double / nullif(sum(beneficiaries), 0)
from core.fct_canteen_month group by all
union all
select school_year, province_code, school_code, month, 'entitlement_per_beneficiary',
       sum(entitlement_mad)::double / nullif(count(*) filter (is_active), 0)
from core.fct_tayssir_month group by all;
