-- Every unit of the three levels and the nation in each configured school year: schools (their
-- referential version for the year), directorates, regions, and the nation (MA).
with years as (select distinct school_year from core.dim_date),
regions as (select distinct region_code, region_name_fr, region_name_ar from core.dim_geography)
select v.school_year, 'school' as geo_level, v.school_code as geo_code, v.name_fr, v.name_ar,
       v.province_code, g.region_code
from core.school_year_version v
left join core.dim_geography g using (province_code)
union all
select y.school_year, 'province', g.province_code, g.province_name_fr, g.province_name_ar, g.province_code,
       g.region_code
from years y cross join core.dim_geography g
union all
select y.school_year, 'region', r.region_code, r.region_name_fr, r.region_name_ar, null, r.region_code
from years y cross join regions r
union all
select y.school_year, 'national', 'MA', 'Maroc', 'المغرب', null, null
from years y
