"""The raw builder: landing files → `raw.<record_type>` rows and `ops.file_manifest` versions.

Only file versions never seen before are read (a path's content hash decides): an unchanged file
adds nothing on a rerun. New bytes at a known path become the next version and supersede the
previous one once they load; bytes equal to a file already loaded at another path are recorded
as a `duplicate` and not loaded twice. Every refused or unreadable file is recorded as
`rejected` with its reason, and the other files still load.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from daam.codes import quotable
from daam.config import PERIOD_RECORD_TYPES, Settings, load_settings
from daam.landing.inventory import safe_path
from daam.landing.reader import ReadResult, read_file
from daam.sqlfiles import registered
from warehouse.build import Built, Scope
from warehouse.db import log_step, transaction
from warehouse.registry import LINEAGE
from warehouse.schema import SQL

MANIFEST_KEYS = ["file_path", "record_type", "school_year", "period", "school_code", "province_code", "content_sha256"]
PARALLEL_READ_THRESHOLD = 40
READ_BATCH_FILES = 400
REEXAMINED_REFUSAL = "unknown school code"


@dataclass
class RawLoadSummary:
    files_new: int = 0
    files_loaded: int = 0
    files_rejected: int = 0
    files_duplicate: int = 0
    rows_read: int = 0


def new_versions(con: duckdb.DuckDBPyConnection, files: pd.DataFrame) -> pd.DataFrame:
    """The files whose (path, content) the manifest has not seen, with their next version number
    (raw/new_versions.sql: a refusal for an unknown school is looked at again once it changes)."""
    if files.empty:
        return files.assign(version=pd.Series(dtype="int64"))
    with registered(con, incoming=files):
        return SQL.query(con, "raw/new_versions.sql", {"reexamined": REEXAMINED_REFUSAL}).df()


def refusal_kind(refusal: str) -> str:
    """The kind of a refusal made before reading (configs/file_rejections.yaml explains each)."""
    if refusal.startswith(REEXAMINED_REFUSAL):
        return "unknown_school"
    unread = "refused and not read" in refusal or refusal.startswith("file can not be opened")
    return "refused_unread" if unread else "misplaced"


def _read_one(args: tuple[str, str]) -> ReadResult:
    path, record_type = args
    settings = load_settings()
    return read_file(Path(path), settings.record_types[record_type], settings)


@contextmanager
def reader_pool(files: int) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes for reading when there are many files (None: read in this process).
    forkserver, because the parent holds a DuckDB connection and Dagster's threads, which a
    plain fork would copy in an undefined state."""
    if files < PARALLEL_READ_THRESHOLD or (os.cpu_count() or 1) < 2:
        yield None
        return
    with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=mp.get_context("forkserver")) as pool:
        yield pool


def read_files(root: Path, todo: pd.DataFrame, pool: ProcessPoolExecutor | None = None) -> list[ReadResult]:
    """Read every listed file, in the pool's processes when one is given."""
    jobs = [(str(safe_path(root, p)), rt) for p, rt in zip(todo["file_path"], todo["record_type"])]
    if pool is not None:
        return list(pool.map(_read_one, jobs, chunksize=8))
    return [_read_one(j) for j in jobs]


def _content_check(entry: pd.Series, result: ReadResult) -> tuple[str, str] | None:
    """File-level contradictions between what the path says and what the content says: (kind, reason)."""
    found = (result.preamble or {}).get("school_code")
    if found and entry["school_code"] and found != entry["school_code"]:
        shown = f" ({found})" if quotable("school_code", found) else ""
        return "school_code_mismatch", (f"the school code written in the file{shown} contradicts the file's "
                                        f"path ({entry['school_code']}): put the file under its own school code")
    year = (result.preamble or {}).get("school_year")
    if year and entry["school_year"] and year != entry["school_year"]:
        shown = f"school year {year}" if quotable("school_year", year) else "another school year"
        return "school_year_mismatch", f"the file says {shown} but sits in the {entry['school_year']} folder"
    return None


def load_files(con: duckdb.DuckDBPyConnection, root: Path, files: pd.DataFrame, settings: Settings,
               load_id: str) -> RawLoadSummary:
    """Register and read the new versions among `files` (inventory rows), inside the caller's
    transaction: raw rows, manifest rows, superseded and duplicate statuses."""
    summary = RawLoadSummary()
    todo = new_versions(con, files)
    if todo.empty:
        return summary
    summary.files_new = len(todo)
    refused = todo["refusal"].notna()
    readable = todo[~refused].reset_index(drop=True)
    now = datetime.now()
    manifest_rows = []
    for _, entry in todo[refused].iterrows():
        manifest_rows.append({**_manifest_base(entry),
                              "status": "rejected", "error": entry["refusal"],
                              "error_kind": refusal_kind(entry["refusal"])})
    loaded_hashes = _loaded_hashes(con, readable["content_sha256"].tolist())
    # Read and insert in batches of files, so a large directorate's files never sit in memory at once.
    with reader_pool(len(readable)) as pool:
        for start in range(0, len(readable), READ_BATCH_FILES):
            _read_batch(con, root, readable.iloc[start:start + READ_BATCH_FILES], pool, settings, load_id,
                        loaded_hashes, manifest_rows)
    manifest = pd.DataFrame(manifest_rows)
    manifest["loaded_at"], manifest["load_id"] = now, load_id
    _write_manifest(con, manifest)
    summary.files_loaded = int((manifest["status"] == "loaded").sum())
    summary.files_rejected = int((manifest["status"] == "rejected").sum())
    summary.files_duplicate = int((manifest["status"] == "duplicate").sum())
    summary.rows_read = int(manifest["rows_read"].fillna(0).sum()) if "rows_read" in manifest else 0
    return summary


