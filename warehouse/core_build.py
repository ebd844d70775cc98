"""Staging → `core` facts of one (school year, directorate) partition, in the caller's transaction."""

from __future__ import annotations

import duckdb
import yaml

from daam.config import CONFIG_DIR
from warehouse.schema import run_sql

FACT_FILES = ("fct_enrolment", "fct_attendance", "fct_tayssir_month", "fct_tayssir_payment", "fct_schoolbag",
              "fct_boarding_grant", "fct_canteen_month")


def _sql_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


def expected_submissions_sql() -> str:
    """SQL listing, per school of the partition, each (record type, period) it is expected to send."""
    with (CONFIG_DIR / "completeness.yaml").open(encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)["expected_submissions"]
    parts = []
    for record_type, rule in doc.items():
        conds = [f"s.{col} in ({', '.join(_sql_literal(v) for v in values)})"
                 for col, values in (rule.get("where") or {}).items()]
        period = "m.month" if rule["frequency"] == "monthly" else "null"
        join = "join months m on true" if rule["frequency"] == "monthly" else ""
        parts.append(f"select s.school_key, s.school_code, '{record_type}' as record_type, {period} as period "
                     f"from open_schools s {join} where {' and '.join(conds) or 'true'}")
    return "\nunion all\n".join(parts)


def build_core_partition(con: duckdb.DuckDBPyConnection, school_year: str, province_code: str) -> None:
    """Replace every fact's rows of the partition from the accepted staging rows."""
    params = {"year": school_year, "province": province_code}
    for name in FACT_FILES:
        run_sql(con, f"core/{name}.sql", params)
    con.execute("delete from core.fct_submission where school_year = $year and province_code = $province", params)
    con.execute(f"""
        insert into core.fct_submission
        with open_schools as (
            select * from core.school_year_version
            where school_year = $year and province_code = $province
              and (opened_on is null or opened_on <= make_date(left($year, 4)::integer + 1, 6, 30))
              and (closed_on is null or closed_on >= make_date(left($year, 4)::integer, 9, 1))
        ), months as (select distinct month from core.dim_date where school_year = $year),
        expected as ({expected_submissions_sql()}),
        received as (
            select distinct school_code, record_type, period from ops.file_manifest
            where status = 'loaded' and school_year = $year and province_code = $province
              and school_code is not null
        )
        select $year, $province, coalesce(e.school_key, v.school_key), coalesce(e.school_code, r.school_code),
               coalesce(e.record_type, r.record_type), coalesce(e.period, r.period),
               e.school_code is not null, r.school_code is not null
        from expected e
        full join received r on r.school_code = e.school_code and r.record_type = e.record_type
                            and r.period is not distinct from e.period
        left join core.school_year_version v on v.school_year = $year and v.school_code = r.school_code
    """, params)
