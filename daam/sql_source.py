"""A SQL source: extract a relational Massar replica into the landing zone, as files.

The replica is read through SQLAlchemy (SQLite, PostgreSQL, or any dialect with a driver), and
everything it holds is *written into the landing zone* as the CSV files a school would send, so that
SQL rows are inventoried, loaded, quarantined, corrected and reconciled exactly as files are: the
loader never knows the difference.

**The replica.** One table or view per record type, named like the record type (`students`,
`attendance`, ...; another name through `tables=`), in `schema` if given. It has the record type's
canonical column names (configs/record_types.yaml; any it lacks are simply not written, as a file
may lack optional columns), plus:

| layout                | lineage columns                            | file written                       |
|-----------------------|--------------------------------------------|------------------------------------|
| `school`              | `school_year`, `school_code`               | `<year>/<folder>/<school>.csv`     |
| `monthly_school`      | `school_year`, `period` (YYYY-MM or a      | `<year>/<folder>/<period>/`        |
|                       | date), `school_code`                       | `<school>.csv`                     |
| `province_instalment` | `school_year`, `province_code`,            | `<year>/tayssir_payments/`         |
|                       | `instalment` (1..3)                        | `<province>_<instalment>.csv`      |
| `snapshot` (schools)  | none: the table is one snapshot            | `reference/schools/<day>.csv`      |

and an `updated_at` column (a timestamp; a date, a number or sortable text work too; a row whose
`updated_at` is NULL is only read with the rest of its group, or by a full run). A *group* is
one value of the lineage columns: one file. The referential is one group, the current state of the
table, written as a snapshot named after the day of its latest change (so a change makes a new
snapshot and the warehouse's school dimension gets a new version, as with dated files).

**Incremental by `updated_at`.** For each table the high-water mark (the greatest `updated_at`
extracted) is kept in `<landing>/.daam-sql/state.json`, per source database (driver, host, port,
database: never the password) and table. The hidden folder is skipped by the inventory and by the
landing sensor. A run lists the groups with their latest `updated_at`; a group is *changed* when
that is above the mark, when its file is missing from the landing zone, or on every group with
`full=True`. Every row of a changed group is read again and its file rendered: UTF-8, a header of
canonical names, one line per row in primary-key order (the table's primary key; for a view
without one, the record type's key then every written column), values as text exactly as stored
(dates ISO, a midnight timestamp as its date, decimals without exponent, booleans `true`/`false`,
NULL empty). The extractor owns the paths it writes: a file sent by hand at the same path is replaced,
as a resend would be. The file is replaced atomically (temporary file in the same folder, then
`os.replace`) only when its bytes differ, so an unchanged group keeps its content hash and its
modification time, and the loader skips it. The mark advances only after a table's files are all
written; a run that stops half-way redoes that table next time, writing only what differs.

**Deletes and late commits.** A row deleted in the replica leaves no `updated_at` behind: it
disappears from its file at the next rewrite of the group, i.e. when another row of the group
changes, or at a `full=True` run. A group whose rows are all deleted keeps its last file (the
landing zone keeps every last sending; remove the file by hand to withdraw it). A row committed
after a run with an `updated_at` older than that run's mark (a long transaction) is likewise only
seen by a `full=True` run. A `full=True` run rewrites only the files whose content changed, so
running one nightly is cheap and heals both.

**Group markers.** A row whose canonical columns are all NULL or empty is not written: it declares
its group, which gets a header-only file. That is how a replica says "this school reported an empty
list" (a reported zero, e.g. no boarding grant), as a header-only file does.

Lineage values must name a landing path: a school code of letters and digits, a school year
(`2022-2023`, or any spelling the landing zone accepts), a `YYYY-MM` period (or a date), a 3-digit
province and an instalment 1..3. A group whose lineage does not is not written, and is counted in
the report (`groups_refused`). Two spellings of one lineage (`2022/2023` and `2022-2023`) go to
the same file, in that order of spelling.

Nothing personal is logged: table names and counts only.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import fcntl
import io
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from daam.config import RecordTypeSpec, Settings, load_settings
from daam.landing.normalise import parse_school_year

__all__ = ["ExtractReport", "SqlSourceError", "TableReport", "extract", "state_path"]

log = logging.getLogger(__name__)

STATE_DIR = ".daam-sql"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
UPDATED_AT = "updated_at"
LINEAGE = {
    "school": ("school_year", "school_code"),
    "monthly_school": ("school_year", "period", "school_code"),
    "province_instalment": ("school_year", "province_code", "instalment"),
    "snapshot": (),
}
# Below this many changed groups, each is read by its own query (an index on the lineage columns
# makes that cheap); above it, the whole table is streamed once and the unchanged groups skipped.
PER_GROUP_QUERIES_UP_TO = 200
STREAM_ROWS = 2000

_SCHOOL_CODE = re.compile(r"^[0-9A-Z]{1,20}$")
_PERIOD = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_PROVINCE = re.compile(r"^[0-9]{3}$")


class SqlSourceError(ValueError):
    """The replica does not have what the extraction needs (a table, a lineage column, updated_at)."""


@dataclass
class TableReport:
    record_type: str
    table: str
    groups: int = 0  # groups in the table
    groups_changed: int = 0  # groups read again (changed since the mark, file missing, or full)
    groups_refused: int = 0  # lineage that names no landing path: not written
    rows_read: int = 0  # rows of the groups read again (the others are not read)
    rows_written: int = 0  # rows_read less the group-marker rows
    files_written: list[str] = field(default_factory=list)
    files_unchanged: list[str] = field(default_factory=list)  # read again, same bytes: not rewritten
    mark_before: str | None = None
    mark_after: str | None = None  # ISO text of the high-water mark after the run
    mark_kind: str | None = None  # datetime | date | int | decimal | text: how to read mark_after back


@dataclass
class ExtractReport:
    tables: list[TableReport] = field(default_factory=list)
    tables_missing: list[str] = field(default_factory=list)  # record types with no table in the replica

    @property
    def tables_read(self) -> list[str]:
        return [t.table for t in self.tables]

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables)

    @property
    def files_written(self) -> list[str]:
        return [f for t in self.tables for f in t.files_written]

    @property
    def files_unchanged(self) -> list[str]:
        return [f for t in self.tables for f in t.files_unchanged]

    @property
    def groups_refused(self) -> int:
        return sum(t.groups_refused for t in self.tables)

    @property
    def marks(self) -> dict[str, str | None]:
        """table → its high-water mark after the run (ISO text; None for an empty table)."""
        return {t.table: t.mark_after for t in self.tables}

    def summary(self) -> str:
        return (f"{len(self.tables)} tables read, {self.rows_read} rows read, "
                f"{len(self.files_written)} files written, {len(self.files_unchanged)} unchanged, "
                f"{self.groups_refused} groups refused"
                + (f", no table for {', '.join(self.tables_missing)}" if self.tables_missing else ""))


def state_path(landing_root: str | Path) -> Path:
    return Path(landing_root) / STATE_DIR / STATE_FILE


def extract(engine: sa.Engine, landing_root: str | Path, record_types: Sequence[str] | None = None,
            full: bool = False, *, tables: dict[str, str] | None = None, schema: str | None = None,
            settings: Settings | None = None) -> ExtractReport:
    """Write the replica's changed groups into `landing_root` as landing-zone CSV files.

    `record_types`: those to extract (default: every record type that has a table in the replica; a
    record type named here without a table is an error). `full`: read every group again, not only
    those changed since the mark (files are still rewritten only when their content differs).
    `tables`: record type → table or view name, where it is not the record type's own name.
    `schema`: the database schema holding the tables (default: the connection's).
    """
    settings = settings or load_settings()
    tables = dict(tables or {})
    unknown = [n for n in (*(record_types or ()), *tables) if n not in settings.record_types]
    if unknown:
        raise SqlSourceError(f"unknown record type(s): {', '.join(unknown)} "
                             f"(known: {', '.join(settings.record_types)})")
    root = Path(landing_root)
    root.mkdir(parents=True, exist_ok=True)
    report = ExtractReport()
    with _locked(root):
        state = _load_state(root)
        source = _source_key(engine, schema)
        marks = state.setdefault("sources", {}).setdefault(source, {})
        with _connect(engine) as conn:
            inspector = sa.inspect(conn)
            present = {*inspector.get_table_names(schema=schema), *inspector.get_view_names(schema=schema)}
            for name in record_types or list(settings.record_types):
                table_name = tables.get(name, name)
                if table_name not in present:
                    if record_types:
                        raise SqlSourceError(f"the replica has no table or view {table_name!r} for {name}"
                                             + (f" in schema {schema!r}" if schema else ""))
                    report.tables_missing.append(name)
                    continue
                spec = settings.record_types[name]
                table = sa.Table(table_name, sa.MetaData(), schema=schema, autoload_with=conn)
                previous = None if full else _decode_mark(marks.get(table_name))
                t = _extract_table(conn, table, spec, root, previous)
                report.tables.append(t)
                if t.mark_after is not None:
                    marks[table_name] = {"record_type": name, "mark": t.mark_after, "kind": t.mark_kind,
                                         "extracted_at": dt.datetime.now().isoformat(timespec="seconds")}
                _save_state(root, state)  # after each table: its files are all written
                log.info("%s: %d of %d groups read again, %d rows, %d files written, %d unchanged, "
                         "%d refused", table_name, t.groups_changed, t.groups, t.rows_read,
                         len(t.files_written), len(t.files_unchanged), t.groups_refused)
    log.info("sql extract: %s", report.summary())
    return report


# --- one table ----------------------------------------------------------------------------------


@dataclass
class _Group:
    path: str  # relative landing path
    keys: list[tuple]  # the raw lineage values that go to this file, in writing order
    changed: bool = False


def _extract_table(conn: sa.Connection, table: sa.Table, spec: RecordTypeSpec, root: Path,
                   previous: Any) -> TableReport:
    lineage = LINEAGE[spec.layout]
    missing = [c for c in (*lineage, UPDATED_AT) if c not in table.c]
    if missing:
        raise SqlSourceError(f"table {table.name} ({spec.name}, layout {spec.layout}) lacks the column(s) "
                             f"{', '.join(missing)}")
    columns = [c for c in spec.columns if c in table.c]
    if not columns:
        raise SqlSourceError(f"table {table.name} has none of the canonical columns of {spec.name}")
    report = TableReport(spec.name, table.name)
    if previous is not None:
        report.mark_before = _encode_mark(previous)[0]
    lineage_cols = [table.c[c] for c in lineage]
    updated = table.c[UPDATED_AT]

    # 1. Every group with its latest change.
    stmt = sa.select(*lineage_cols, sa.func.max(updated), sa.func.count())
    if lineage_cols:
        stmt = stmt.group_by(*lineage_cols)
    listing = [(tuple(r[:-2]), r[-2], r[-1]) for r in conn.execute(stmt)]
    listing = [g for g in listing if g[2]]  # no rows: an empty referential table
    report.groups = len(listing)
    latest = [m for _, m, _ in listing if m is not None]
    if previous is not None and not all(_comparable(m, previous) for m in latest):
        log.warning("%s: updated_at values can no longer be compared with the stored mark (type changed): "
                    "every group is read again", table.name)
        previous = report.mark_before = None
    mark = max([*latest, *([previous] if previous is not None else [])], default=None)

    # 2. Where each group goes, and whether it changed.
    groups: dict[str, _Group] = {}
    for key, group_max, _count in sorted(listing, key=lambda g: _sort_key(g[0])):
        path = _landing_path(spec, dict(zip(lineage, key, strict=True)), group_max)
        if path is None:
            report.groups_refused += 1
            continue
        group = groups.setdefault(path, _Group(path, []))
        group.keys.append(key)
        newer = previous is None or (group_max is not None and group_max > previous)
        if newer or not (root / path).is_file():
            group.changed = True
    changed = [g for g in groups.values() if g.changed]
    report.groups_changed = sum(len(g.keys) for g in changed)
    if report.groups_refused and not lineage:
        log.warning("%s: updated_at is empty on every row, so the snapshot has no date: not written", table.name)
    elif report.groups_refused:
        log.warning("%s: %d group(s) with lineage values (%s) that name no landing path: not written",
                    table.name, report.groups_refused, ", ".join(lineage))

    # 3. Read the changed groups again and write what differs.
    order = _order(table, spec, columns)
    selected = [*lineage_cols, *(table.c[c] for c in columns)]
    width = len(lineage_cols)
    if report.groups_changed > PER_GROUP_QUERIES_UP_TO:
        wanted = {k: g for g in changed for k in g.keys}
        rows = _stream(conn, sa.select(*selected).order_by(*lineage_cols, *order))
        pending: dict[str, dict[tuple, list]] = {}
        for key, chunk in _by_key(rows, width):
            group = wanted.get(key)
            if group is None:
                continue
            parts = pending.setdefault(group.path, {})
            parts[key] = chunk
            if len(parts) == len(group.keys):
                _write_group(root, group, [r for k in group.keys for r in parts[k]], columns, report)
                del pending[group.path]
        for path, parts in pending.items():  # a group that vanished between the listing and the read
            group = groups[path]
            _write_group(root, group, [r for k in group.keys for r in parts.get(k, [])], columns, report)
    else:
        for group in changed:
            rows: list = []
            for key in group.keys:
                where = [c.is_(None) if v is None else c == v for c, v in zip(lineage_cols, key, strict=True)]
                stmt = sa.select(*selected).where(*where).order_by(*order)
                rows.extend(r[width:] for r in conn.execute(stmt))
            if rows:  # none: the group vanished since the listing (deleted meanwhile); its file stays
                _write_group(root, group, rows, columns, report)
    if mark is not None:
        report.mark_after, report.mark_kind = _encode_mark(mark)
    return report


def _comparable(a: Any, b: Any) -> bool:
    try:
        a > b  # noqa: B015 - only whether it raises
    except TypeError:  # e.g. a naive and an aware timestamp, a date and a text
        return False
    return True


def _order(table: sa.Table, spec: RecordTypeSpec, columns: list[str]) -> list:
    """Primary key order; for a view without one, the record type's key then every written column."""
    pk = list(table.primary_key.columns)
    if pk:
        return pk
    names = [k for k in spec.key if k in columns] + [c for c in columns if c not in spec.key]
    return [table.c[n] for n in names]


def _stream(conn: sa.Connection, stmt) -> Iterator[sa.Row]:
    result = conn.execution_options(yield_per=STREAM_ROWS).execute(stmt)
    yield from result


def _by_key(rows: Iterable[sa.Row], width: int) -> Iterator[tuple[tuple, list]]:
    key, chunk = None, []
    for row in rows:
        k = tuple(row[:width])
        if chunk and k != key:
            yield key, chunk
            chunk = []
        key = k
        chunk.append(tuple(row[width:]))
    if chunk:
        yield key, chunk


def _sort_key(key: tuple) -> tuple:
    return tuple((v is None, str(v)) for v in key)


def _landing_path(spec: RecordTypeSpec, lineage: dict[str, Any], group_max: Any) -> str | None:
    """The relative landing path of a group, or None when its lineage can not name one."""
    if spec.layout == "snapshot":
        day = _as_date(group_max)
        return f"{spec.folder}/{day.isoformat()}.csv" if day else None
    year = parse_school_year(_text(lineage["school_year"])) if lineage["school_year"] is not None else None
    if not year:
        return None
    if spec.layout == "province_instalment":
        province, instalment = _text(lineage["province_code"]).strip(), _text(lineage["instalment"]).strip()
        if not _PROVINCE.match(province) or instalment not in ("1", "2", "3"):
            return None
        return f"{year}/{spec.folder}/{province}_{instalment}.csv"
    school = _text(lineage["school_code"]).strip().upper()
    if not _SCHOOL_CODE.match(school):
        return None
    if spec.layout == "monthly_school":
        period = lineage["period"]
        period = period.strftime("%Y-%m") if isinstance(period, dt.date) else _text(period).strip()
        if not _PERIOD.match(period):
            return None
        return f"{year}/{spec.folder}/{period}/{school}.csv"
    return f"{year}/{spec.folder}/{school}.csv"


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.datetime.fromisoformat(value.strip()).date()
    return None


# --- writing ------------------------------------------------------------------------------------

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


# --- state --------------------------------------------------------------------------------------


def _source_key(engine: sa.Engine, schema: str | None) -> str:
    """Which database the marks belong to: driver, host, port, database and schema, no credentials."""
    url = engine.url
    backend = url.get_backend_name()
    where = url.database or ""
    if url.host or url.port:
        where = f"{url.host or ''}:{url.port or ''}/{where}"
    return f"{backend}://{where}" + (f"#{schema}" if schema else "")


def _encode_mark(value: Any) -> tuple[str, str]:
    if isinstance(value, dt.datetime):
        return value.isoformat(), "datetime"
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    if isinstance(value, bool | int):
        return str(int(value)), "int"
    if isinstance(value, decimal.Decimal | float):
        return str(value), "decimal"
    return str(value), "text"


def _decode_mark(entry: dict | None) -> Any:
    if not entry or entry.get("mark") is None:
        return None
    value, kind = entry["mark"], entry.get("kind", "datetime")
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "int":
        return int(value)
    if kind == "decimal":
        return decimal.Decimal(value)
    return value


def _load_state(root: Path) -> dict:
    path = state_path(root)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": 1, "sources": {}}
    except (OSError, ValueError) as exc:
        raise SqlSourceError(f"the extraction state {path} can not be read ({exc}); delete it to extract "
                             f"everything again") from None
    if not isinstance(state, dict) or state.get("version") != 1:
        raise SqlSourceError(f"the extraction state {path} is not a version-1 state file")
    return state


def _save_state(root: Path, state: dict) -> None:
    _atomic_write(state_path(root), (json.dumps(state, indent=2, sort_keys=True) + "\n").encode("utf-8"))


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One extraction at a time per landing root."""
    lock = root / STATE_DIR / LOCK_FILE
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SqlSourceError(f"another SQL extraction is writing into {root}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _connect(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One read-only transaction; on PostgreSQL a REPEATABLE READ one, so every query of the run sees
    the same snapshot of the replica."""
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect() as conn:
        if options:
            conn = conn.execution_options(**options)
        with conn.begin():
            yield conn
