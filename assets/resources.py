"""Dagster resources: where the landing zone is, which DuckDB file is the warehouse, and the Massar
replica the SQL source reads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import sqlalchemy as sa
from dagster import ConfigurableResource, EnvVar
from dagster._utils.backoff import backoff
from dagster_duckdb import DuckDBResource
from pydantic import Field

from warehouse.db import HELD_MEMORY_SHARE, make_private, memory_limit
from warehouse.schema import ensure_schema

DEFAULT_LANDING = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"


class LandingZone(ConfigurableResource):
    """The landing root: the folder schools, directorates and the payment operator drop files into."""

    root: str

    @property
    def path(self) -> Path:
        return Path(self.root)


# The write-ahead log a held warehouse may grow to before DuckDB checkpoints it into the file. At
# its default (16 MB) every step's commit checkpoints: on a national warehouse (6 GB) that rewrites
# the tables' metadata and the small ops tables after every step of all 82 partitions.
HELD_CHECKPOINT_THRESHOLD = "1GB"
# resolved warehouse path -> its held connection (None until a step opens it, or after a step failed)
_held: dict[str, duckdb.DuckDBPyConnection | None] = {}


def _open(database: str, connection_config: dict, keys: bool) -> duckdb.DuckDBPyConnection:
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": memory_limit(), **connection_config}
    con = backoff(fn=duckdb.connect, retry_on=(RuntimeError, duckdb.IOException),
                  kwargs={"database": database, "read_only": False, "config": config},
                  max_retries=10)
    try:
        make_private(database)
        ensure_schema(con, keys=keys)
    except BaseException:
        con.close()
        raise
    return con


def _close(con: duckdb.DuckDBPyConnection, database: str) -> None:
    con.close()
    make_private(database)


@contextmanager
def held_open(database: str | Path) -> Iterator[None]:
    """Keep the warehouse open for the steps run in this process until the block ends (the
    partition runs of one `daam load`, which Dagster executes in process, one step after the
    other): the steps share one connection instead of each opening the file and checkpointing it
    as it closes. Commits stay durable (in the write-ahead log, private like the file); DuckDB
    checkpoints the log into the file as it reaches HELD_CHECKPOINT_THRESHOLD, and as the block
    ends. The file stays locked between the steps, as each step locks it for its own time."""
    path = str(Path(database).resolve())
    _held[path] = None
    try:
        yield
    finally:
        con = _held.pop(path, None)
        if con is not None:
            _close(con, str(database))


class Warehouse(DuckDBResource):
    """The DuckDB warehouse file. `connect()` opens it and sets up its schema when the registry
    changed since it was last set up (one query otherwise)."""

    @contextmanager
    def connect(self, keys: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """Like `get_connection`, but the connection is closed even when the step fails, so the
        file is never left locked for the next step or run of the same process. `keys=False` for
        a connection that computes no pupil key (it then needs no secret, `ensure_schema`).
        Within `held_open`, the held connection, opened by the first step (with keys) that needs
        it and closed if a step fails (the next one opens the file afresh)."""
        path = str(Path(self.database).resolve())
        if path not in _held:
            con = _open(self.database, self.connection_config, keys)
            try:
                yield con
            finally:
                _close(con, self.database)
            return
        con = _held[path]
        if con is None:
            con = _held[path] = _open(self.database, self.connection_config, True)
            con.execute(f"set checkpoint_threshold = '{HELD_CHECKPOINT_THRESHOLD}'")
            con.execute(f"set memory_limit = '{memory_limit(HELD_MEMORY_SHARE)}'")
        try:
            yield con
        except BaseException:
            # what failed may be the connection itself (DuckDB invalidates a database after a fatal
            # error): close it, so that the next step opens the file again
            _held[path] = None
            _close(con, self.database)
            raise
        make_private(self.database)  # the write-ahead log a step's commit may have created


SQL_URL_ENV = "DAAM_SQL_URL"


class MassarReplica(ConfigurableResource):
    """A relational Massar replica, read through SQLAlchemy: one table or view per record type."""

    url: str = Field(
        default=EnvVar(SQL_URL_ENV),
        description="SQLAlchemy URL of the replica, e.g. postgresql+psycopg://user:password@host:5432/massar "
                    f"or sqlite:////path/replica.sqlite; by default the environment variable {SQL_URL_ENV}.",
    )
    db_schema: str | None = Field(
        default=None,
        description="Database schema holding the tables (default: the connection's search path).")
    tables: dict[str, str] = Field(
        default_factory=dict,
        description="record type → table or view name, where it is not named like the record type.")

    def create_engine(self) -> sa.Engine:
        """An engine for one run: no pool kept between runs, connections checked before use."""
        return sa.create_engine(self.url, poolclass=sa.NullPool, pool_pre_ping=True)


def landing_from_env() -> str:
    return os.environ.get("DAAM_LANDING", DEFAULT_LANDING)


def warehouse_from_env() -> str:
    return os.environ.get("DAAM_WAREHOUSE", DEFAULT_WAREHOUSE)
