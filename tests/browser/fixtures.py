"""Chromium for the browser tests: one browser per test module, one context per page.

The browser is Debian's chromium (`.ci/chromium.sh` installs it; DAAM_CHROMIUM names another one).
Without it the browser tests are skipped, unless CI_REQUIRE_BROWSER=1 (set by `.ci/run`), where a
missing Chromium fails them instead: CI can not skip them silently. tests/conftest.py imports these
fixtures, so every test folder uses the same definition (two definitions alive at once would be
two Playwright instances, which the sync API refuses).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser import harness

REQUIRE_ENV = "CI_REQUIRE_BROWSER"


def no_chromium() -> str:
    """Why there is no browser, and what to do."""
    own = os.environ.get(harness.CHROMIUM_ENV)
    missing = (f"{harness.CHROMIUM_ENV}={own} is not an executable file" if own
               else f"{harness.DEFAULT_CHROMIUM} is missing")
    return (f"{missing} (run `.ci/chromium.sh` as root, or set {harness.CHROMIUM_ENV} "
            "to a Chromium binary)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless and offline, for one test module: Playwright's sync API keeps
    an event loop in the main thread while it runs, which the Dagster runs of the other modules
    must not inherit."""
    exe = harness.chromium_executable()
    if exe is None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but the browser tests can not run: {no_chromium()}")
        pytest.skip(f"browser tests skipped: {no_chromium()}")
    with harness.launched_browser(exe) as b:
        yield b


@pytest.fixture
def open_visit(browser: Browser) -> Iterator[Callable[..., harness.Visit]]:
    """`open_visit(path, site_root, viewport=harness.DESKTOP)`: harness.open_page, closed after the test."""
    visits: list[harness.Visit] = []

    def _open(path: Path, site_root: Path, viewport: tuple[int, int] = harness.DESKTOP) -> harness.Visit:
        visit = harness.open_page(browser, path, site_root, *viewport)
        visits.append(visit)
        return visit

    yield _open
    for visit in visits:
        visit.close()
