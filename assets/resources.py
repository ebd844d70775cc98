"""Dagster resources: where the landing zone is and which DuckDB file is the warehouse."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
from dagster._utils.backoff import backoff
from dagster_duckdb import DuckDBResource

from daam.config import load_settings
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
    """The DuckDB warehouse file. `connect()` opens it and creates any missing schema or table."""

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Like `get_connection`, but the connection is closed even when the step fails, so the
        file is never left locked for the next step or run of the same process."""
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        con = backoff(fn=duckdb.connect, retry_on=(RuntimeError, duckdb.IOException),
                      kwargs={"database": self.database, "read_only": False, "config": dict(self.connection_config)},
                      max_retries=10)
        try:
            ensure_schema(con, load_settings())
            yield con
        finally:
            con.close()


def landing_from_env() -> str:
    return os.environ.get("DAAM_LANDING", DEFAULT_LANDING)


def warehouse_from_env() -> str:
    return os.environ.get("DAAM_WAREHOUSE", DEFAULT_WAREHOUSE)
