"""The ops builder: the quality monitoring over the whole warehouse, run nightly (or `daam monitor`).

In order, after loading its seeds (outlier rules, quality rules, score weights) from configs/:

1. **Outliers** (`ops.outlier`, `ops/outlier.sql`): absence rate per school-month, kits requested per
   eligible pupil, meals per canteen beneficiary, Tayssir entitlement per active beneficiary, each
   school scored against the schools of the same directorate and cycle and period (modified z-score
   on median and MAD by default; z-score or configured bounds as options; groups under `min_peers`
   not assessed; configs/outliers.yaml). One row per school × metric × period ever flagged, with a
   follow-up status: `open` → `confirmed` / `explained` / `corrected` (set by a monitor); an `open`
   one that is no longer found becomes `resolved`. People's statuses are kept.
2. **Quality history** (`ops.quality_history`, appended, never overwritten): per rule × partition ×
   school × record type, failing rows out of rows read, every applicable rule included even at
   zero, plus completeness, timeliness and open outliers; `mart.quality_score` is a view over it.
3. **De-duplication**, per school year over every directorate (a pupil can move between them), one
   transaction per year: `mart.pupil_in_two_schools` (one Massar code on two schools' rosters or
   Tayssir lists, with the school holding the pupil each month), `mart.household` and
   `mart.household_member` (children by hashed guardian CIN), and `ops.duplicate_candidate`
   (same normalised Arabic name, birth date and commune under two Massar codes, for review;
   reviewers' decisions are kept, `warehouse/follow_up.py`). No name, birth date or CIN is written
   to any of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import duckdb
import pandas as pd

from daam.arabic import name_keys
from daam.config import PERIOD_RECORD_TYPES, RECORD_TYPES, load_settings, outlier_config
from daam.sqlfiles import registered
from quality_checks.types import DEFAULT_MAX_ROWS, Batch
from warehouse.build import Built, Scope, materialize
from warehouse.checks import CheckOutcome, CheckResult
from warehouse.db import log_step, transaction
from warehouse.registry import registry
from warehouse.schema import SQL
from warehouse.seeds import load_seeds


def _load_own_seeds(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """The configuration a step reads, from configs/ as it is now (an edit counts at the next run)."""
    load_seeds(con, load_settings(), [registry()[n] for n in names])


def detect_outliers(con: duckdb.DuckDBPyConnection, run_id: str, now: datetime | None = None) -> dict[str, int]:
    """Score every school value, then merge into `ops.outlier` keeping follow-up statuses."""
    _load_own_seeds(con, "core.outlier_rule")
    cfg = outlier_config()
    counts = SQL.row(con, "ops/outlier.sql", {"run": run_id, "now": now or datetime.now(),
                                              "peer_group": list(cfg.peer_group), "min_peers": cfg.min_peers})
    return {k: int(v) for k, v in counts.items()}


def record_history(con: duckdb.DuckDBPyConnection, run_id: str, run_at: datetime | None = None) -> int:
    """Append this run's results to `ops.quality_history`; returns the rows written."""
    _load_own_seeds(con, "core.quality_rule", "core.quality_score_weight")
    return int(SQL.row(con, "ops/quality_history.sql", {"run": run_id, "at": run_at or datetime.now()})["rows_written"])


def _dedup_models() -> list:
    """The monitoring's models replaced per school year: the de-duplication marts."""
    return [m for m in registry().built_by("ops") if m.materialized == "partition"]


def _register_names(con: duckdb.DuckDBPyConnection, school_year: str) -> int:
    """Temp table `dedup_names(raw, name_key)`: every distinct last name, first name and birth place
    of the year, normalised once each in Python (set-based matching then runs in SQL)."""
    raw = SQL.query(con, "ops/dedup_names.sql", {"year": school_year}).df()
    frame = pd.DataFrame({"raw": raw["raw"].astype("str"), "name_key": name_keys(raw["raw"])})
    with registered(con, dedup_names_frame=frame):
        SQL.run(con, "ops/dedup_names_table.sql")
    return len(frame)


