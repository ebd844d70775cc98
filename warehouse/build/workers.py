"""The worker processes that keep both cores busy reading files (raw) while the parent process,
the warehouse's single writer, inserts and runs SQL. (Staging needs none: it runs inside
DuckDB, whose own threads take both cores.)"""

from __future__ import annotations

import atexit
import gc
import multiprocessing as mp
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

import duckdb

PARALLEL_THRESHOLD = 40  # below this many tasks, starting workers costs more than it saves

# A worker's collector: a young pass every 20,000 allocations (Python's default: 700), the older
# ones at Python's own ratios (10, 10), so that the feedback workbooks' cycles (openpyxl's cells
# point to their sheet) are freed as often, relative to the work, as before. Measured on two nation
# directorates (3,706 files): the readers' CPU 11.2-11.4 s -> 10.4-10.6 s.
WORKER_GC_THRESHOLDS = (20_000, 10, 10)
# The workers' scheduling priority, below the parent's (0). The parent, the warehouse's single
# writer, runs every step of every partition one after the other: it is the load's critical path,
# while the readers read the next partition's files ahead and have time to spare. At equal
# priority the two readers and the parent's DuckDB threads shared the two cores evenly, and each
# step of the parent took longer than it needed; niced, the readers take what the parent leaves
# (its single-threaded Python, its waits), and when it waits for them they have the cores alone.
# The same pool writes the feedback workbooks from the issues the parent reads for them: there too
# the parent, which feeds them, goes first (nation feedback 171.6 -> 160.5 s).
WORKER_NICENESS = 10
_POOL: ProcessPoolExecutor | None = None
_LOCAL: duckdb.DuckDBPyConnection | None = None


def local_db() -> duckdb.DuckDBPyConnection:
    """A worker's own in-memory DuckDB (the readers write their Parquet files with it), with one
    thread: the workers already take every core."""
    global _LOCAL
    if _LOCAL is None:
        _LOCAL = duckdb.connect(config={"threads": 1})
    return _LOCAL


def _worker_started() -> None:
    """A worker process's priority (WORKER_NICENESS) and garbage collector, set once it has
    started. A reader builds millions of short-lived lists and tuples (a list of cells per row),
    and Python's collector, counting them, ran a generation-0 pass every 700 of them and
    re-scanned every module object the process had imported on each full pass. The objects alive
    at start are frozen (never scanned again), and the passes run far less often
    (WORKER_GC_THRESHOLDS): the reference cycles a worker makes (a refused file's exception and
    its frames, a workbook) are still collected."""
    os.nice(WORKER_NICENESS)
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)


def _shutdown_pool() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(cancel_futures=True)
        _POOL = None


@contextmanager
def worker_pool(tasks: int, threshold: int | None = None) -> Iterator[ProcessPoolExecutor | None]:
    """The worker processes, when there are at least `threshold` tasks (PARALLEL_THRESHOLD by
    default; None: work in this process).

    One pool per process, started at the first large partition and kept for the next ones: a load
    of the nation reads 82 partitions, and starting the workers (and their imports) each time
    would cost seconds per partition. forkserver, because the parent holds a DuckDB connection
    and Dagster's threads, which a plain fork would copy in an undefined state; the server
    preloads the reader so that each worker starts with it imported."""
    global _POOL
    threshold = PARALLEL_THRESHOLD if threshold is None else threshold
    if tasks < threshold or (os.cpu_count() or 1) < 2:
        yield None
        return
    if _POOL is None:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["warehouse.build.raw"])
        _POOL = ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=ctx, initializer=_worker_started)
        atexit.register(_shutdown_pool)
    try:
        yield _POOL
    except BrokenProcessPool:
        _shutdown_pool()  # a worker died (killed, out of memory): the next partition starts a new pool
        raise
