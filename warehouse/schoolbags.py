"""Schoolbag needs audit and next-year forecast (تدقيق الحاجيات والتوقعات) of the royal
« un million de cartables » initiative, per (school year, provincial directorate).

Two mart tables, rebuilt per partition (delete + insert of that partition's rows, idempotent),
set-based DuckDB SQL in `sql/mart/schoolbag_*.sql`, counts per school × level only (no personal
data). "Not declared" is null, never zero; a school with no accepted roster has null computed
columns.

**`mart.schoolbag_needs`** — one row per school × level where the accepted roster has pupils
eligible by the rules, or the school declared a row:

- `rule_kit_type`: the kit that `configs/programme_rules.yaml` (`schoolbags.eligibility`, as
  flattened in `core.programme_rule`) gives the level in the school's milieu that year
  (`full_kit`, `books_supplies`, `books_only`; null: no kit);
- `computed_eligible` = pupils of the level on the accepted roster (`core.fct_enrolment`) when
  the rules give a kit, else 0;
- `declared_eligible`, `kits_requested`, `declared_kit_type`, `kits_received`,
  `kits_distributed`: the school's declaration (`core.fct_schoolbag`), null when not declared;
- `requested_gap` = kits_requested − computed_eligible; `eligible_gap` = declared_eligible −
  computed_eligible; `over_declared` = kits_requested > computed_eligible;
  `kit_type_mismatch` = declared kit type ≠ the rules' (a kit declared for a level the rules
  give none is a mismatch); `kits_undistributed` = kits_received − kits_distributed;
  `over_distributed` = kits_distributed > kits_received.

**`mart.schoolbag_forecast`** — one row per school × level of year Y+1, from year Y's roster.
For level L in Y with N_L pupils of whom R_L repeat, the repetition rate is ρ_L = R_L / N_L and:

- repeaters_staying(L) = ρ_L · N_L = R_L (they stay in L);
- promoted_in(L+1) = (1 − ρ_L) · N_L = N_L − R_L, L+1 being the level of next rank
  (`core.dim_level.rank`) in the school's cycle; pupils of the cycle's last level leave;
- intake at the cycle's entry level (1AP in primary; 1AC in collège, TC in lycée) = new entrants
  (pupils of the entry level not repeating) over the last up-to-3 years ≤ Y in which the school
  has roster rows in the directorate, extended one year by least squares:
  ŷ(Y+1) = ȳ + b · (x_{Y+1} − x̄), b = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)², x = the year's first
  calendar year; with one year, that year's value; rounded, floored at 0. 20, 24, 28 → 32;
- forecast_pupils(L) = repeaters_staying(L) + promoted_in(L) + intake(L);
- kits_needed(L) = forecast_pupils(L) when the rules give L a kit in the school's milieu, else 0,
  with Y+1's rules when `configs/programme_rules.yaml` lists Y+1, else Y's (`rules_year`);
- forecast_gap = the school's declared `forecast_next_year` for L (in Y) − forecast_pupils(L).

The school's milieu and cycle are those of its referential version for Y
(`core.school_year_version`); a school without a cycle takes the cycle of most of its roster.
"""

from __future__ import annotations

import duckdb

from warehouse.schema import run_sql

TABLES = ("mart.schoolbag_needs", "mart.schoolbag_forecast")


def ensure_schoolbag_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create `mart.schoolbag_needs` and `mart.schoolbag_forecast` if missing (idempotent)."""
    run_sql(con, "mart/schoolbag_tables.sql")


def build_schoolbag_audit(con: duckdb.DuckDBPyConnection, school_year: str, province: str) -> dict[str, int]:
    """Rebuild the partition's schoolbag needs audit and next-year forecast.

    Compares, per school and level, the kits each school declared with the pupils its accepted
    roster makes eligible under the year's rules, and forecasts next year's pupils and kits
    (promotion, repetition, entry-level intake trend) against the school's own forecast.
    Replaces only this (school year, directorate)'s rows; run it inside a transaction
    (`warehouse.db.transaction`) so analysts never see a half-rebuilt partition. Returns counts
    for the run's metadata.
    """
    params = {"year": school_year, "province": province}
    ensure_schoolbag_tables(con)
    run_sql(con, "mart/schoolbag_needs.sql", params)
    run_sql(con, "mart/schoolbag_forecast.sql", params)
    needs = con.execute("""
        select count(*), count(distinct school_code),
               count(*) filter (is_declared), count(*) filter (not is_declared and computed_eligible > 0),
               count(*) filter (over_declared), count(*) filter (kit_type_mismatch),
               count(*) filter (over_distributed),
               coalesce(sum(computed_eligible), 0), coalesce(sum(kits_requested), 0)
        from mart.schoolbag_needs where school_year = $year and province_code = $province
    """, params).fetchone()
    forecast = con.execute("""
        select count(*), coalesce(sum(forecast_pupils), 0), coalesce(sum(kits_needed), 0),
               coalesce(sum(declared_forecast), 0)
        from mart.schoolbag_forecast where school_year = $year and province_code = $province
    """, params).fetchone()
    keys = ("needs_rows", "schools", "levels_declared", "levels_eligible_not_declared", "over_declared",
            "kit_type_mismatch", "over_distributed", "computed_eligible", "kits_requested",
            "forecast_rows", "forecast_pupils", "kits_needed_next_year", "declared_forecast")
    return {k: int(v) for k, v in zip(keys, (*needs, *forecast), strict=True)}
