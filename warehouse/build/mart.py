"""The mart builder: a partition's programme marts and indicators, published only if they add up.

The models the registry has the mart build are written in dependency order (the reconciliation
before the indicators, which read it), then the indicators of the directorate, its region and the
nation are rolled up from the level below (`mart/rollup.sql`, through `core.geo_ancestor`). All of
it in one transaction, checked by `levels_add_up` before the commit: if the levels do not add up,
everything is rolled back and analysts keep the previous indicators. A committed build records the
inputs the partition was loaded from (`ops.partition_load`), so `daam load` and the landing sensor
skip it until one of them changes.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from daam.config import load_settings
from warehouse.build import Built, Scope, materialize
from warehouse.checks import run_checks
from warehouse.db import log_step
from warehouse.fingerprint import partition_fingerprints, record_loaded
from warehouse.registry import registry
from warehouse.schema import SQL

ROLL_UP = ("province", "region", "national")


def roll_up(con: duckdb.DuckDBPyConnection, school_year: str, province: str) -> None:
    """Recompute the directorate's, its region's and the nation's indicators from the level below."""
    codes = {"province": province, "region": load_settings().provinces[province].region_code, "national": "MA"}
    for level in ROLL_UP:
        SQL.run(con, "mart/rollup.sql", {"year": school_year, "level": level, "code": codes[level]})


def _summaries(con: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, dict]:
    summary = SQL.row(con, "mart/summary.sql", scope.params)
    return {"mart.schoolbag_needs": summary["needs"], "mart.schoolbag_forecast": summary["forecast"],
            "mart.indicators": {"rows_in_school_year": summary["indicator_rows"]}}


def build(con: duckdb.DuckDBPyConnection, scope: Scope, run_id: str) -> Built:
    """Replace the partition's programme marts and school indicators, recompute the levels above,
    and commit only when the levels add up."""
    started = datetime.now()
    models = [m for m in registry().built_by("mart") if not m.is_view]
    con.execute("begin transaction")
    try:
        for model in models:
            materialize(con, model, scope.params)
        roll_up(con, scope.school_year, scope.province)
        checks = run_checks(con, models, {"year": scope.school_year})
    except BaseException:
        con.execute("rollback")
        raise
    committed = all(c.passed for c in checks if c.blocking)
    con.execute("commit" if committed else "rollback")
    if committed:
        fingerprint = partition_fingerprints(con, scope.school_year, scope.province).get(
            (scope.school_year, scope.province))
        if fingerprint:
            record_loaded(con, scope.school_year, scope.province, fingerprint, run_id)
    failed = "; ".join(f"{c.name}: {c.outcome.metadata}" for c in checks if not c.passed)
    detail = "published" if committed else f"not published, levels do not add up: {failed}"
    log_step(con, run_id, "mart", scope.key, started, detail)
    built = Built("mart", scope, {m.name: {} for m in models}, checks, detail, committed)
    built.metadata.update(_summaries(con, scope))
    return built
