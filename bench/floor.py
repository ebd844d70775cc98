"""The raw-read floor of a landing zone: the least work any loader of it must do, in one process.

    .venv/bin/python bench/floor.py LANDING [--db bench/out/floor.duckdb] [--batch-rows 200000] [--json F]

One pass over every landing file (hidden files and folders and Office lock files `~$...` left out,
as the landing scan does): an `.xlsx` is opened with python-calamine and every sheet read with
`.to_python()`; any other file is read as bytes, decoded (UTF-8 or UTF-16 by their byte-order
mark, else UTF-8 when the bytes are valid UTF-8, else Windows-1256) and split by the `csv` module
with the delimiter that its first non-empty line holds most of (comma, semicolon, tab). Cells become
text (numbers as integers when integral, dates ISO), rows whose cells are all empty are dropped, and
every row goes into one DuckDB table `cells(file_id, sheet, row_number, cells varchar[])`,
inserted from a pandas DataFrame every `--batch-rows` rows (plus a `files` table). No header
is looked for, no column named, nothing normalised, checked or hashed: daam does all of that on
top, so `daam load` seconds / floor seconds says what that costs. A file the floor can not parse is
counted (`unreadable`) and skipped.

Prints a JSON summary (seconds, files, bytes, rows, cells, unreadable). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

DELIMITERS = (",", ";", "\t")


@dataclass
class Floor:
    seconds: float = 0.0
    files: int = 0
    xlsx_files: int = 0
    csv_files: int = 0
    bytes: int = 0
    rows: int = 0
    cells: int = 0
    sheets: int = 0
    unreadable: int = 0
    unreadable_examples: list[str] = field(default_factory=list)
    batch_rows: int = 0
    db_mib: float = 0.0

    def as_dict(self) -> dict:
        out = asdict(self)
        out["seconds"] = round(self.seconds, 2)
        return out


def landing_files(root: Path) -> list[Path]:
    """Every file of the landing zone, in a stable order, as the landing scan walks it."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith((".", "~$")):
                continue
            path = Path(dirpath) / name
            if path.is_file():
                out.append(path)
    return out


