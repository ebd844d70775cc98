-- Every day of every configured school year (1 September to 30 June).
with bounds as (
    select school_year,
           make_date(left(school_year, 4)::integer, 9, 1) as first_day,
           make_date(left(school_year, 4)::integer + 1, 6, 30) as last_day
    from (select distinct school_year from core.school_calendar)
), days as (
    select b.school_year, unnest(generate_series(b.first_day, b.last_day, interval 1 day))::date as d
    from bounds b
)
select (year(d) * 10000 + month(d) * 100 + day(d))::integer as date_key,
       d as date,
       strftime(d, '%Y-%m') as month,
       school_year,
       (case when month(d) >= 9 then month(d) - 8 else month(d) + 4 end)::integer as school_month_rank,
       year(d)::integer as year,
       month(d)::integer as month_of_year,
       isodow(d)::integer as day_of_week
from days
