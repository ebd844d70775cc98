"""Monitoring history and the data-quality score.

Every monitoring run appends to `ops.quality_history`, uncapped, one row per rule × partition ×
school × record type: how many rows failed the rule out of how many it examined (every rule
that applies to a record type the school sent gets its row, zero failures included, so a trend
can fall to zero), plus completeness (expected submissions not received), timeliness (received
after the deadline) and outliers (values flagged out of values assessed).

`mart.quality_score` turns the last run of each calendar month into a score per school,
directorate, region and nation: validity (share of rule checks passed by error rules),
completeness and timeliness, weighted by `configs/settings.yaml` `quality_score.weights`.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

import duckdb
import pandas as pd

from daam.config import RECORD_TYPES, load_settings
from quality_checks.catalogue import rules
from quality_checks.sql_rules import sql_rules_for
from quality_checks.suites import build_suite

NON_ROW_RULES = ("completeness", "timeliness")


@cache
def applicable_rules() -> pd.DataFrame:
    """(record_type, rule, severity) for every catalogue rule that checks that record type's rows."""
    settings = load_settings()
    catalogue = rules()
    rows = set()
    for rt in RECORD_TYPES:
        spec = settings.record_types[rt]
        gx_rules = {e.meta["rule"] for e in build_suite(spec, settings, settings.school_years[-1]).expectations}
        rows |= {(rt, r, catalogue[r].severity) for r in gx_rules | set(sql_rules_for(spec))}
    return pd.DataFrame(sorted(rows), columns=["record_type", "rule", "severity"])


def record_run(con: duckdb.DuckDBPyConnection, run_id: str, run_at: datetime | None = None) -> int:
    """Append this run's results to `ops.quality_history`; returns the rows written."""
    run_at = run_at or datetime.now()
    con.register("applicable", applicable_rules())
    try:
        # fetchall, not fetchone: an unfinished result would block `unregister` below (DuckDB 2)
        before = con.execute("select count(*) from ops.quality_history").fetchall()[0][0]
        con.execute("""
            insert into ops.quality_history
            with current_files as (
                select school_year, province_code, school_code, record_type, sum(rows_read) as rows_read
                from ops.file_manifest where status = 'loaded' and record_type <> 'schools'
                group by all
            ), failing as (
                select school_year, province_code, school_code, record_type, rule,
                       count(distinct (file_path, file_version, sheet, row_number)) as n
                from ops.row_issue where status = 'open' and record_type <> 'schools'
                group by all
            ), submissions as (
                select school_year, province_code, school_code, record_type,
                       count(*) filter (is_expected) as expected,
                       count(*) filter (is_expected and not is_received) as missing,
                       count(*) filter (is_expected and is_received) as received,
                       count(*) filter (is_expected and is_received and is_on_time is not null) as assessed,
                       count(*) filter (is_expected and is_received and not is_on_time) as late
                from core.fct_submission group by all
            ), outliers as (
                select school_year, province_code, school_code, metric,
                       count(*) filter (status = 'open') as open_outliers
                from ops.outlier group by all
            )
            select $run, $at, f.school_year, f.province_code, f.school_code, f.record_type, a.rule, a.severity,
                   coalesce(x.n, 0), f.rows_read
            from current_files f
            join applicable a using (record_type)
            left join failing x on x.school_year is not distinct from f.school_year
                 and x.province_code is not distinct from f.province_code
                 and x.school_code is not distinct from f.school_code
                 and x.record_type = f.record_type and x.rule = a.rule
            union all
            select $run, $at, school_year, province_code, school_code, record_type, 'completeness', 'warning',
                   missing, expected
            from submissions where expected > 0
            union all
            select $run, $at, school_year, province_code, school_code, record_type, 'timeliness', 'warning',
                   late, assessed
            from submissions where assessed > 0
            union all
            select $run, $at, school_year, province_code, school_code, null, 'outlier:' || metric, 'warning',
                   open_outliers, null
            from outliers where open_outliers > 0
        """, {"run": run_id, "at": run_at}).fetchall()
        after = con.execute("select count(*) from ops.quality_history").fetchall()[0][0]
    finally:
        con.unregister("applicable")
    return int(after - before)


def ensure_score_view(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create `mart.quality_score` with the configured weights."""
    w = load_settings().quality_score_weights
    con.execute(f"""
        create or replace view mart.quality_score as
        with runs as (
            select distinct run_id, run_at from ops.quality_history
        ), last_runs as (
            select strftime(run_at, '%Y-%m') as run_month, arg_max(run_id, run_at) as run_id
            from runs group by 1
        ), h as (
            select l.run_month, q.*, s.region_code
            from ops.quality_history q
            join last_runs l using (run_id)
            left join core.dim_geography s on s.province_code = q.province_code
        ), levels as (
            select run_month, school_year, 'school' as geo_level, school_code as geo_code, * exclude
                   (run_month, school_year, region_code, province_code, school_code)
            from h where school_code is not null
            union all
            select run_month, school_year, 'province', province_code, * exclude
                   (run_month, school_year, region_code, province_code, school_code)
            from h where province_code is not null
            union all
            select run_month, school_year, 'region', region_code, * exclude
                   (run_month, school_year, region_code, province_code, school_code)
            from h where region_code is not null
            union all
            select run_month, school_year, 'national', 'MA', * exclude
                   (run_month, school_year, region_code, province_code, school_code)
            from h
        ), sums as (
            select run_month, school_year, geo_level, geo_code,
                   sum(examined_count) filter (severity = 'error' and rule not in {NON_ROW_RULES}) as rule_checks,
                   sum(failing_count) filter (severity = 'error' and rule not in {NON_ROW_RULES}) as rule_failures,
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
        )
        select *, round(100 * (coalesce({w['validity']} * validity, 0) + coalesce({w['completeness']} * completeness, 0)
                               + coalesce({w['timeliness']} * timeliness, 0))
                    / nullif((case when validity is null then 0 else {w['validity']} end)
                             + (case when completeness is null then 0 else {w['completeness']} end)
                             + (case when timeliness is null then 0 else {w['timeliness']} end), 0), 1) as score
        from rates
    """)
