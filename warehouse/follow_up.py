"""What people decide after the monitoring: a reviewer's verdict on a duplicate candidate pair."""

from __future__ import annotations

from datetime import datetime

import duckdb

from warehouse.schema import SQL

REVIEW_STATES = ("unique", "duplicate", "needs_review")


def set_review(con: duckdb.DuckDBPyConnection, school_year: str, pupil_key_a: int, pupil_key_b: int,
               state: str, reviewed_by: str, note: str | None = None) -> bool:
    """Record a reviewer's decision on a candidate pair (`unique`, `duplicate` or back to
    `needs_review`); the keys may come in either order. True when the pair exists."""
    if state not in REVIEW_STATES:
        raise ValueError(f"state must be one of {', '.join(REVIEW_STATES)}, not {state!r}")
    a, b = sorted((pupil_key_a, pupil_key_b))
    changed = SQL.row(con, "ops/set_review.sql", {"state": state, "who": reviewed_by, "at": datetime.now(),
                                                  "note": note, "year": school_year, "a": a, "b": b})
    return next(iter(changed.values())) > 0
