-- Outliers to follow up (`daam outlier list`), with their short id (ops/outlier_id.sql): those whose
-- status is in $statuses, of directorate $province, school year $year and metric $metric (each
-- null for all), by directorate, school and period. The period is the month, or the school year
-- for a yearly metric.
select outlier_id(school_year, month, school_code, metric) as id,
       province_code as province, school_code as school, metric,
       coalesce(nullif(month, ''), school_year) as period,
       round(value, 3) as value, round(peer_median, 3) as peer_median, round(score, 2) as score,
       status, reviewed_by, strftime(reviewed_at, '%Y-%m-%d %H:%M') as reviewed_at, note
from ops.outlier
where list_contains($statuses::varchar[], status)
  and ($province::varchar is null or province_code = $province)
  and ($year::varchar is null or school_year = $year)
  and ($metric::varchar is null or metric = $metric)
order by province_code, school_code, school_year, month, metric