def dedup_year(con: duckdb.DuckDBPyConnection, school_year: str, now: datetime) -> dict[str, int]:
    """Recompute one school year, in the caller's transaction; counts for that year."""
    params = {"year": school_year}
    for model in _dedup_models():
        materialize(con, model, params)
    names = _register_names(con, school_year)
    SQL.run(con, "ops/duplicate_candidate.sql", {"year": school_year, "now": now})
    counts = SQL.row(con, "ops/dedup_summary.sql", {"year": school_year, "now": now})
    return {**{k: int(v) for k, v in counts.items()}, "distinct_names_normalised": names}


def build_dedup(con: duckdb.DuckDBPyConnection, school_year: str | None = None) -> dict:
    """Find beneficiaries counted twice, for one school year or (`None`) every year in `core`.

    Each year commits on its own transaction, so do not call this inside an open transaction.
    Returns counts summed over the years, for the run's metadata: pupils on two rosters,
    pupil-months on two Tayssir lists, households, candidate pairs open / new / resolved / waiting
    for review."""
    years = [school_year] if school_year else [r[0] for r in SQL.query(con, "ops/dedup_years.sql").fetchall()
                                               if r[0] is not None]
    now = datetime.now()
    totals: dict[str, int] = {}
    for year in years:
        with transaction(con):
            counts = dedup_year(con, year, now)
        for name, value in counts.items():
            totals[name] = totals.get(name, 0) + value
    return {"school_years": len(years), **totals}


def data_docs_batches(con: duckdb.DuckDBPyConnection, school_year: str | None = None, province: str | None = None,
                      max_rows: int = DEFAULT_MAX_ROWS) -> Iterator[Batch]:
    """The current raw rows of every record type and school year in scope (the referential in
    every year's scope, by directorate only), for the Data Docs; above `max_rows` rows, the same
    deterministic sample every run."""
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, not {max_rows}")
    scope = "_".join(p for p in (school_year, province) if p) or "all"
    for record_type in RECORD_TYPES:
        table = f"raw.{record_type}"
        counts = SQL.query(con, "ops/data_docs_counts.sql", {
            "year": school_year, "province": province, "periodic": record_type in PERIOD_RECORD_TYPES},
            table=table).fetchall()
        for year, rows in counts:
            params = {"year": year, "province": province}
            cutoff = SQL.row(con, "ops/data_docs_cutoff.sql", {**params, "max_rows": max_rows},
                             table=table)["cutoff"] if rows > max_rows else None
            raw = SQL.query(con, "ops/data_docs_rows.sql", {**params, "cutoff": cutoff}, table=table).df()
            # a hash tie at the cutoff could add a row
            yield Batch(record_type, year, raw.head(max_rows), int(rows), scope)


def build(con: duckdb.DuckDBPyConnection, run_id: str) -> Built:
    """Outliers and history (each with its seeds) in one transaction, then the de-duplication year
    by year."""
    started = datetime.now()
    scope = Scope()
    with transaction(con):
        outliers = detect_outliers(con, run_id)
        history = record_history(con, run_id)
        log_step(con, run_id, "outliers", None, started, str(outliers))
        log_step(con, run_id, "quality_history", None, started, f"{history} rows")
    dedup = build_dedup(con)
    log_step(con, run_id, "dedup", None, started, str(dedup))
    by_metric = dict(SQL.query(con, "ops/open_outliers.sql").fetchall())
    national = SQL.row(con, "ops/national_score.sql") or {}
    history_meta = {"history_rows_written": history,
                    **{name: float(v) for name, v in national.items() if v is not None}}
    dedup_meta = {n: v for n, v in dedup.items() if isinstance(v, (int, float, str))}
    built = Built("ops", scope, detail=f"outliers {outliers}, history {history} rows, dedup {dedup}")
    built.metadata = {m.name: {} for m in registry().built_by("ops") if not m.is_view}
    built.metadata["ops.outlier"] = {**outliers, "open_by_metric": by_metric}
    built.metadata["ops.quality_history"] = history_meta
    for name in (*(m.name for m in _dedup_models()), "ops.duplicate_candidate"):
        built.metadata[name] = dedup_meta
    blocking = registry()["ops.outlier"].check("no_new_outliers").check.blocking
    built.checks = [CheckResult("ops.outlier", "no_new_outliers", blocking, CheckOutcome(
        outliers["new"] == 0, {"new": outliers["new"], "open": sum(by_metric.values())}))]
    return built
