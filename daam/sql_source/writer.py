"""Writing: a group's rows as CSV text, and the atomic replacement of a file whose bytes differ."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from daam.sql_source.report import TableReport, _Group

_MIDNIGHT = dt.time(0, 0)


def _text(v: Any) -> str:
    """A stored value as the text a file would carry."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.timetz().replace(tzinfo=None) == _MIDNIGHT else v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).decode("utf-8", "replace")
    return str(v)


def render(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> tuple[bytes, int]:
    """The CSV bytes of a group (header + one line per non-marker row) and its count of data rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    n = 0
    for row in rows:
        cells = [_text(v) for v in row]
        if not any(c.strip() for c in cells):
            continue  # a group marker: declares the group, is not data
        writer.writerow(cells)
        n += 1
    return buf.getvalue().encode("utf-8"), n


def _write_group(root: Path, group: _Group, rows: list, columns: list[str], report: TableReport) -> None:
    data, written = render(columns, rows)
    report.rows_read += len(rows)
    report.rows_written += written
    path = root / group.path
    try:
        same = path.read_bytes() == data
    except OSError:
        same = False
    if same:
        report.files_unchanged.append(group.path)
        return
    _atomic_write(path, data)
    report.files_written.append(group.path)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to a hidden temporary file beside `path`, then rename it over `path`: a reader
    (the inventory, the sensor) sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
