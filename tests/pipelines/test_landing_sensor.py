"""The landing sensor, tick by tick, against a real instance: settling, one scan per landing
state, one load per changed partition, nothing twice, nothing lost after a restart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dagster import DagsterInstance, SensorResult, build_sensor_context

from assets.resources import LandingZone, Warehouse
from pipelines.definitions import build_definitions
from pipelines.landing_sensor import SETTLE_ENV, landing_sensor, settling
from tests.conftest import FILES, SCHOOL_A, YEAR, write_files

ATTENDANCE = f"{YEAR}/attendance/2022-10/{SCHOOL_A}.csv"


class Ticker:
    """Evaluates the sensor as the daemon would, carrying the cursor, and launches what it asks."""

    def __init__(self, root: Path, instance: DagsterInstance):
        self.defs = build_definitions(str(root / "landing"), str(root / "w.duckdb"))
        self.resources = {"landing": LandingZone(root=str(root / "landing")),
                          "warehouse": Warehouse(database=str(root / "w.duckdb"))}
        self.instance, self.cursor = instance, None

    def tick(self) -> SensorResult:
        context = build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=self.defs,
                                       resources=self.resources)
        result = landing_sensor(context)
        self.cursor = result.cursor
        return result

    def launch(self, result: SensorResult) -> None:
        for request in result.run_requests:
            job = self.defs.resolve_job_def(request.job_name)
            outcome = job.execute_in_process(instance=self.instance, partition_key=request.partition_key,
                                             tags={"dagster/run_key": request.run_key}, raise_on_error=False)
            assert outcome.success


@pytest.fixture
def ticker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(SETTLE_ENV, "0")
    write_files(tmp_path / "landing", FILES)
    with DagsterInstance.ephemeral() as instance:
        yield Ticker(tmp_path, instance)


def test_settling_waits_for_a_growing_file(tmp_path: Path):
    before = {"a.csv": [10, 1_000_000_000], "b.csv": [5, 1_000_000_000]}
    now = {"a.csv": [20, 2_000_000_000], "b.csv": [5, 1_000_000_000], "c.csv": [1, 1_000_000_000]}
    assert settling(now, before, settle_seconds=0, clock=10) == ["a.csv", "c.csv"]  # grew; new since last tick
    assert settling(now, now, settle_seconds=0, clock=10) == []
    assert settling(now, now, settle_seconds=9, clock=10) == ["a.csv"]  # modified 8 s before the clock


def test_scan_then_exactly_the_changed_partitions(ticker: Ticker, tmp_path: Path):
    first = ticker.tick()
    assert not first.run_requests and "still being written" in first.skip_reason.skip_message
    scan = ticker.tick()
    assert [r.job_name for r in scan.run_requests] == ["landing_scan"]
    waiting = ticker.tick()
    assert not waiting.run_requests and "waiting for the landing scan" in waiting.skip_reason.skip_message
    ticker.launch(scan)
    loads = ticker.tick()
    assert [(r.job_name, r.partition_key) for r in loads.run_requests] == [("partition_load", f"110|{YEAR}")]
    assert loads.run_requests[0].run_key.startswith(f"{YEAR}|110|")
    ticker.launch(loads)
    publish = ticker.tick()  # all loaded, nothing running: the readers' copy follows
    assert [r.job_name for r in publish.run_requests] == ["publish_snapshot"]
    ticker.launch(publish)
    assert (tmp_path / "w.published.duckdb").is_file()
    idle = ticker.tick()
    assert not idle.run_requests and "every partition is loaded" in idle.skip_reason.skip_message

    # a school corrects its attendance file: settle, scan, then that partition only, under a new key
    path = tmp_path / "landing" / ATTENDANCE
    path.write_text(FILES[ATTENDANCE].replace("J130245873,30,0", "J130245873,3,0"), encoding="utf-8")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 5))  # a new time, in the past
    assert not ticker.tick().run_requests  # settling
    rescan = ticker.tick()
    assert [r.job_name for r in rescan.run_requests] == ["landing_scan"]
    ticker.launch(rescan)
    reload = ticker.tick()
    assert [r.partition_key for r in reload.run_requests] == [f"110|{YEAR}"]
    assert reload.run_requests[0].run_key != loads.run_requests[0].run_key

    # a restart loses the cursor: one settling tick, the same scan key (already run), nothing to load
    ticker.launch(reload)
    ticker.launch(ticker.tick())  # publish
    ticker.cursor = None
    assert not ticker.tick().run_requests
    again = ticker.tick()
    assert [r.run_key for r in again.run_requests] == [rescan.run_requests[0].run_key]  # deduplicated by Dagster
    after = ticker.tick()
    assert not after.run_requests and "every partition is loaded" in after.skip_reason.skip_message
