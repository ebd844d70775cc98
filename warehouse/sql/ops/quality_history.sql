-- Append one monitoring run ($run, $at) to ops.quality_history: per partition, school and record
-- type, every rule that checks it (core.quality_rule) with its failing rows out of the rows read
-- (zero failures included, so a trend can fall to zero), completeness (expected submissions not
-- received), timeliness (received late, of those whose arrival is known) and open outliers.
insert into ops.quality_history by name
with current_files as (
    select school_year, province_code, school_code, record_type, sum(rows_read) as rows_read
    from ops.file_manifest where status = 'loaded' and record_type <> 'schools'
    group by all
), failing as (
    select school_year, province_code, school_code, record_type, rule,
           count(distinct (file_path, file_version, sheet, row_number)) as n
    from ops.row_issue where status = 'open' and record_type <> 'schools'
    group by all
), outliers as (
    select school_year, province_code, school_code, metric,
           count(*) filter (status = 'open') as open_outliers
    from ops.outlier group by all
), history as (
    select f.school_year, f.province_code, f.school_code, f.record_type, a.rule, a.severity,
           coalesce(x.n, 0) as failing_count, f.rows_read as examined_count
    from current_files f
    join core.quality_rule a using (record_type)
    left join failing x on x.school_year is not distinct from f.school_year
         and x.province_code is not distinct from f.province_code
         and x.school_code is not distinct from f.school_code
         and x.record_type = f.record_type and x.rule = a.rule
    union all
    select school_year, province_code, school_code, record_type, 'completeness', 'warning', not_received, expected
    from core.submission_status where expected > 0
    union all
    select school_year, province_code, school_code, record_type, 'timeliness', 'warning', late, assessed
    from core.submission_status where assessed > 0
    union all
    select school_year, province_code, school_code, null, 'outlier:' || metric, 'warning', open_outliers, null
    from outliers where open_outliers > 0
)
select $run as run_id, $at as run_at, * from history;

select count(*) as rows_written from ops.quality_history where run_id = $run;
