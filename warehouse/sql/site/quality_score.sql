-- The page's unit's quality score per month of monitoring runs.
select run_month, completeness, timeliness, validity, score, open_outliers
from mart.quality_score
where school_year = $year and geo_level = $level and geo_code = $code
order by run_month
