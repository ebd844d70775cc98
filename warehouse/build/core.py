"""The core builder: a partition's facts and pupil dimension, then the checks that gate the mart.

Every model the registry has the core build (`built_by: core`) is written from its SQL file in
dependency order, in one transaction: the partition's rows replaced, nothing else touched. The
facts' blocking checks (referential integrity, reconciliation with staging) run after the commit;
a failure stops the mart refresh.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from warehouse.build import Built, Scope, materialize
from warehouse.checks import run_checks
from warehouse.db import log_step, transaction
from warehouse.registry import registry
from warehouse.schema import SQL


def build(con: duckdb.DuckDBPyConnection, scope: Scope, run_id: str) -> Built:
    """Replace the partition's rows of every fact (one transaction), then check each fact."""
    started = datetime.now()
    models = [m for m in registry().built_by("core") if not m.is_view]
    with transaction(con):
        for model in models:
            materialize(con, model, scope.params)
        log_step(con, run_id, "core", scope.key, started, "facts rebuilt")
    built = Built("core", scope, detail="facts rebuilt")
    for model in models:
        if model.materialized == "partition":
            built.metadata[model.name] = SQL.row(con, "partition_rows.sql", scope.params, table=model.name)
        else:
            built.metadata[model.name] = {}
    built.checks = run_checks(con, models, scope.params)
    return built
