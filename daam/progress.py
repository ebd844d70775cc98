"""Progress of long commands, as events on one Python logger, `daam.progress`.

The builders say when a step of a partition ends (`warehouse.db.log_step`), the reader how many
files of a partition it has read, the load which partition it starts; the command line shows them
as a live bar on a terminal and as one line per event elsewhere (`pipelines/progress.py`), and a
Dagster instance that manages this logger (`pipelines/dagster.yaml`) writes them into its run logs.
Events carry counts and names of steps, partitions and directorates: never a value of a row.
"""

from __future__ import annotations

import logging

LOGGER = "daam.progress"
log = logging.getLogger(LOGGER)


def emit(kind: str, message: str, **fields) -> None:
    """One progress event: `kind` (partition, step, read, feedback, ...), a line for people, and its
    fields for a live display (total, done, partition, step, seconds...)."""
    log.info(message, extra={"daam_progress": {"kind": kind, **fields}})
