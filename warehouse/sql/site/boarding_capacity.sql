-- Boarding places per school with a boarding house, and per directorate and region (the page's
-- scope: the product's schools).
with schools as (
    select school_code, province_code, region_code, boarding_capacity
    from core.school_year_version where school_year = $year and has_boarding
)
select 'school' as geo_level, school_code as geo_code, sum(boarding_capacity) as capacity from schools group by all
union all
select 'province', province_code, sum(boarding_capacity) from schools group by all
union all
select 'region', region_code, sum(boarding_capacity) from schools group by all
