"""The raw builder: landing files → `raw.<record_type>` rows and `ops.file_manifest` versions.

Only file versions never seen before are read (a path's content hash decides): an unchanged file
adds nothing on a rerun. New bytes at a known path become the next version and supersede the
previous one once they load; bytes equal to a file already loaded at another path are recorded
as a `duplicate` and not loaded twice. Every refused or unreadable file is recorded as
`rejected` with its reason, and the other files still load.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from daam.codes import quotable
from daam.config import PERIOD_RECORD_TYPES, Settings, load_settings
from daam.landing.inventory import safe_paths
from daam.landing.reader import ReadResult, read_file
from daam.progress import emit
from daam.sqlfiles import quote_identifier, registered
from warehouse.build import Built, Scope, read_ahead
from warehouse.build.workers import local_db, worker_pool
from warehouse.db import log_step, transaction
from warehouse.registry import LINEAGE
from warehouse.schema import SQL

MANIFEST_KEYS = ["file_path", "record_type", "school_year", "period", "school_code", "province_code", "content_sha256"]
READ_BATCH_FILES = 400
READ_CHUNK_FILES = 40  # files a reader process takes at a time (one Parquet file per record type)
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


@dataclass
class FileRead:
    """What a reader process sends back for one file: the reader's verdict and, when the file
    loads, its rows already shaped as `raw.<record_type>` but for the columns of the file as a whole
    (`_joined`: the parent adds them by file), one list per column. `part`: the file's number in its
    chunk's Parquet file (the `_file` of its rows), once written."""

    encoding: str | None
    error: tuple[str, str] | None  # (kind, reason)
    extra_columns: list[str]
    rows: dict[str, list] | None
    count: int = 0
    part: int | None = None


def _read_one(path: Path, entry: dict) -> FileRead:
    """Read one file and shape its rows, in a reader process: the per-file and per-row Python
    work happens on both cores, the parent only inserts."""
    settings = load_settings()
    result = read_file(path, settings.record_types[entry["record_type"]], settings)
    error = (result.error_kind, result.error) if result.error else _content_check(entry, result)
    if error:
        return FileRead(result.encoding, error, [], None)
    return FileRead(result.encoding, None, result.extra_columns,
                    _raw_rows(result.table, result.rows, entry, settings), result.rows)


@dataclass
class ChunkRead:
    """What a reader process sends back for a chunk of files: each file's verdict, in order, and
    the chunk's rows as one Parquet file per record type. The parent inserts them with DuckDB's
    own (multi-threaded) Parquet reader: no row of the chunk passes through the parent's Python."""

    files: list[FileRead]
    parquet: dict[str, str]  # record type -> Parquet file


def _read_chunk(root: str, folder: str, jobs: list[dict]) -> ChunkRead:
    """Read a chunk of files (inventory entries, paths relative to the landing `root`) into
    `folder` (the rows carry no load id: the insert adds the id of the load that takes them, which
    may not be the one that read them ahead). The paths are resolved here, on the readers' cores."""
    reads, tables = [], {}
    for path, entry in zip(safe_paths(Path(root), [e["file_path"] for e in jobs]), jobs):
        read = _read_one(path, entry)
        part = None
        if read.count:
            parts = tables.setdefault(entry["record_type"], [])
            part = len(parts)
            parts.append(read.rows)
        reads.append(FileRead(read.encoding, read.error, read.extra_columns, None, read.count, part))
    parquet = {}
    for record_type, parts in tables.items():
        target = Path(folder) / f"{uuid.uuid4().hex}.parquet"
        write_parquet(local_db(), parts, target)
        parquet[record_type] = str(target)
    return ChunkRead(reads, parquet)


def write_parquet(con: duckdb.DuckDBPyConnection, parts: list[dict[str, list]], target: Path) -> None:
    """Write the rows of a batch of files (`_raw_rows` of each) to the Parquet file `target`, with
    `_file`, the number of each row's file in `parts`: the row number as an integer, every other
    column as text. Uncompressed: the file lives for one insert, on the same disk."""
    columns = {"_file": np.repeat(np.arange(len(parts), dtype=np.int32), [len(p["row_number"]) for p in parts])}
    for c in parts[0]:
        # NumPy arrays, not a DataFrame: pandas checking and copying every value was a third of this
        columns[c] = np.fromiter(itertools.chain.from_iterable(p[c] for p in parts), count=len(columns["_file"]),
                                 dtype=np.int64 if c in _INTEGER_COLUMNS else object)
    with registered(con, chunk=columns):
        con.execute(f"copy (select {_typed(columns)} from chunk) to '{_quoted(target)}' "
                    "(format parquet, compression uncompressed)")


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _chunks(todo: pd.DataFrame) -> list[list[dict]]:
    """The listed files (inventory rows with their version) as chunks of READ_CHUNK_FILES inventory
    entries, in the order listed."""
    entries = todo[[*MANIFEST_KEYS, "version"]].to_dict("records")
    return [entries[i:i + READ_CHUNK_FILES] for i in range(0, len(entries), READ_CHUNK_FILES)]


