-- Open issues of one record type ($rt) of a partition, per rule and severity (the quality_suite check).
select rule, severity, count(*) as n
from ops.row_issue
where status = 'open' and record_type = $rt and school_year = $year and province_code = $province
group by all order by rule
