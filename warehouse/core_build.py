"""Staging → `core` facts of one (school year, directorate) partition, in the caller's transaction."""

from __future__ import annotations

import duckdb
import yaml

from daam.config import CONFIG_DIR, load_settings
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
        # a school that opens or closes during the year owes only the months it is open: a
        # completeness rate can then never pass 100 %
        join = ("join months m on (s.opened_on is null or s.opened_on <= last_day((m.month || '-01')::date))"
                " and (s.closed_on is null or s.closed_on >= (m.month || '-01')::date)"
                if rule["frequency"] == "monthly" else "")
        parts.append(f"select s.school_key, s.school_code, '{record_type}' as record_type, {period} as period "
                     f"from open_schools s {join} where {' and '.join(conds) or 'true'}")
    return "\nunion all\n".join(parts)


def deadlines_sql() -> str:
    """SQL rows (record_type, due_month, due_day, days_after_month) of configs/completeness.yaml
    `deadlines` (see `Settings.deadline`, which computes the same dates in Python)."""
    rows = []
    for record_type, rule in load_settings().deadlines.items():
        if "days_after_month" in rule:
            rows.append(f"({_sql_literal(record_type)}, null, null, {int(rule['days_after_month'])})")
        else:
            month, day = (int(x) for x in str(rule["date"]).split("-"))
            rows.append(f"({_sql_literal(record_type)}, {month}, {day}, null)")
    body = ", ".join(rows) or "(null, null, null, null)"
    return f"select * from (values {body}) d(record_type, due_month, due_day, days_after_month)"


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
            -- received when a version loaded; when: the first version that loaded (a later
            -- correction does not make an on-time submission late)
            select school_code, record_type, period, min(received_at) as received_at
            from ops.file_manifest
            where status in ('loaded', 'superseded') and school_year = $year and province_code = $province
              and school_code is not null
            group by all
            having count(*) filter (status = 'loaded') > 0
        ), deadlines as ({deadlines_sql()}),
        submissions as (
            select $year as school_year, $province as province_code,
                   coalesce(e.school_key, v.school_key) as school_key, coalesce(e.school_code, r.school_code) as school_code,
                   coalesce(e.record_type, r.record_type) as record_type, coalesce(e.period, r.period) as period,
                   e.school_code is not null as is_expected, r.school_code is not null as is_received, r.received_at
            from expected e
            full join received r on r.school_code = e.school_code and r.record_type = e.record_type
                                and r.period is not distinct from e.period
            left join core.school_year_version v on v.school_year = $year and v.school_code = r.school_code
        ), due as (
            select s.*,
                   case when d.days_after_month is not null and s.period is not null
                          then ((s.period || '-01')::date + interval 1 month + to_days(d.days_after_month::integer - 1))::date
                        when d.due_month is not null
                          then make_date(left($year, 4)::integer + (d.due_month < 9)::integer, d.due_month, d.due_day)
                   end as deadline
            from submissions s left join deadlines d using (record_type)
        )
        select school_year, province_code, school_key, school_code, record_type, period, is_expected, is_received,
               received_at, deadline,
               case when is_received and deadline is not null and received_at is not null
                    then received_at < deadline + interval 1 day end as is_on_time
        from due
    """, params)
