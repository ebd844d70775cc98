"""The landing builder: the scan that places every file, run before any partition.

Order matters: load the configuration seeds and conformed dimensions from `configs/`, scan the
landing root, load the referential snapshots (raw → staging → `core.dim_school`, SCD type 2), then
place every school file in its (school year, directorate) partition through the referential. A file
whose school is unknown is rejected; the next scan that finds the school known lets it in.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from pathlib import Path

import duckdb
import pandas as pd

from daam.config import Settings
from daam.landing.inventory import scan
from daam.sqlfiles import registered
from warehouse.build import Built, Scope, materialize
from warehouse.build.raw import REEXAMINED_REFUSAL as UNKNOWN_SCHOOL
from warehouse.build.raw import load_files
from warehouse.build.staging import stage_referential
from warehouse.checks import run_checks
from warehouse.db import log_step, transaction
from warehouse.registry import Model, registry
from warehouse.schema import SQL
from warehouse.seeds import load_seeds

INVENTORY_COLUMNS = ["file_path", "record_type", "school_year", "period", "school_code", "province_code",
                     "size_bytes", "content_sha256", "refusal", "modified_at", "stat_key"]


def place_files(con: duckdb.DuckDBPyConnection, entries: pd.DataFrame) -> pd.DataFrame:
    """Give each school file its directorate through the referential; unknown schools are refused."""
    with registered(con, entries=entries):
        return SQL.query(con, "landing/place_files.sql", {"unknown": UNKNOWN_SCHOOL}).df()


def _from_configuration(model: Model) -> bool:
    reg = registry()
    return model.materialized == "seed" or (model.materialized == "table"
                                            and all(reg[d].materialized == "seed" for d in model.deps))


def load_configuration(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """The models of the landing scan made from configs/ alone: the seeds and the dimensions selected
    from them (dim_date, dim_programme). Returns their names."""
    models = [m for m in registry().built_by("landing") if _from_configuration(m)]
    load_seeds(con, settings, models)
    for model in models:
        if model.materialized == "table":
            materialize(con, model, {})
    return [m.name for m in models]


def scan_landing(con: duckdb.DuckDBPyConnection, root: Path, settings: Settings, load_id: str) -> dict:
    """Configuration, scan, referential, placing, inventory and file-level refusals, in the caller's
    transaction."""
    configured = load_configuration(con, settings)
    known = {path: (key, sha) for path, key, sha in SQL.query(con, "landing/known_files.sql").fetchall()}
    # attribute tuples, not dataclasses.asdict, which deep-copies each of a nation's 200,000 entries (4 s)
    row = attrgetter(*INVENTORY_COLUMNS)
    entries = pd.DataFrame([row(e) for e in scan(root, settings, known)], columns=INVENTORY_COLUMNS)
    entries = entries.astype({"size_bytes": "Int64"})
    ref = load_files(con, root, entries[entries["record_type"] == "schools"], settings, load_id)
    stage_referential(con, settings)
    for model in registry().built_by("landing"):  # the rest selected by SQL from the referential (dim_school)
        if model.materialized in ("table", "script") and model.name not in configured:
            materialize(con, model, {})
    placed = place_files(con, entries[entries["record_type"] != "schools"].reset_index(drop=True))
    inventory = pd.concat([entries[entries["record_type"] == "schools"], placed], ignore_index=True)
    inventory["scanned_at"] = datetime.now()
    with registered(con, inventory=inventory):
        SQL.run(con, "landing/write_inventory.sql")
    refused = load_files(con, root, placed[placed["refusal"].notna()], settings, load_id)
    return {"files_found": len(entries), "referential_files_new": ref.files_new,
            "files_refused_new": refused.files_new,
            "files_refused": int(inventory["refusal"].notna().sum())}


def partitions_in_inventory(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(school year, directorate) pairs that have at least one placeable file."""
    return [tuple(r) for r in SQL.query(con, "landing/partitions.sql").fetchall()]


def build(con: duckdb.DuckDBPyConnection, root: Path, settings: Settings, run_id: str) -> Built:
    """Scan the landing root, load the referential, place every file in its partition, and record
    every refused file (unknown school, path outside the layout, links, bad names), in one
    transaction; then check that every school belongs to a known directorate."""
    started = datetime.now()
    scope = Scope()
    with transaction(con):
        stats = scan_landing(con, root, settings, run_id)
        log_step(con, run_id, "landing_inventory", None, started, str(stats))
    built = Built("landing", scope, detail=str(stats))
    built.metadata = {
        "raw.schools": {"files_new": stats["referential_files_new"]},
        "core.dim_school": SQL.row(con, "landing/schools.sql"),
        "ops.landing_inventory": {"files_found": stats["files_found"], "files_refused": stats["files_refused"]},
    }
    built.checks = run_checks(con, registry().built_by("landing"), {})
    return built
