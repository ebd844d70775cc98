-- fct_boarding_grant: one row per pupil and school with a boarding, half-board or canteen grant in
-- a school year; months granted run from start_month to end_month (June when absent).
with grants as (
    select g.*, coalesce(g.status, 'granted') as grant_status,
           coalesce(g.end_month, (left(g.school_year, 4)::integer + 1) || '-06') as last_month
    from staging.boarding_grants g
    where g.school_year = $year and g.province_code = $province
      and not g.is_quarantined and not g.is_duplicate_copy
), rates as (
    select rule_key as grant_type, value_num / 3 as monthly_rate from core.programme_rule
    where school_year = $year and programme = 'boarding' and rule = 'quarterly_rate_mad'
), months as (
    select g.file_path, g.file_version, g.row_number, g.sheet, count(distinct d.month) as months_granted
    from grants g
    join core.dim_date d on d.school_year = g.school_year and d.month between g.start_month and g.last_month
    group by all
)
select g.school_year, g.province_code, v.school_key, g.school_code, core.pupil_key(g.massar_code) as pupil_key,
       g.grant_type, g.grant_status as status, g.start_month, g.end_month,
       coalesce(m.months_granted, 0)::integer as months_granted, r.monthly_rate as monthly_rate_mad,
       round(coalesce(m.months_granted, 0) * r.monthly_rate, 2) as amount_mad,
       g.file_path, g.file_version, g.sheet, g.row_number
from grants g
left join months m on m.file_path = g.file_path and m.file_version = g.file_version
                  and m.row_number = g.row_number and m.sheet is not distinct from g.sheet
left join rates r using (grant_type)
join core.school_year_version v on v.school_year = g.school_year and v.school_code = g.school_code
