"""What a partition's load depends on, as one hash, so that unchanged partitions can be skipped.

A partition's staged rows, facts and indicators depend on: its own current files, its rosters
among them; the directorate's operator files of the next year (payments are counted by the school
year of their period); the establishments referential of the directorate; and `configs/` and the
code, except the report site's (NOT_CONTENT). All of them go into the fingerprint; any change
re-loads the partition. Another directorate's roster is not in it: a pupil on two directorates'
rosters is warned on both by the roster-twins step after the load (warehouse/build/roster_twins.py),
which changes no fact or indicator, so a corrected roster reloads its own directorate only.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import duckdb

from daam import config
from warehouse.schema import SQL

PROJECT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("daam", "quality_checks", "warehouse", "assets")
# Code and configs that shape no row of the warehouse: the report site and its page texts (it reads
# the level products and writes pages; its own fingerprint, warehouse/site/build.py). A change to a
# page would otherwise re-stage and reload every partition (a nation: about 15 minutes).
NOT_CONTENT = ("warehouse/site", "configs/report.yaml")


@cache
def code_fingerprint() -> str:
    """Hash of the configs the load reads (`daam.config.CONFIG_DIR`: the project's `configs/`, or
    the folder DAAM_CONFIG_DIR names) and of the Python and SQL sources that shape the warehouse's
    content."""
    h = hashlib.sha256()
    folders = [("configs", config.CONFIG_DIR)] + [(name, PROJECT / name) for name in CODE_DIRS]
    for name, folder in folders:
        for path in sorted(folder.rglob("*")):
            shown = f"{name}/{path.relative_to(folder).as_posix()}"  # the same wherever the folder is
            if any(shown == s or shown.startswith(f"{s}/") for s in NOT_CONTENT):
                continue
            if path.is_file() and path.suffix in (".py", ".sql", ".yaml", ".yml", ".csv"):
                h.update(shown.encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def partition_fingerprints(con: duckdb.DuckDBPyConnection, school_year: str | None = None,
                           province: str | None = None) -> dict[tuple[str, str], str]:
    """(school_year, province_code) -> fingerprint of its inputs, for every placed partition (only
    those of `school_year` and `province` when given)."""
    rows = SQL.query(con, "ops/partition_fingerprints.sql", {"year": school_year, "province": province}).fetchall()
    code = code_fingerprint()
    return {(y, p): hashlib.sha256(f"{f}|{code}".encode()).hexdigest() for y, p, f in rows}


def unchanged(con: duckdb.DuckDBPyConnection, fingerprints: dict[tuple[str, str], str]) -> set[tuple[str, str]]:
    """Partitions whose last successful load had exactly these inputs."""
    done = SQL.query(con, "ops/partitions_loaded.sql").fetchall()
    return {(y, p) for y, p, f in done if fingerprints.get((y, p)) == f}


def record_loaded(con: duckdb.DuckDBPyConnection, school_year: str, province: str, fingerprint: str,
                  run_id: str) -> None:
    SQL.run(con, "ops/record_loaded.sql", {"year": school_year, "province": province, "fingerprint": fingerprint,
                                           "run": run_id})
