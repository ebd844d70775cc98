"""The approval builder: the drift of every signed unit, recomputed after each load (levels.md
section 4). Writes `ops.approval_drift` (values changed, added or removed since the signature) and
`ops.approval_drift_file` (files loaded after it), then runs `no_new_drift`, which fails (WARN) once
for each unit that starts to drift, so the failed-check sensor sends one alert per unit, not one per
load while it stays so."""

from __future__ import annotations

from datetime import datetime

import duckdb

from warehouse.build import Built, Scope, materialize
from warehouse.checks import run_checks
from warehouse.db import log_step, transaction
from warehouse.registry import registry
from warehouse.schema import SQL


def build(con: duckdb.DuckDBPyConnection, run_id: str, now: datetime | None = None) -> Built:
    """Compare the signed values of every unit in force with the live warehouse."""
    started = now or datetime.now()
    models = registry().built_by("approval")
    with transaction(con):
        for model in models:
            materialize(con, model, {"now": started})
        summary = SQL.row(con, "ops/approval_drift_summary.sql")
        log_step(con, run_id, "approval_drift", None, started,
                 f"{summary['units_drifting']} of {summary['units_in_force']} signed unit(s) drifting")
    built = Built("approval", Scope(), {"ops.approval_drift": summary,
                                        "ops.approval_drift_file": {"files": summary["files_after"]}})
    built.checks = run_checks(con, models, {})
    return built
