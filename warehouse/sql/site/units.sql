-- The names of the units a page shows, in both languages, with their directorate and region.
select geo_level, geo_code, name_fr, name_ar, province_code, region_code
from core.geo_unit where school_year = $year and geo_level in $levels
