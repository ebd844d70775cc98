"""Writing: a group's rows as CSV text, and the atomic replacement of a file whose bytes differ."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import io
import os
import secrets
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
    (the inventory, the sensor) sees the old file or the new one, never half of one.

    The file's mode is the process umask's (created 0666 & ~umask, as `open()` would): never a
    forced mode. The files hold pupils' personal data; whoever runs daam decides who reads them
    (`umask 077` → 0600). `tempfile.mkstemp` is not used: it always creates 0600, which a chmod would
    then have to widen again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _create_beside(path: Path) -> tuple[int, str]:
    """A new hidden temporary file in `path`'s folder, opened for writing, mode 0666 & ~umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")
