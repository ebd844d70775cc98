"""The cycle builder: one school month of Tayssir closed for one directorate (`mart.tayssir_month_close`)."""

from __future__ import annotations

from datetime import datetime

import duckdb

from warehouse.build import Built, Scope, materialize
from warehouse.db import log_step, transaction
from warehouse.registry import registry
from warehouse.schema import SQL


def build(con: duckdb.DuckDBPyConnection, scope: Scope, run_id: str) -> Built:
    """Close a school month for a directorate once attendance is due: per school, active
    beneficiaries, compliant pupils and the month's entitlement, why the others are not paid, and
    whether the school's attendance arrived (on time)."""
    started = datetime.now()
    with transaction(con):
        for model in registry().built_by("cycle"):
            materialize(con, model, scope.params)
        log_step(con, run_id, "tayssir_month_close", scope.key, started, "closed")
    summary = SQL.row(con, "mart/month_close_summary.sql", scope.params)
    return Built("cycle", scope, {"mart.tayssir_month_close": summary}, detail="closed")
