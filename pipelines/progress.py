"""Progress people can see during `daam load`, `daam monitor`, `daam feedback` and the benchmark.

On a terminal, a live bar (rich): partitions or directorates done out of the total, the elapsed and
remaining time, and the last step with its counts. Elsewhere (a log file, cron, CI), one plain line
per event on standard error. Both listen to the `daam.progress` logger (`daam/progress.py`).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from daam.progress import LOGGER


class _LineHandler(logging.Handler):
    """One line per event: time since the start, then the event's message."""

    def __init__(self, stream) -> None:
        super().__init__(logging.INFO)
        self.stream, self.started = stream, time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        elapsed = time.monotonic() - self.started
        self.stream.write(f"[{int(elapsed // 60):3d}:{int(elapsed % 60):02d}] {record.getMessage()}\n")
        self.stream.flush()


class _BarHandler(logging.Handler):
    """Moves a rich progress bar: `total` sets its length, a `done` event advances it, every
    event becomes the line under the bar."""

    def __init__(self, progress: Progress, task) -> None:
        super().__init__(logging.INFO)
        self.progress, self.task = progress, task

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record, "daam_progress", {})
        update: dict = {"status": record.getMessage()}
        if "total" in fields:
            update["total"] = fields["total"]
        if "done" in fields:
            update["completed"] = fields["done"]
        self.progress.update(self.task, **update)


@contextmanager
def shown(what: str, live: bool | None = None) -> Iterator[None]:
    """Show the `daam.progress` events while the block runs: a live bar when standard error is a
    terminal (or `live`), else one line per event."""
    logger = logging.getLogger(LOGGER)
    live = sys.stderr.isatty() if live is None else live
    previous = (logger.level, logger.propagate)
    if live:
        progress = Progress(TextColumn(f"[bold]{what}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("remaining"), TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
                            console=Console(stderr=True), transient=False)
        handler, display = _BarHandler(progress, progress.add_task(what, total=None, status="")), progress
    else:
        handler, display = _LineHandler(sys.stderr), nullcontext()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        with display:
            yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]
