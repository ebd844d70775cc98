"""Reading ahead: the next partition's files read while this one is staged.

`daam load` loads its partitions one after another in one process. Between two raw steps
(staging, core, the checks, the mart: two thirds of a partition's time at national scale) the
reader processes would idle while the parent alone works. So when the load says which partitions
come next (`planned`), the raw step of a partition, once committed, hands the next partition's
chunks of files to the readers (warehouse/build/raw.py), and the next raw step takes the chunks
already read (`take`) instead of reading them again.

A chunk is matched on its files' paths, content hashes and versions: a chunk whose files changed
in between is simply read again. A read ahead never writes the warehouse (its rows wait as
Parquet files in a private folder next to it, like the raw step's own), so a failure or a kill
loses nothing: `discard`, which the load calls at its end whatever happened, cancels what was not
taken and removes the folder, and the next load removes one left by a killed process.
"""

from __future__ import annotations

import glob
import shutil
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager
from pathlib import Path

from warehouse.build import Scope

PREFIX = ".daam-ahead-"

_plan: list[Scope] = []
_ahead: dict[tuple, Future] = {}
_folder: Path | None = None
counts: Counter = Counter()  # chunks `taken` read ahead, `submitted` ahead (for the logs and tests)


@contextmanager
def planned(partitions: list[tuple[str, str]], warehouse: str | Path) -> Iterator[None]:
    """Within the block, the raw step of each of `partitions` (school year, directorate), loaded
    in this order into `warehouse`, reads the next one's files ahead."""
    global _plan, _folder
    discard()
    warehouse = Path(warehouse).resolve()
    for stale in warehouse.parent.glob(f"{glob.escape(PREFIX + warehouse.name)}*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed load of this warehouse
    _plan = [Scope(school_year=y, province=p) for y, p in partitions]
    _folder = warehouse.parent / f"{PREFIX}{warehouse.name}"
    try:
        yield
    finally:
        discard()
        _plan = []


def next_after(scope: Scope) -> Scope | None:
    """The partition planned after `scope`, None when it is the last or nothing is planned."""
    for i, planned_scope in enumerate(_plan[:-1]):
        if planned_scope == scope:
            return _plan[i + 1]
    return None


def folder() -> Path:
    """The folder of the read-ahead Parquet files (mode 0700: they hold school data)."""
    assert _folder is not None, "nothing is planned"
    _folder.mkdir(mode=0o700, exist_ok=True)
    return _folder


def offer(key: tuple, future: Future) -> None:
    """Keep a chunk being read ahead under `key` (its files' path, content hash, version)."""
    _ahead[key] = future
    counts["submitted"] += 1


def take(key: tuple) -> Future | None:
    """The chunk read ahead under `key`, once; None when there is none."""
    future = _ahead.pop(key, None)
    if future is not None:
        counts["taken"] += 1
    return future


def discard() -> None:
    """Cancel the chunks not taken, wait for those being read, remove their files."""
    for future in _ahead.values():
        future.cancel()
    wait(_ahead.values())  # a chunk being read writes its files until it ends; its error is nobody's
    _ahead.clear()
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)
