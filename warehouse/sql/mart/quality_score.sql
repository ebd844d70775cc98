-- The data-quality score of the last monitoring run of each calendar month, per school,
-- directorate, region and nation: validity (1 - error-rule failures / checks), completeness,
-- timeliness, open outliers, and score = 100 x their weighted mean (core.quality_score_weight);
-- a component with nothing to measure is left out of the mean. A level's rates are ratios of its
-- sums: each history row counts at its own unit (a school, or the directorate for its own files)
-- and every unit above it (core.geo_ancestor).
with runs as (
    select distinct run_id, run_at from ops.quality_history
), last_runs as (
    select strftime(run_at, '%Y-%m') as run_month, arg_max(run_id, run_at) as run_id
    from runs group by 1
), h as (
    select l.run_month, q.*,
           case when q.school_code is not null then 'school' else 'province' end as own_level,
           coalesce(q.school_code, q.province_code) as own_code
    from ops.quality_history q
    join last_runs l using (run_id)
), levels as (
    select run_month, school_year, own_level as geo_level, own_code as geo_code, rule, severity,
           failing_count, examined_count
    from h
    union all
    select h.run_month, h.school_year, a.ancestor_level, a.ancestor_code, h.rule, h.severity,
           h.failing_count, h.examined_count
    from h
    join core.geo_ancestor a on a.school_year = h.school_year and a.geo_level = h.own_level
                            and a.geo_code = h.own_code
), sums as (
    select run_month, school_year, geo_level, geo_code,
           sum(examined_count) filter (severity = 'error' and rule not in ('completeness', 'timeliness'))
             as rule_checks,
           sum(failing_count) filter (severity = 'error' and rule not in ('completeness', 'timeliness'))
             as rule_failures,
           sum(examined_count) filter (rule = 'completeness') as submissions_expected,
           sum(examined_count - failing_count) filter (rule = 'completeness') as submissions_received,
           sum(examined_count) filter (rule = 'timeliness') as submissions_assessed,
           sum(examined_count - failing_count) filter (rule = 'timeliness') as submissions_on_time,
           coalesce(sum(failing_count) filter (starts_with(rule, 'outlier:')), 0) as open_outliers
    from levels group by all
), rates as (
    select *, 1 - rule_failures / nullif(rule_checks, 0) as validity,
           submissions_received / nullif(submissions_expected, 0) as completeness,
           submissions_on_time / nullif(submissions_assessed, 0) as timeliness
    from sums
), w as (
    select any_value(weight) filter (component = 'validity') as validity,
           any_value(weight) filter (component = 'completeness') as completeness,
           any_value(weight) filter (component = 'timeliness') as timeliness
    from core.quality_score_weight
)
select r.*,
       round(100 * (coalesce(w.validity * r.validity, 0) + coalesce(w.completeness * r.completeness, 0)
                    + coalesce(w.timeliness * r.timeliness, 0))
             / nullif((case when r.validity is null then 0 else w.validity end)
                      + (case when r.completeness is null then 0 else w.completeness end)
                      + (case when r.timeliness is null then 0 else w.timeliness end), 0), 1) as score
from rates r cross join w