def _chunk_key(jobs: list[dict]) -> tuple:
    """What a chunk read ahead must match to be taken: its files' paths, contents and versions."""
    return tuple((e["file_path"], e["content_sha256"], int(e["version"])) for e in jobs)


def read_chunks(root: Path, todo: pd.DataFrame, folder: Path,
                pool: ProcessPoolExecutor | None = None) -> Iterator[ChunkRead]:
    """Read every listed file in chunks, in the pool's processes when one is given (all chunks
    handed over at once, but those read ahead already; closing the iterator cancels those not
    started), yielded in the order listed."""
    chunks = _chunks(todo)
    read = partial(_read_chunk, str(root), str(folder))
    if pool is None:
        yield from map(read, chunks)
        return
    futures = []  # (chunk, whether it was read ahead, its future)
    for jobs in chunks:
        ahead = read_ahead.take(_chunk_key(jobs))
        futures.append((jobs, ahead is not None, ahead or pool.submit(read, jobs)))
    try:
        for jobs, was_ahead, future in futures:
            try:
                yield future.result()
            except Exception:
                if not was_ahead:
                    raise
                # read ahead by a pool that has died since: read it again, and fail here if it fails
                yield pool.submit(read, jobs).result()
    finally:
        for _, _, future in futures:
            future.cancel()


def _read_ahead(con: duckdb.DuckDBPyConnection, root: Path, scope: Scope) -> None:
    """Hand the chunks of the partition planned after `scope` to the readers, without waiting
    (warehouse/build/read_ahead.py): they read while this partition is staged."""
    following = read_ahead.next_after(scope)
    if following is None:
        return
    files = SQL.query(con, "raw/partition_files.sql", following.params).df()
    todo = new_versions(con, files)
    readable = todo[todo["refusal"].isna()].reset_index(drop=True)
    with worker_pool(len(readable)) as pool:
        if pool is None:
            return
        read = partial(_read_chunk, str(root), str(read_ahead.folder()))
        for jobs in _chunks(readable):
            read_ahead.offer(_chunk_key(jobs), pool.submit(read, jobs))
    emit("read", f"raw: {len(readable)} file(s) of {following.school_year} {following.province} handed to "
                 "the readers ahead")


@contextmanager
def chunk_folder(con: duckdb.DuckDBPyConnection) -> Iterator[Path]:
    """A private folder for the readers' Parquet files, next to the warehouse (they hold school
    data as the warehouse does: mode 0700), removed afterwards; one left by a killed load of this
    warehouse is removed by the next (a warehouse has one writer, so no other load of it is using
    it; the folders are named after the warehouse file, so another warehouse's are left alone)."""
    found = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
    database = Path(found[0][0]).resolve() if found and found[0][0] else None
    parent = database.parent if database else Path(tempfile.gettempdir())
    prefix = f".daam-raw-{database.name}-" if database else ".daam-raw-memory-"
    if database:
        for stale in parent.glob(f"{glob.escape(prefix)}*"):
            shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _content_check(entry: dict, result: ReadResult) -> tuple[str, str] | None:
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
    for entry in todo[refused].to_dict("records"):
        manifest_rows.append({**_manifest_base(entry),
                              "status": "rejected", "error": entry["refusal"],
                              "error_kind": refusal_kind(entry["refusal"])})
    loaded_hashes = _loaded_hashes(con, readable["content_sha256"].tolist())
    # Every chunk is handed to the readers at once, and their rows inserted every READ_BATCH_FILES
    # files: the readers go on reading while the parent inserts. The rows wait on disk (Parquet),
    # never in memory, so a large directorate's files never sit in memory at once.
    entries = iter(readable.to_dict("records"))  # dicts: a pandas row costs microseconds a field read
    with worker_pool(len(readable)) as pool, chunk_folder(con) as folder, \
            closing(read_chunks(root, readable, folder, pool)) as chunks:
        batch, done = _Batch(), 0
        for chunk in chunks:
            done += len(chunk.files)
            batch.add(chunk, entries, loaded_hashes, manifest_rows)
            if batch.files >= READ_BATCH_FILES or done == len(readable):
                batch.insert(con, load_id, settings)
                batch = _Batch()
                emit("read", f"raw: {done} of {len(readable)} new file(s) read", files_done=done,
                     files=len(readable))
    manifest = pd.DataFrame(manifest_rows)
    manifest["loaded_at"], manifest["load_id"] = now, load_id
    _write_manifest(con, manifest)
    summary.files_loaded = int((manifest["status"] == "loaded").sum())
    summary.files_rejected = int((manifest["status"] == "rejected").sum())
    summary.files_duplicate = int((manifest["status"] == "duplicate").sum())
    summary.rows_read = int(manifest["rows_read"].fillna(0).sum()) if "rows_read" in manifest else 0
    return summary


