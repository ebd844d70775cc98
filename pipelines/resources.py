"""Dagster resources: where the landing zone is and which DuckDB file is the warehouse."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
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
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with self.get_connection() as con:
            ensure_schema(con, load_settings())
            yield con


def landing_from_env() -> str:
    return os.environ.get("DAAM_LANDING", DEFAULT_LANDING)


def warehouse_from_env() -> str:
    return os.environ.get("DAAM_WAREHOUSE", DEFAULT_WAREHOUSE)
