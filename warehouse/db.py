"""Connections and transactions on the warehouse file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from daam.progress import emit

PRIVATE = 0o600


MEMORY_ENV = "DAAM_MEMORY_LIMIT"
MEMORY_SHARE = 0.25  # of the machine's memory: the rest is for the worker processes, Python and the OS
# A connection held through a load's partitions (assets/resources.py) keeps what it read cached up
# to its limit, while the two reader processes and Python's own memory run beside it: a sixth of
# the machine keeps the whole load within about a quarter.
HELD_MEMORY_SHARE = 1 / 6


def memory_limit(share: float = MEMORY_SHARE) -> str:
    """DuckDB's memory limit for the warehouse's connections: $DAAM_MEMORY_LIMIT (e.g. `6GB`), else
    `share` of the machine's memory (a quarter). DuckDB spills to a temporary folder beyond it, so
    a load's memory is bounded by design: this limit, the reader's batches of files and staging's
    batches of rows."""
    if os.environ.get(MEMORY_ENV):
        return os.environ[MEMORY_ENV]
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{int(total * share / 2**20)}MB"


def make_private(database: str | Path) -> None:
    """The working warehouse holds everything, personal data included: mode 0600, whatever the
    umask (levels.md section 1). Its write-ahead log too, when there is one."""
    for path in (Path(database), Path(f"{database}.wal")):
        try:
            if path.stat().st_mode & 0o777 != PRIVATE:
                os.chmod(path, PRIVATE)
        except FileNotFoundError:
            pass


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
    """Append one line to ops.load_log: which run wrote what, when (counts only, no personal data);
    and say it as a progress event."""
    # not DuckDB's now(): that is the start of the current transaction
    finished = datetime.now()
    con.execute("insert into ops.load_log values ($id, $step, $part, $started, $finished, $detail)",
                {"id": load_id, "step": step, "part": partition_key, "started": started_at,
                 "finished": finished, "detail": detail})
    seconds = (finished - started_at).total_seconds()
    where = f" {partition_key}" if partition_key else ""
    emit("step", f"{step}{where}: {seconds:.1f} s, {detail[:160]}", step=step, partition=partition_key,
         seconds=seconds)

