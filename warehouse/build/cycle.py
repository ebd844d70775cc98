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
    whether the school's attendance arrived (on time). A month the directorate signed is closed on
    its signed values; otherwise on the live ones, and `detail` says the close is provisional."""
    started = datetime.now()
    with transaction(con):
        for model in registry().built_by("cycle"):
            materialize(con, model, scope.params)
        summary = SQL.row(con, "mart/month_close_summary.sql", scope.params)
        if summary["approval_state"] == "provisional":
            detail = (f"closed on provisional values: {summary['schools_provisional']} of {summary['schools']} "
                      f"school(s) not covered by a signature of {scope.province} {scope.month} (daam approvals)")
        else:
            detail = f"closed on the signed values ({summary['approval_state']})"
        log_step(con, run_id, "tayssir_month_close", scope.key, started, detail)
    return Built("cycle", scope, {"mart.tayssir_month_close": summary}, detail=detail)