def decode(data: bytes) -> str:
    """Text of a CSV file: UTF-8 or UTF-16 by their mark, else UTF-8 if valid, else Windows-1256."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1256")


def delimiter_of(text: str) -> str:
    """The delimiter its first non-empty line holds most of (comma on a tie or none)."""
    for line in io.StringIO(text):
        if line.strip():
            return max(DELIMITERS, key=line.count)
    return ","


def csv_rows(data: bytes) -> list[list[str]]:
    text = decode(data)
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text)) if any(row)]


def cell_text(v) -> str:
    t = type(v)
    if t is str:
        return v
    if t is float:
        return str(int(v)) if v.is_integer() else repr(v)
    if t is dt.datetime or t is dt.date or t is dt.time:
        return v.isoformat()
    if t is bool:
        return "true" if v else "false"
    return str(v)


def xlsx_sheets(path: Path) -> list[tuple[str, list[list[str]]]]:
    import python_calamine

    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        out = []
        for name in wb.sheet_names:
            rows = []
            for raw in wb.get_sheet_by_name(name).to_python():
                row = [v if type(v) is str else cell_text(v) for v in raw]
                if any(row):
                    rows.append(row)
            out.append((name, rows))
        return out
    finally:
        wb.close()


class _Sink:
    """Rows held until `batch_rows` of them, then inserted into DuckDB from one DataFrame."""

    def __init__(self, con, batch_rows: int):
        self.con, self.batch_rows = con, batch_rows
        self.file_id: list[int] = []
        self.sheet: list[str | None] = []
        self.row_number: list[int] = []
        self.cells: list[list[str]] = []

    def add(self, file_id: int, sheet: str | None, rows: list[list[str]]) -> None:
        n = len(rows)
        self.file_id += [file_id] * n
        self.sheet += [sheet] * n
        self.row_number += range(1, n + 1)
        self.cells += rows
        if len(self.cells) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.cells:
            return
        import numpy as np
        import pandas as pd

        batch = pd.DataFrame({  # noqa: F841 (read by name in the SQL below)
            "file_id": np.asarray(self.file_id, dtype=np.int32),
            "sheet": pd.Series(self.sheet, dtype=object),
            "row_number": np.asarray(self.row_number, dtype=np.int32),
            "cells": pd.Series(self.cells, dtype=object),
        })
        self.con.execute("insert into cells select * from batch")
        self.file_id, self.sheet, self.row_number, self.cells = [], [], [], []


def measure_floor(landing: str | Path, db: str | Path, batch_rows: int = 200_000,
                  progress: bool = False) -> Floor:
    """Read every file of `landing` once and insert all its cells as text into the DuckDB file `db`
    (replaced). Returns the time and the counts; the timer covers reading, parsing and inserting,
    not the creation of the empty database."""
    import duckdb

    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    result = Floor(batch_rows=batch_rows)
    with duckdb.connect(str(db)) as con:
        con.execute("create table cells (file_id integer, sheet varchar, row_number integer, cells varchar[])")
        con.execute("create table files (file_id integer, path varchar, kind varchar, bytes bigint, "
                    "rows bigint, error varchar)")
        sink = _Sink(con, batch_rows)
        files_meta: list[tuple] = []
        started = time.perf_counter()
        paths = landing_files(Path(landing))
        for file_id, path in enumerate(paths):
            size = path.stat().st_size
            result.files += 1
            result.bytes += size
            n_rows, error = 0, None
            kind = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
            try:
                if kind == "xlsx":
                    result.xlsx_files += 1
                    for sheet, rows in xlsx_sheets(path):
                        result.sheets += 1
                        n_rows += len(rows)
                        result.cells += sum(map(len, rows))
                        sink.add(file_id, sheet, rows)
                else:
                    result.csv_files += 1
                    rows = csv_rows(path.read_bytes())
                    n_rows = len(rows)
                    result.cells += sum(map(len, rows))
                    sink.add(file_id, None, rows)
            except Exception as exc:  # noqa: BLE001 - a file no reader can parse: counted, as daam refuses it
                result.unreadable += 1
                error = f"{type(exc).__name__}: {exc}"[:200]
                if len(result.unreadable_examples) < 5:
                    result.unreadable_examples.append(f"{path.relative_to(landing)}: {error}")
            result.rows += n_rows
            files_meta.append((file_id, str(path.relative_to(landing)), kind, size, n_rows, error))
            if progress and (file_id + 1) % 5000 == 0:
                print(f"  floor: {file_id + 1:,}/{len(paths):,} files, {result.rows:,} rows, "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
        sink.flush()
        import pandas as pd

        meta = pd.DataFrame(files_meta, columns=["file_id", "path", "kind", "bytes", "rows", "error"],  # noqa: F841
                            dtype=object)
        con.execute("insert into files select * from meta")
        con.execute("checkpoint")
        result.seconds = time.perf_counter() - started
    result.db_mib = round(db.stat().st_size / 2**20, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", help="landing root")
    parser.add_argument("--db", default="bench/out/floor.duckdb", help="DuckDB file to write (replaced)")
    parser.add_argument("--batch-rows", type=int, default=200_000, help="rows per insert")
    parser.add_argument("--json", help="also write the summary to this file")
    args = parser.parse_args(argv)
    if not Path(args.landing).is_dir():
        print(f"floor: {args.landing} is not a folder", file=sys.stderr)
        return 2
    result = measure_floor(args.landing, args.db, args.batch_rows, progress=True)
    summary = json.dumps(result.as_dict(), ensure_ascii=False, indent=1)
    print(summary)
    if args.json:
        Path(args.json).write_text(summary + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
