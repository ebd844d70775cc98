"""The warehouse's DDL, made from the model registry: schemas, functions, tables, views.

Every table of `warehouse/sql/*/models.yml` is created from its declared columns (raw and staging
from configs/record_types.yaml), every view from its SQL file, in dependency order, after the
functions of `core/functions.sql` and before the table functions of `core/table_functions.sql`
(which read views). A table that exists gains the columns a newer registry declares (a new
optional column must not require rebuilding the warehouse).

`ensure_schema` does this once per version of the schema: it keeps the fingerprint of the registry,
its SQL and configs/record_types.yaml in `ops.schema_version`, and a connection to a warehouse that
is already up to date costs one query.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from functools import cache

import duckdb

from daam.config import CONFIG_DIR
from daam.secret import load_secret
from daam.sqlfiles import SqlFiles
from warehouse.db import transaction
from warehouse.pseudonyms import bind_secret, record_secret
from warehouse.registry import SCHEMAS, Model, registry, sql_dir

SQL = SqlFiles("warehouse")
FUNCTIONS = "core/functions.sql"
TABLE_FUNCTIONS = "core/table_functions.sql"


def create_table(model: Model) -> str:
    body = ",\n  ".join(f'"{c.name}" {c.type}' for c in model.columns)
    if model.primary_key and model.key_index:
        body += ",\n  primary key (" + ", ".join(f'"{c}"' for c in model.primary_key) + ")"
    return f"create table if not exists {model.name} (\n  {body}\n)"


def create_view(model: Model) -> str:
    return f"create or replace view {model.name} as\n{SQL.text(model.build)}"


def _add_missing_columns(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    have = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = $s and table_name = $t",
        {"s": model.schema, "t": model.table}).fetchall()}
    for col in model.columns:
        if col.name not in have:
            # constraints (not null, check) can not be added to rows that exist: the type alone
            bare = re.split(r"\s+(?:not null|default|check|primary key)\b", col.type)[0]
            con.execute(f'alter table {model.name} add column "{col.name}" {bare}')


def _drop_key_index(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """A table an older daam made with the primary key index its model now leaves out (`key_index:
    false`): its rows moved to the table made anew, in one transaction (DuckDB can not drop a
    primary key; a crash keeps the table as it was)."""
    indexed = con.execute(
        "select count(*) from duckdb_constraints() where database_name = current_database() "
        "and schema_name = $s and table_name = $t and constraint_type = 'PRIMARY KEY'",
        {"s": model.schema, "t": model.table}).fetchone()[0]
    if not indexed:
        return
    old = f"{model.table}_with_key_index"
    with transaction(con):
        con.execute(f"alter table {model.name} rename to {old}")
        con.execute(create_table(model))
        con.execute(f"insert into {model.name} by name select * from {model.schema}.{old}")
        con.execute(f"drop table {model.schema}.{old}")


@cache
def schema_fingerprint() -> str:
    """Hash of everything the DDL is made from."""
    h = hashlib.sha256()
    root = sql_dir()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".yml", ".sql") and path.is_file():
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    h.update((CONFIG_DIR / "record_types.yaml").read_bytes())
    return h.hexdigest()


def _current(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        rows = con.execute("select fingerprint from ops.schema_version").fetchall()
    except duckdb.CatalogException:
        return None
    return rows[0][0] if rows else None


def ensure_schema(con: duckdb.DuckDBPyConnection, settings=None, keys: bool = True) -> None:
    """Bind the pseudonym secret to `con` (warehouse/pseudonyms.py: a missing or unusable secret
    stops here, before anything is written; `keys=False` for a connection that computes no key),
    then create every schema, function, table and view that is missing or out of date
    (idempotent; `settings` is accepted for older callers and unused: the registry reads configs/
    itself)."""
    secret = load_secret() if keys else None
    if secret is not None:
        bind_secret(con, secret)
    _ensure_ddl(con)
    if secret is not None:
        record_secret(con, secret)


def _ensure_ddl(con: duckdb.DuckDBPyConnection) -> None:
    fingerprint = schema_fingerprint()
    if _current(con) == fingerprint:
        return
    reg = registry()
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    SQL.run(con, FUNCTIONS)
    for model in reg.models.values():
        if not model.is_view:
            con.execute(create_table(model))
            _add_missing_columns(con, model)
            if model.primary_key and not model.key_index:
                _drop_key_index(con, model)
    for model in reg.ordered(m for m in reg.models.values() if m.is_view):
        con.execute(create_view(model))
    SQL.run(con, TABLE_FUNCTIONS)
    con.execute("delete from ops.schema_version")
    con.execute("insert into ops.schema_version values ($f, $at)", {"f": fingerprint, "at": datetime.now()})
