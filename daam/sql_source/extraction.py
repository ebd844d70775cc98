"""The entry point: list each table's groups, find the changed ones, read them again and write them."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from daam.config import RecordTypeSpec, Settings, load_settings
from daam.sql_source.errors import SqlSourceError
from daam.sql_source.paths import _landing_path
from daam.sql_source.report import ExtractReport, TableReport, _Group
from daam.sql_source.state import _decode_mark, _encode_mark, _load_state, _locked, _save_state, _source_key
from daam.sql_source.writer import _write_group

# The package's one logger, named as the module was before the split ("daam.sql_source", not this
# submodule's __name__): log configuration and captures that name it keep seeing every record.
log = logging.getLogger("daam.sql_source")

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
