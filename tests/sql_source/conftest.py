"""The replica on two backends: SQLite (a file in tmp) and a real PostgreSQL server.

The PostgreSQL case reads its URL from DAAM_TEST_POSTGRES_URL (`.ci/postgres.sh` starts a server
and prints one; `.ci/run` exports it) and is skipped when that is unset, unless
CI_REQUIRE_POSTGRES=1, where a missing URL fails instead: CI can not skip it silently. Each test
gets a schema of its own on the server, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.sql_source import replica

POSTGRES_URL_ENV = "DAAM_TEST_POSTGRES_URL"
REQUIRE_ENV = "CI_REQUIRE_POSTGRES"
NO_POSTGRES = (f"PostgreSQL case skipped: {POSTGRES_URL_ENV} is not set (run `.ci/postgres.sh` and export "
               f"{POSTGRES_URL_ENV}=postgresql+psycopg://daam:daam@127.0.0.1:5433/daam)")


@dataclass
class Replica:
    backend: str
    engine: sa.Engine
    schema: str | None
    md: sa.MetaData

    def table(self, name: str) -> sa.Table:
        return replica.table(self.md, name)

    def execute(self, stmt) -> None:
        with self.engine.begin() as conn:
            conn.execute(stmt)


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {POSTGRES_URL_ENV} is not set: the PostgreSQL tests would be "
                        "skipped")
        pytest.skip(NO_POSTGRES)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def replica_db(request, tmp_path: Path):
    """The replica of tests/conftest.py FILES, on each backend."""
    if request.param == "sqlite":
        engine, schema = sa.create_engine(f"sqlite:///{tmp_path / 'replica.sqlite'}"), None
    else:
        engine, schema = sa.create_engine(postgres_url(), poolclass=sa.NullPool), f"t_{uuid.uuid4().hex[:12]}"
    try:
        md = replica.create(engine, schema)
        yield Replica(request.param, engine, schema, md)
    finally:
        if schema:
            with engine.begin() as conn:
                conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        engine.dispose()
