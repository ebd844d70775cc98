-- The staged rows of {{table}} of one partition: rows, quarantined, warned (the quality_suite check).
select count(*) as rows, count(*) filter (is_quarantined) as quarantined,
       count(*) filter (is_warned) as warned
from {{table}} where school_year = $year and province_code = $province
