-- Outliers still to follow up, per metric and status ($province: null for all).
select metric, status, count(*) as values_flagged, count(distinct school_code) as schools
from ops.outlier
where status <> 'resolved' and ($province is null or province_code = $province)
group by all order by metric, status
