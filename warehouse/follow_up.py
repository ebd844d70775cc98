"""What people decide after the monitoring: a reviewer's verdict on a duplicate candidate pair, and
a quality monitor's follow-up of an outlier (`daam outlier`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from warehouse.schema import SQL

REVIEW_STATES = ("unique", "duplicate", "needs_review")

# ops.outlier.status: set by the monitoring (open, resolved) or by a monitor (the others).
OUTLIER_STATES = ("open", "confirmed", "explained", "corrected", "resolved")
TO_FOLLOW_UP = ("open", "confirmed")  # what `daam outlier list` shows unless asked otherwise
OUTLIER_ID = "ops/outlier_id.sql"


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


class OutlierFollowUpError(ValueError):
    """A follow-up refused as a whole (nothing written): every problem, one per line."""


@dataclass(frozen=True)
class OutlierChange:
    """One outlier a follow-up names: its status before and after (`written` false when it was
    already so)."""

    id: str
    school_code: str
    metric: str
    period: str
    before: str
    after: str
    written: bool


def list_outliers(con: duckdb.DuckDBPyConnection, statuses: tuple[str, ...] = TO_FOLLOW_UP,
                  province: str | None = None, school_year: str | None = None,
                  metric: str | None = None) -> pd.DataFrame:
    """The outliers of those statuses (and directorate, school year, metric when given) with their
    short id, by directorate, school and period."""
    SQL.run(con, OUTLIER_ID)
    return SQL.query(con, "ops/outlier_list.sql", {"statuses": list(statuses), "province": province,
                                                   "year": school_year, "metric": metric}).df()


def follow_up_outliers(con: duckdb.DuckDBPyConnection, ids: list[str], status: str, reviewed_by: str,
                       note: str | None = None) -> list[OutlierChange]:
    """Set the outliers `ids` name (short ids or unique prefixes of them) to `status` (`confirmed`,
    `explained` or back to `open`), recording who, when and the note (the old note is kept when
    none is given). All or nothing: an id that names no outlier or several, or a resolved outlier
    (the monitoring no longer finds it), refuses the whole follow-up. An outlier already in that
    status, with no new note, is left as it is."""
    if status not in OUTLIER_STATES or status in ("resolved", "corrected"):
        raise ValueError(f"a monitor sets an outlier open, confirmed or explained, not {status!r}")
    SQL.run(con, OUTLIER_ID)
    prefixes = list(dict.fromkeys(i.strip().lower() for i in ids))
    rows = SQL.query(con, "ops/outlier_match.sql", {"prefixes": [p for p in prefixes if p]}).fetchall()
    matches: dict[str, list[tuple]] = {p: [] for p in prefixes}
    for prefix, *row in rows:
        if row[0] is not None:
            matches[prefix].append(tuple(row))
    problems, found = [], {}
    for prefix, named in matches.items():
        if not named:
            problems.append(f"no outlier has the id {prefix!r} (see `daam outlier list --status all`)" if prefix
                            else "an empty id names no outlier")
        elif len(named) > 1:
            problems.append(f"the id {prefix!r} is the start of {len(named)} outliers' ids "
                            f"({', '.join(r[0] for r in named)}): give more of it")
        elif named[0][4] == "resolved":
            oid, school, metric, period = named[0][:4]
            problems.append(f"outlier {oid} ({school}, {metric}, {period}) is resolved: the monitoring no longer "
                            f"finds it, there is nothing to follow up")
        else:
            found[named[0][0]] = named[0]
    if problems:
        raise OutlierFollowUpError("\n".join(problems))
    changes = [OutlierChange(oid, school, metric, period, before, status,
                             written=before != status or (note is not None and note != old_note))
               for oid, school, metric, period, before, old_note in found.values()]
    to_write = [c.id for c in changes if c.written]
    if to_write:
        SQL.run(con, "ops/set_outlier_status.sql", {"status": status, "who": reviewed_by, "at": datetime.now(),
                                                    "note": note, "ids": to_write})
    return changes
