"""The quality scorecard a monitor reads in a terminal (`daam quality`): completeness and
timeliness per record type, the rules failing most, the worst schools, open outliers."""

from __future__ import annotations

import duckdb
import pandas as pd

from quality_checks.catalogue import rules
from warehouse.db import scope_filter


def _where(province: str | None, alias: str = "") -> tuple[str, dict]:
    return scope_filter({"province_code": f"{alias}.province_code" if alias else "province_code"},
                        province_code=province)


def completeness(con: duckdb.DuckDBPyConnection, province: str | None = None) -> pd.DataFrame:
    """Per school year and record type: submissions expected, received, on time, not reported."""
    where, params = _where(province)
    return con.execute(f"""
        select school_year, record_type,
               count(*) filter (is_expected) as expected,
               count(*) filter (is_expected and is_received) as received,
               count(*) filter (is_expected and is_received and is_on_time) as on_time,
               count(*) filter (is_expected and not is_received) as not_reported,
               round(100.0 * count(*) filter (is_expected and is_received)
                     / nullif(count(*) filter (is_expected), 0), 1) as received_pct,
               -- of the submissions received whose arrival time is known
               round(100.0 * count(*) filter (is_expected and is_received and is_on_time)
                     / nullif(count(*) filter (is_expected and is_received and is_on_time is not null), 0), 1)
                 as on_time_pct
        from core.fct_submission where {where}
        group by all having count(*) filter (is_expected) > 0
        order by school_year, record_type
    """, params).df()


def rules_failing(con: duckdb.DuckDBPyConnection, province: str | None = None, limit: int = 15) -> pd.DataFrame:
    """Open issues per rule: rows and schools concerned, errors first."""
    where, params = _where(province)
    frame = con.execute(f"""
        select rule, severity, count(*) as open_issues, count(distinct school_code) as schools,
               count(distinct file_path) as files
        from ops.row_issue where status = 'open' and {where}
        group by all order by severity, open_issues desc limit {int(limit)}
    """, params).df()
    catalogue = rules()
    frame.insert(1, "problem", [catalogue[r].title_fr if r in catalogue else r for r in frame["rule"]])
    return frame


def worst_schools(con: duckdb.DuckDBPyConnection, province: str | None = None, limit: int = 10) -> pd.DataFrame:
    """The lowest scores of the latest monitoring run (empty before the first one)."""
    exists = con.execute("""select count(*) from information_schema.tables
                            where table_schema = 'mart' and table_name = 'quality_score'""").fetchone()[0]
    if not exists:
        return pd.DataFrame()
    where, params = _where(province, "s")
    return con.execute(f"""
        select q.school_year, q.geo_code as school_code, s.name_fr, s.province_code, q.score,
               round(100 * q.validity, 1) as validity_pct, round(100 * q.completeness, 1) as completeness_pct,
               round(100 * q.timeliness, 1) as timeliness_pct, q.rule_failures, q.open_outliers
        from mart.quality_score q
        join core.dim_school s on s.school_code = q.geo_code and s.is_current
        where q.geo_level = 'school' and q.run_month = (select max(run_month) from mart.quality_score)
          and q.score is not null and {where}
        order by q.score, q.geo_code limit {int(limit)}
    """, params).df()


def open_outliers(con: duckdb.DuckDBPyConnection, province: str | None = None) -> pd.DataFrame:
    where, params = _where(province)
    return con.execute(f"""
        select metric, status, count(*) as values_flagged, count(distinct school_code) as schools
        from ops.outlier where status <> 'resolved' and {where} group by all order by metric, status
    """, params).df()
