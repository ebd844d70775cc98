"""Connections and transactions on the warehouse file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import duckdb


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Everything inside commits together or not at all: a crash leaves the warehouse as it was."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    else:
        con.execute("commit")


def log_step(con: duckdb.DuckDBPyConnection, load_id: str, step: str, partition_key: str | None,
             started_at, detail: str) -> None:
    """Append one line to ops.load_log: which run wrote what, when (counts only, no personal data)."""
    # not DuckDB's now(): that is the start of the current transaction
    con.execute("insert into ops.load_log values ($id, $step, $part, $started, $finished, $detail)",
                {"id": load_id, "step": step, "part": partition_key, "started": started_at,
                 "finished": datetime.now(), "detail": detail})

