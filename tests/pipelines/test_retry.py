"""Only transient I/O errors are retried, with back-off; everything else fails at once."""

from __future__ import annotations

import logging

import duckdb
import pytest
from dagster import RetryRequested

from assets.retry import retry_transient_io


def _raise(exc: BaseException, retry_number: int = 0) -> None:
    with retry_transient_io(logging.getLogger("test"), retry_number):
        raise exc


@pytest.mark.parametrize("exc", [OSError(5, "Input/output error"), TimeoutError("share timed out"),
                                 duckdb.IOException("Could not set lock on file")])
def test_transient_io_is_retried_with_back_off(exc: BaseException):
    with pytest.raises(RetryRequested) as info:
        _raise(exc)
    assert info.value.max_retries == 3 and info.value.seconds_to_wait == 5  # first retry: 5 s
    with pytest.raises(RetryRequested) as info:
        _raise(exc, retry_number=2)
    assert info.value.seconds_to_wait == 20  # then 10, then 20


@pytest.mark.parametrize("exc", [FileNotFoundError("gone"), PermissionError("denied"), ValueError("a bug"),
                                 duckdb.CatalogException("no such table")])
def test_other_errors_fail_at_once(exc: BaseException):
    with pytest.raises(type(exc)):
        _raise(exc)
