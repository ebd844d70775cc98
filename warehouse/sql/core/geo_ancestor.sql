-- The roll-up school → directorate → region → nation, once: each unit with every unit above it
-- and how many levels up (`depth` 1 is the level just above).
with levels as (
    select * from (values ('school', 0), ('province', 1), ('region', 2), ('national', 3)) l(geo_level, rank)
), units as (
    select u.*, l.rank from core.geo_unit u join levels l using (geo_level)
)
select u.school_year, u.geo_level, u.geo_code, a.geo_level as ancestor_level, a.geo_code as ancestor_code,
       a.name_fr as ancestor_name_fr, a.name_ar as ancestor_name_ar, a.rank - u.rank as depth
from units u
join units a on a.school_year = u.school_year and a.rank > u.rank
            and (a.geo_level = 'national'
                 or (a.geo_level = 'region' and a.geo_code = u.region_code)
                 or (a.geo_level = 'province' and a.geo_code = u.province_code))
