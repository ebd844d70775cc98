-- Completeness and timeliness of the monthly files per unit and school month (the heat maps).
select geo_level, geo_code, month, files_expected, files_received, files_on_time, completeness, timeliness
from mart.submission_month where school_year = $year and geo_level in $levels
