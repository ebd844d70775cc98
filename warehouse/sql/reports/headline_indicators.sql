-- Yearly indicators (months summed for monthly ones) of one level ($level; $code: null for all).
select geo_code, geo_name_fr, school_year, indicator, sum(value) as value
from mart.indicators
where geo_level = $level and ($code is null or geo_code = $code)
group by all order by geo_code, indicator, school_year
