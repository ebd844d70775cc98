-- Open outliers per metric, for the monitoring run's metadata.
select metric, count(*) from ops.outlier where status = 'open' group by 1 order by 1