def _read_batch(con: duckdb.DuckDBPyConnection, root: Path, batch: pd.DataFrame, pool, settings: Settings,
                load_id: str, loaded_hashes: dict, manifest_rows: list[dict]) -> None:
    """Read a batch of new file versions, insert their rows, append their manifest rows."""
    frames: dict[str, list[pd.DataFrame]] = {}
    for (_, entry), result in zip(batch.iterrows(), read_files(root, batch, pool)):
        row = {**_manifest_base(entry), "encoding": result.encoding}
        kind, error = (result.error_kind, result.error) if result.error else (_content_check(entry, result) or (None, None))
        if error:
            manifest_rows.append({**row, "status": "rejected", "error": error, "error_kind": kind})
            continue
        frame = result.frame if result.frame is not None else pd.DataFrame()
        row["extra_columns"] = ", ".join(result.extra_columns) or None
        twin_key = (entry["content_sha256"], _sender(entry))
        twin = loaded_hashes.get(twin_key)
        if len(frame) and twin and twin != entry["file_path"]:
            manifest_rows.append({**row, "status": "duplicate", "duplicate_of": twin, "rows_read": len(frame)})
            continue
        if len(frame):
            loaded_hashes.setdefault(twin_key, entry["file_path"])
        manifest_rows.append({**row, "status": "loaded", "rows_read": len(frame)})
        frames.setdefault(entry["record_type"], []).append(_with_lineage(frame, entry, load_id))
    for record_type, parts in frames.items():
        _insert_raw(con, record_type, pd.concat(parts, ignore_index=True), settings)

def _manifest_base(entry: pd.Series) -> dict:
    """The manifest columns an inventory row gives: where the file belongs, its version and when it
    reached the landing zone."""
    return {**{k: entry[k] for k in MANIFEST_KEYS}, "version": entry["version"],
            "received_at": entry.get("modified_at")}


def _sender(entry) -> str:
    """Who sent a file: its school, else its directorate (operator files), else the centre."""
    if entry["school_code"]:
        return f"school:{entry['school_code']}"
    return f"province:{entry['province_code']}" if entry["province_code"] else f"centre:{entry['record_type']}"


def _loaded_hashes(con: duckdb.DuckDBPyConnection, hashes: list[str]) -> dict[tuple[str, str], str]:
    """(content hash, sender) -> first path where those bytes were loaded from that sender.

    Same bytes from the same sender at another path are that file sent twice (`duplicate`). Two
    different schools' one-row summary files (a canteen month: three numbers) can have the same
    bytes by coincidence; that is not a file sent twice, so they both load."""
    if not hashes:
        return {}
    rows = SQL.query(con, "raw/loaded_hashes.sql", {"h": hashes}).fetchall()
    return {(h, sender): path for h, sender, path in rows}


def _with_lineage(frame: pd.DataFrame, entry: pd.Series, load_id: str) -> pd.DataFrame:
    out = frame.copy()
    for col in ("file_path", "school_year", "province_code", "school_code", "period"):
        if col not in out:  # the referential's own school_code / province_code columns are its content
            out[col] = entry[col]
    out["file_version"] = int(entry["version"])
    out["content_sha256"] = entry["content_sha256"]
    out["load_id"] = load_id
    return out


def _insert_raw(con: duckdb.DuckDBPyConnection, record_type: str, frame: pd.DataFrame, settings: Settings) -> None:
    cols = list(dict.fromkeys([*LINEAGE, "content_sha256", "load_id", *settings.record_types[record_type].columns,
                               "extra"]))
    for col in cols:
        if col not in frame:
            frame[col] = None
    frame = frame[cols]
    frame = frame.astype({c: "string" for c in cols if c not in ("file_version", "row_number")})
    with registered(con, raw_batch=frame):
        SQL.run(con, "raw/insert_rows.sql", table=f"raw.{record_type}")


def _write_manifest(con: duckdb.DuckDBPyConnection, manifest: pd.DataFrame) -> None:
    cols = ["file_path", "record_type", "school_year", "period", "school_code", "province_code", "content_sha256",
            "version", "status", "rows_read", "error", "extra_columns", "loaded_at", "encoding", "duplicate_of",
            "load_id", "error_kind", "received_at"]
    for col in cols:
        if col not in manifest:
            manifest[col] = None
    with registered(con, manifest_batch=manifest[cols]):
        SQL.run(con, "raw/write_manifest.sql")


def build(con: duckdb.DuckDBPyConnection, root: Path, scope: Scope, settings: Settings, run_id: str) -> Built:
    """Read the new file versions of one (school year, directorate) partition with the generic,
    contract-driven reader, in one transaction; unreadable or contradictory files are rejected with
    a plain reason."""
    started = datetime.now()
    files = SQL.query(con, "raw/partition_files.sql", scope.params).df()
    with transaction(con):
        summary = load_files(con, root, files, settings, run_id)
        log_step(con, run_id, "raw", scope.key, started, str(summary))
    per_type = dict(SQL.query(con, "raw/current_files.sql", scope.params).fetchall())
    metadata = {f"raw.{rt}": {"current_files": per_type.get(rt, 0), "new_versions_in_run": summary.files_new,
                              "rejected_in_run": summary.files_rejected} for rt in PERIOD_RECORD_TYPES}
    return Built("raw", scope, metadata, detail=str(summary))
