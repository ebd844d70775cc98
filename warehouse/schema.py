"""DDL of the warehouse: create every schema and table if missing.

`raw` and `staging` tables are generated from `configs/record_types.yaml` (one table per record
type, canonical columns); `core`, `mart` and `ops` are written out in `warehouse/sql/*.sql`.
"""

from __future__ import annotations

from importlib import resources

import duckdb

from daam.config import RECORD_TYPES, Settings

SCHEMAS = ("raw", "staging", "core", "mart", "ops")

# Lineage carried by every raw and staging row: where it came from, to the spreadsheet row.
LINEAGE = {
    "file_path": "varchar",
    "file_version": "integer",
    "sheet": "varchar",
    "row_number": "integer",
    "school_year": "varchar",
    "province_code": "varchar",
    "school_code": "varchar",
    "period": "varchar",
}

STAGING_TYPES = {
    "int": "bigint",
    "decimal": "decimal(14, 2)",
    "date": "date",
}


def staging_type(kind: str) -> str:
    return STAGING_TYPES.get(kind, "varchar")


def raw_columns(settings: Settings, record_type: str) -> dict[str, str]:
    spec = settings.record_types[record_type]
    cols = {**LINEAGE, "content_sha256": "varchar", "load_id": "varchar"}
    cols.update({c: "varchar" for c in spec.columns})
    cols["extra"] = "varchar"
    return cols


def staging_columns(settings: Settings, record_type: str) -> dict[str, str]:
    spec = settings.record_types[record_type]
    cols = dict(LINEAGE)
    cols.update({c: staging_type(s.kind) for c, s in spec.columns.items()})
    cols.update({"is_quarantined": "boolean", "is_warned": "boolean", "is_duplicate_copy": "boolean"})
    return cols


def _ensure_table(con: duckdb.DuckDBPyConnection, table: str, cols: dict[str, str]) -> None:
    """Create the table, or add the columns a newer configs/ or code has (a new optional column
    in record_types.yaml must not require rebuilding the warehouse)."""
    body = ",\n  ".join(f'"{c}" {t}' for c, t in cols.items())
    con.execute(f"create table if not exists {table} (\n  {body}\n)")
    schema, name = table.split(".")
    have = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = $s and table_name = $t",
        {"s": schema, "t": name}).fetchall()}
    for col, typ in cols.items():
        if col not in have:
            con.execute(f'alter table {table} add column "{col}" {typ}')


def sql_text(name: str) -> str:
    """The text of `warehouse/sql/<name>`."""
    return resources.files("warehouse").joinpath("sql", name).read_text(encoding="utf-8")


def ensure_schema(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Create every schema, table and view that is missing (idempotent)."""
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    for rt in RECORD_TYPES:
        _ensure_table(con, f"raw.{rt}", raw_columns(settings, rt))
        _ensure_table(con, f"staging.{rt}", staging_columns(settings, rt))
    for name in ("ops.sql", "core.sql", "mart.sql", "mart/schoolbag_tables.sql"):
        run_sql(con, name)
    from warehouse.dedup import ensure_dedup_tables  # dedup imports this module

    ensure_dedup_tables(con)


def run_sql(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Run the statements of `warehouse/sql/<name>` one by one, each with the `$parameters` it uses."""
    for statement in split_statements(sql_text(name)):
        used = {k: v for k, v in (params or {}).items() if f"${k}" in statement}
        con.execute(statement, used or None)


def split_statements(text: str) -> list[str]:
    """Statements of a SQL file: separated by `;` at the end of a line (no `;` inside literals)."""
    parts, current = [], []
    for line in text.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            parts.append("\n".join(current))
            current = []
    tail = "\n".join(current).strip()
    if tail and not all(ln.strip().startswith("--") or not ln.strip() for ln in current):
        parts.append(tail)
    return [p for p in parts if any(ln.strip() and not ln.strip().startswith("--") for ln in p.splitlines())]
