"""Warehouse-level checks in SQL: referential integrity of the facts, reconciliation of facts with
the accepted staging rows, and additivity of the indicators across levels.

Each check returns a `CheckOutcome` with counts and a few failing examples; the Dagster asset
checks in `assets/` turn them into results shown in the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

# fact table -> (staging table it reconciles with, foreign keys to check: column -> dimension key)
FACTS = {
    "fct_enrolment": ("students", {"school_key": "dim_school", "pupil_key": "dim_pupil", "level_code": "dim_level"}),
    "fct_attendance": ("attendance", {"school_key": "dim_school", "date_key": "dim_date"}),
    "fct_tayssir_payment": ("tayssir_payments", {"school_key": "dim_school"}),
    "fct_schoolbag": ("schoolbags", {"school_key": "dim_school", "level_code": "dim_level"}),
    "fct_boarding_grant": ("boarding_grants", {"school_key": "dim_school"}),
    "fct_canteen_month": ("canteen_meals", {"school_key": "dim_school", "date_key": "dim_date"}),
    "fct_tayssir_month": (None, {"school_key": "dim_school", "date_key": "dim_date", "pupil_key": "dim_pupil"}),
}
DIM_KEYS = {"dim_school": "school_key", "dim_pupil": "pupil_key", "dim_level": "level_code", "dim_date": "date_key"}
PARTITION = "school_year = $year and province_code = $province"


@dataclass
class CheckOutcome:
    passed: bool
    metadata: dict = field(default_factory=dict)


def referential_integrity(con: duckdb.DuckDBPyConnection, fact: str, school_year: str, province: str) -> CheckOutcome:
    """Every foreign key of the fact's partition rows exists in its dimension."""
    params = {"year": school_year, "province": province}
    meta, passed = {}, True
    for column, dim in FACTS[fact][1].items():
        orphans = con.execute(f"""
            select count(*), list(distinct f.{column}::varchar)[1:5] from core.{fact} f
            where f.school_year = $year and f.province_code = $province
              and not exists (select 1 from core.{dim} d where d.{DIM_KEYS[dim]} = f.{column})
        """, params).fetchone()
        meta[f"orphan_{column}"] = int(orphans[0])
        if orphans[0]:
            passed = False
            meta[f"orphan_{column}_examples"] = ", ".join(orphans[1] or [])
    return CheckOutcome(passed, meta)


def reconciliation(con: duckdb.DuckDBPyConnection, fact: str, school_year: str, province: str) -> CheckOutcome:
    """The fact's partition rows equal the accepted, de-duplicated staging rows they come from
    (for Tayssir months: accepted beneficiaries × school months)."""
    params = {"year": school_year, "province": province}
    facts = con.execute(f"select count(*) from core.{fact} where {PARTITION}", params).fetchone()[0]
    source = FACTS[fact][0]
    if source:
        expected = con.execute(f"""
            select count(*) from staging.{source}
            where {PARTITION} and not is_quarantined and not is_duplicate_copy
        """, params).fetchone()[0]
    else:
        expected = con.execute(f"""
            select count(*) * (select count(distinct month) from core.dim_date where school_year = $year)
            from staging.tayssir_beneficiaries
            where {PARTITION} and not is_quarantined and not is_duplicate_copy
        """, params).fetchone()[0]
    return CheckOutcome(facts == expected, {"fact_rows": int(facts), "accepted_staging_rows": int(expected)})


def levels_add_up(con: duckdb.DuckDBPyConnection, school_year: str) -> CheckOutcome:
    """Province = sum of its schools, region = sum of its provinces, nation = sum of the regions."""
    mismatches = con.execute("""
        with school as (
            select s.province_code, coalesce(i.month, '') as month, i.indicator, sum(i.value) as v
            from mart.indicators i
            join core.school_year_version s on s.school_year = i.school_year and s.school_code = i.geo_code
            where i.school_year = $year and i.geo_level = 'school' group by all
        ), province as (
            select geo_code as province_code, coalesce(month, '') as month, indicator, value as v
            from mart.indicators where school_year = $year and geo_level = 'province'
        ), region_sum as (
            select g.region_code, p.month, p.indicator, sum(p.v) as v
            from province p join core.dim_geography g using (province_code) group by all
        ), region as (
            select geo_code as region_code, coalesce(month, '') as month, indicator, value as v
            from mart.indicators where school_year = $year and geo_level = 'region'
        ), nation_sum as (
            select month, indicator, sum(v) as v from region group by all
        ), nation as (
            select coalesce(month, '') as month, indicator, value as v from mart.indicators
            where school_year = $year and geo_level = 'national'
        )
        select 'province ' || coalesce(a.province_code, b.province_code) || ' ' || coalesce(a.indicator, b.indicator)
        from school a full join province b using (province_code, month, indicator)
        where abs(coalesce(a.v, 0) - coalesce(b.v, 0)) > 1e-6
        union all
        select 'region ' || coalesce(a.region_code, b.region_code) || ' ' || coalesce(a.indicator, b.indicator)
        from region_sum a full join region b using (region_code, month, indicator)
        where abs(coalesce(a.v, 0) - coalesce(b.v, 0)) > 1e-6
        union all
        select 'national ' || coalesce(a.indicator, b.indicator)
        from nation_sum a full join nation b using (month, indicator)
        where abs(coalesce(a.v, 0) - coalesce(b.v, 0)) > 1e-6
    """, {"year": school_year}).fetchall()
    return CheckOutcome(not mismatches, {"mismatches": len(mismatches),
                                         "examples": "; ".join(m[0] for m in mismatches[:5])})


def file_accounting(con: duckdb.DuckDBPyConnection, school_year: str, province: str) -> CheckOutcome:
    """For every loaded file of the partition: rows_read = rows_loaded + rows_quarantined."""
    bad = con.execute(f"""
        select count(*), list(file_path)[1:5] from ops.file_manifest
        where {PARTITION} and status = 'loaded'
          and (rows_read is null or rows_read <> rows_loaded + rows_quarantined)
    """, {"year": school_year, "province": province}).fetchone()
    return CheckOutcome(bad[0] == 0, {"files_unbalanced": int(bad[0]), "examples": ", ".join(bad[1] or [])})


def pupil_in_two_schools(con: duckdb.DuckDBPyConnection, school_year: str, province: str) -> CheckOutcome:
    """No pupil of the partition has attendance at two schools in the same month (a transfer is
    counted at both schools, as the contract says; many of them point at roster errors)."""
    row = con.execute("""
        with mine as (
            select distinct pupil_key, month, school_code from core.fct_attendance
            where school_year = $year and province_code = $province
        ), twice as (
            select m.pupil_key, m.month, m.school_code, a.school_code as other_school
            from mine m join core.fct_attendance a
              on a.school_year = $year and a.pupil_key = m.pupil_key and a.month = m.month
             and a.school_code <> m.school_code
        )
        select count(distinct (pupil_key, month)), count(distinct pupil_key),
               list(distinct school_code || '+' || other_school || ' ' || month)[1:5]
        from twice
    """, {"year": school_year, "province": province}).fetchone()
    # Examples name schools and months, never a pupil: the check's metadata is shown to everyone.
    return CheckOutcome(row[0] == 0, {"pupil_months_in_two_schools": int(row[0]), "pupils": int(row[1]),
                                      "examples": ", ".join(row[2] or [])})
