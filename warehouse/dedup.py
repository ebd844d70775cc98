"""Beneficiary de-duplication: one pupil at two schools, one household across schools, one person
under two Massar codes.

Per school year, over every directorate at once (a pupil can move between directorates):

- **`mart.pupil_in_two_schools`** — exact duplicates: one Massar code (`pupil_key`) on two or more
  schools' accepted rosters (`kind = 'roster'`, one row per school month) or active on two or more
  schools' Tayssir lists in the same month (`kind = 'tayssir'`), with the schools, their
  directorates and the school that *holds* the pupil that month: the one school that reported
  the pupil's attendance that month, else the school whose roster arrived last
  (`holding_basis` says which).
- **`mart.household`**, **`mart.household_member`** — pupils grouped by the guardian CIN of the
  rosters, under a pseudonymous `guardian_key` (a deterministic hash of the CIN, like
  `pupil_key`): children, schools, directorates and Tayssir beneficiaries of each household.
- **`ops.duplicate_candidate`** — fuzzy duplicates for review: two Massar codes with the same
  normalised Arabic full name (`daam.arabic`), birth date and school commune. New pairs are
  `needs_review`; a reviewer sets `unique` or `duplicate` (`set_review`) and later computations
  keep that; pairs no longer found get `resolved_at` and are never deleted.

The mart tables are replaced whole for the school year; the review table is merged. No name,
birth date or CIN is written to any of them: reviewers look names up in `core.pupil_identity`
by `pupil_key`.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from daam.arabic import name_keys
from warehouse.db import transaction
from warehouse.schema import run_sql

REVIEW_STATES = ("unique", "duplicate", "needs_review")


def ensure_dedup_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the de-duplication tables and the `core.guardian_key` macro if missing (idempotent)."""
    run_sql(con, "dedup_tables.sql")


def school_years(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The school years that have rosters or Tayssir lists in `core`."""
    rows = con.execute("""
        select school_year from core.pupil_identity
        union select school_year from core.fct_enrolment
        union select school_year from core.fct_tayssir_month
        order by 1
    """).fetchall()
    return [r[0] for r in rows if r[0] is not None]


def _register_names(con: duckdb.DuckDBPyConnection, school_year: str) -> int:
    """Temp table `dedup_names(raw, name_key)`: every distinct last name, first name and birth place
    of the year, normalised once each in Python (set-based matching then runs in SQL)."""
    raw = con.execute("""
        select distinct v as raw from (
            select last_name_ar as v from core.pupil_identity where school_year = $year
            union all select first_name_ar from core.pupil_identity where school_year = $year
            union all select birth_place from core.pupil_identity where school_year = $year
        ) where v is not null
    """, {"year": school_year}).df()
    frame = pd.DataFrame({"raw": raw["raw"].astype("str"), "name_key": name_keys(raw["raw"])})
    con.register("dedup_names_frame", frame)
    try:
        con.execute("create or replace temp table dedup_names as "
                    "select raw::varchar as raw, name_key::varchar as name_key from dedup_names_frame")
    finally:
        con.unregister("dedup_names_frame")
    return len(frame)


def build_year(con: duckdb.DuckDBPyConnection, school_year: str, now: datetime) -> dict[str, int]:
    """Recompute one school year, in the caller's transaction; counts for that year."""
    params = {"year": school_year}
    run_sql(con, "mart/dedup.sql", params)
    names = _register_names(con, school_year)
    run_sql(con, "dedup_candidates.sql", {"year": school_year, "now": now})
    con.execute("drop table if exists dedup_names")
    exact = con.execute("""
        select count(distinct pupil_key) filter (where kind = 'roster'),
               count(*) filter (where kind = 'tayssir'),
               count(distinct pupil_key) filter (where kind = 'tayssir'),
               count(distinct pupil_key) filter (where crosses_directorates)
        from mart.pupil_in_two_schools where school_year = $year
    """, params).fetchone()
    households = con.execute("""
        select count(*), count(*) filter (where schools > 1), count(*) filter (where directorates > 1)
        from mart.household where school_year = $year
    """, params).fetchone()
    candidates = con.execute("""
        select count(*) filter (where resolved_at is null),
               count(*) filter (where first_seen_at = $now),
               count(*) filter (where resolved_at = $now),
               count(*) filter (where resolved_at is null and state = 'needs_review')
        from ops.duplicate_candidate where school_year = $year
    """, {"year": school_year, "now": now}).fetchone()
    return {
        "pupils_on_two_rosters": int(exact[0]),
        "pupil_months_on_two_tayssir_lists": int(exact[1]),
        "pupils_on_two_tayssir_lists": int(exact[2]),
        "pupils_across_directorates": int(exact[3]),
        "households": int(households[0]),
        "households_across_schools": int(households[1]),
        "households_across_directorates": int(households[2]),
        "distinct_names_normalised": names,
        "candidates_open": int(candidates[0]),
        "candidates_new": int(candidates[1]),
        "candidates_resolved": int(candidates[2]),
        "candidates_needs_review": int(candidates[3]),
    }


def build_dedup(con: duckdb.DuckDBPyConnection, school_year: str | None = None) -> dict:
    """Find beneficiaries counted twice, for one school year or (`None`) every year in `core`.

    Replaces the year's rows of `mart.pupil_in_two_schools` (one Massar code on two schools'
    rosters, or active on two Tayssir lists in a month, with the school holding the pupil each
    month), `mart.household` and `mart.household_member` (children by hashed guardian CIN), and
    merges `ops.duplicate_candidate` (same normalised Arabic name, birth date and commune under two
    Massar codes) keeping reviewers' decisions. Each year commits on its own transaction, so do
    not call this inside an open transaction. Returns counts summed over the years, for the run's
    metadata: pupils on two rosters, pupil-months on two Tayssir lists, households, candidate
    pairs open / new / resolved / waiting for review.
    """
    ensure_dedup_tables(con)
    years = [school_year] if school_year else school_years(con)
    now = datetime.now()
    totals: dict[str, int] = {}
    for year in years:
        with transaction(con):
            counts = build_year(con, year, now)
        for name, value in counts.items():
            totals[name] = totals.get(name, 0) + value
    return {"school_years": len(years), **totals}


def set_review(con: duckdb.DuckDBPyConnection, school_year: str, pupil_key_a: int, pupil_key_b: int,
               state: str, reviewed_by: str, note: str | None = None) -> bool:
    """Record a reviewer's decision on a candidate pair (`unique`, `duplicate` or back to
    `needs_review`); the keys may come in either order. True when the pair exists."""
    if state not in REVIEW_STATES:
        raise ValueError(f"state must be one of {', '.join(REVIEW_STATES)}, not {state!r}")
    a, b = sorted((pupil_key_a, pupil_key_b))
    changed = con.execute("""
        update ops.duplicate_candidate
        set state = $state, reviewed_by = $who, reviewed_at = $at, note = coalesce($note, note)
        where school_year = $year and pupil_key_a = $a and pupil_key_b = $b
    """, {"state": state, "who": reviewed_by, "at": datetime.now(), "note": note, "year": school_year,
          "a": a, "b": b}).fetchone()[0]
    return changed > 0
