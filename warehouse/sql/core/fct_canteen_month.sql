-- fct_canteen_month: one row per school and school month of canteen (meal supplement) service.
with rate as (
    select value_num as meal_rate from core.programme_rule
    where school_year = $year and programme = 'canteen' and rule = 'meal_rate_mad'
)
select c.school_year, c.province_code, v.school_key, c.school_code, c.period as month,
       (replace(c.period, '-', '') || '01')::integer as date_key, c.beneficiaries, c.meal_days, c.meals_served,
       rate.meal_rate as meal_rate_mad, round(c.meals_served * rate.meal_rate, 2) as cost_mad,
       c.file_path, c.file_version, c.sheet, c.row_number
from staging.canteen_meals c
cross join rate
join core.school_year_version v on v.school_year = c.school_year and v.school_code = c.school_code
where c.school_year = $year and c.province_code = $province
  and not c.is_quarantined and not c.is_duplicate_copy
