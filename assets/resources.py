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

from warehouse.db import make_private, memory_limit
from warehouse.schema import ensure_schema

DEFAULT_LANDING = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"


class LandingZone(ConfigurableResource):
    """The landing root: the folder schools, directorates and the payment operator drop files into."""

    root: str

    @property
    def path(self) -> Path:
        return Path(self.root)


class Warehouse(DuckDBResource):
    """The DuckDB warehouse file. `connect()` opens it and sets up its schema when the registry
    changed since it was last set up (one query otherwise)."""

    @contextmanager
    def connect(self, keys: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """Like `get_connection`, but the connection is closed even when the step fails, so the
        file is never left locked for the next step or run of the same process. `keys=False` for
        a connection that computes no pupil key (it then needs no secret, `ensure_schema`)."""
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": memory_limit(), **self.connection_config}
        con = backoff(fn=duckdb.connect, retry_on=(RuntimeError, duckdb.IOException),
                      kwargs={"database": self.database, "read_only": False, "config": config},
                      max_retries=10)
        try:
            make_private(self.database)
            ensure_schema(con, keys=keys)
            yield con
        finally:
            con.close()
            make_private(self.database)


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
