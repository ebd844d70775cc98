"""The whole quality watch through Dagster on the hand-written landing zone: the load's failed
WARN checks reach the alert log through the sensor, and `daam monitor` writes the history, the
scores and a Data Docs site."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, SkipReason, build_sensor_context

from pipelines.alerts import AlertNotifier
from pipelines.cli import main
from pipelines.definitions import build_definitions
from pipelines.load import run_load
from pipelines.sensors import failed_check_sensor
from tests.conftest import FILES, write_files


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    """A persistent Dagster instance (DAGSTER_HOME), a loaded warehouse and a GX root, all in tmp."""
    root = tmp_path_factory.mktemp("watch")
    write_files(root / "landing", FILES)
    (root / "dagster_home").mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
    mp.setenv("DAAM_GX_ROOT", str(root / "gx_root"))
    report = run_load(root / "landing", root / "w.duckdb")
    assert report.ok, report.failed
    yield root
    mp.undo()


def test_sensor_alerts_on_the_loads_failed_warn_checks(home: Path):
    log = home / "alerts.log"
    with DagsterInstance.get() as instance:
        defs = build_definitions(str(home / "landing"), str(home / "w.duckdb"))
        context = build_sensor_context(instance=instance, definitions=defs,
                                       resources={"alert_notifier": AlertNotifier(log_path=str(log), webhook_url="")})
        result = failed_check_sensor(context)
        assert isinstance(result, SkipReason)
        alerts = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        # the fixture quarantines rows of the roster and the attendance; the schoolbags declaration
        # only carries a warning, which does not fail its suite
        failed = {(a["asset_key"], a["check_name"], a["severity"]) for a in alerts}
        assert failed == {("staging/students", "quality_suite", "WARN"),
                          ("staging/attendance", "quality_suite", "WARN")}
        assert all(a["partition_key"] == "110|2022-2023" for a in alerts)
        again = build_sensor_context(instance=instance, definitions=defs, cursor=context.cursor,
                                     resources={"alert_notifier": AlertNotifier(log_path=str(log), webhook_url="")})
        failed_check_sensor(again)
        assert len(log.read_text(encoding="utf-8").splitlines()) == len(alerts)  # nothing sent twice


def test_daam_monitor_writes_history_scores_and_data_docs(home: Path, capsys: pytest.CaptureFixture):
    assert main(["monitor", "--warehouse", str(home / "w.duckdb")]) == 0
    assert "Data Docs: file://" in capsys.readouterr().out
    index = home / "gx_root" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert index.is_file() and "daam.students" in index.read_text(encoding="utf-8")
    with duckdb.connect(str(home / "w.duckdb"), read_only=True) as con:
        runs = con.execute("select count(distinct run_id), count(*) from ops.quality_history").fetchall()[0]
        levels = {r[0] for r in con.execute("select distinct geo_level from mart.quality_score").fetchall()}
    assert runs[0] == 1 and runs[1] > 50
    assert levels == {"school", "province", "region", "national"}
