"""Retries for transient I/O only: a network share that hiccups, a disk briefly full, a DuckDB
file held by a reader for a moment. Anything else (a bug, bad configuration) fails at once, since
retrying it would only fail again, later."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import RetryRequested

MAX_RETRIES = 3
FIRST_WAIT_SECONDS = 5

# FileNotFoundError and PermissionError are OSErrors, but retrying does not bring a file back.
NOT_TRANSIENT = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
TRANSIENT = (OSError, duckdb.IOException)


@contextmanager
def retry_transient_io(log: logging.Logger, retry_number: int) -> Iterator[None]:
    """Turn a transient I/O error into a Dagster retry with exponential back-off (5, 10, 20 s);
    `retry_number` is the step's `context.retry_number`."""
    try:
        yield
    except NOT_TRANSIENT:
        raise
    except TRANSIENT as exc:
        wait = FIRST_WAIT_SECONDS * 2 ** retry_number
        log.warning(f"transient I/O error ({type(exc).__name__}: {exc}); retry {retry_number + 1}/{MAX_RETRIES} "
                    f"in {wait} s")
        raise RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=wait) from exc