@dataclass
class _Batch:
    """The chunks read since the last insert: their Parquet files per record type, and the files
    whose rows load (not the duplicates): where their rows are (Parquet file, `_file`), and the
    columns that are the same for all of a file's rows."""

    parquet: dict[str, list[str]] = field(default_factory=dict)
    loaded: dict[str, list[dict]] = field(default_factory=dict)
    files: int = 0

    def add(self, chunk: ChunkRead, entries: Iterator[dict], loaded_hashes: dict,
            manifest_rows: list[dict]) -> None:
        """Take a chunk's verdicts (in the order the files were listed, `entries`): append their
        manifest rows, and keep its Parquet files for the next insert."""
        self.files += len(chunk.files)
        for record_type, path in chunk.parquet.items():
            self.parquet.setdefault(record_type, []).append(path)
        for read, entry in zip(chunk.files, entries):
            row = {**_manifest_base(entry), "encoding": read.encoding}
            if read.error:
                manifest_rows.append({**row, "status": "rejected", "error": read.error[1],
                                      "error_kind": read.error[0]})
                continue
            row["extra_columns"] = ", ".join(read.extra_columns) or None
            twin_key = (entry["content_sha256"], _sender(entry))
            twin = loaded_hashes.get(twin_key)
            if read.count and twin and twin != entry["file_path"]:
                manifest_rows.append({**row, "status": "duplicate", "duplicate_of": twin, "rows_read": read.count})
                continue
            if read.count:
                loaded_hashes.setdefault(twin_key, entry["file_path"])
                self.loaded.setdefault(entry["record_type"], []).append(
                    {"filename": chunk.parquet[entry["record_type"]], "_file": read.part, **_file_lineage(entry)})
            manifest_rows.append({**row, "status": "loaded", "rows_read": read.count})

    def insert(self, con: duckdb.DuckDBPyConnection, load_id: str, settings: Settings) -> None:
        """Insert the rows of the loaded files, with their lineage and this load's id, then remove the
        Parquet files."""
        for record_type, paths in self.parquet.items():
            if self.loaded.get(record_type):  # the rows of duplicates stay out
                files = pd.DataFrame(self.loaded[record_type])[["filename", "_file", *_joined(record_type, settings)]]
                with registered(con, files=files):
                    SQL.run(con, "raw/insert_rows.sql", {"parquet": paths, "load_id": load_id},
                            table=f"raw.{record_type}")
            for path in paths:
                os.remove(path)


def _manifest_base(entry: dict) -> dict:
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


# What the inventory says of a file, the same for all of its rows: `raw.<record_type>` columns the
# parent adds when it inserts (`_joined`), instead of every row carrying them through Parquet: that
# was half of what writing the readers' Parquet files cost.
FILE_COLUMNS = ("file_path", "file_version", "school_year", "province_code", "school_code", "period",
                "content_sha256")


def _raw_columns(record_type: str, settings: Settings) -> list[str]:
    return list(dict.fromkeys([*LINEAGE, "content_sha256", *settings.record_types[record_type].columns,
                               "extra"]))


def _joined(record_type: str, settings: Settings) -> list[str]:
    """The file's lineage columns the parent joins to its rows: all but those the record type's files
    have themselves (the referential's school_code and province_code are its content)."""
    return [c for c in FILE_COLUMNS if c not in settings.record_types[record_type].columns]


def _file_lineage(entry) -> dict:
    """The `FILE_COLUMNS` of a file, from its inventory entry."""
    lineage = {col: entry[col] for col in FILE_COLUMNS if col != "file_version"}
    return {**lineage, "file_version": int(entry["version"])}


def _raw_rows(table: dict[str, list], n: int, entry: dict, settings: Settings) -> dict[str, list]:
    """The columns of `raw.<record_type>` but the load id and the `_joined` ones, in order: the
    file's own (text or None as read), its lineage for a column of the record type the file does
    not have (the referential's codes), None for any other column the file does not have."""
    joined, lineage = set(_joined(entry["record_type"], settings)), _file_lineage(entry)
    out = {}
    for col in _raw_columns(entry["record_type"], settings):
        if col in joined:
            continue
        if col in table:  # the referential's own school_code / province_code columns are its content
            out[col] = table[col]
        else:
            out[col] = [lineage.get(col)] * n
    return out


_INTEGER_COLUMNS = ("_file", "row_number")


def _typed(columns) -> str:
    """The select list of `write_parquet`: its text columns cast to VARCHAR, so that DuckDB never
    keeps a type it guessed from a batch's values (a column empty in the batch is NULL-typed)."""
    return ", ".join(quote_identifier(c) if c in _INTEGER_COLUMNS else f"{quote_identifier(c)}::varchar as {quote_identifier(c)}"
                     for c in columns)


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
    _read_ahead(con, root, scope)
    per_type = dict(SQL.query(con, "raw/current_files.sql", scope.params).fetchall())
    metadata = {f"raw.{rt}": {"current_files": per_type.get(rt, 0), "new_versions_in_run": summary.files_new,
                              "rejected_in_run": summary.files_rejected} for rt in PERIOD_RECORD_TYPES}
    return Built("raw", scope, metadata, detail=str(summary))
