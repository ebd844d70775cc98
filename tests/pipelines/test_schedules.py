"""Schedules, evaluated as the daemon would, and the monthly Tayssir close they start."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from dagster import DagsterInstance, RunRequest, SkipReason, build_schedule_context, materialize

from assets.cycle import tayssir_month_close
from assets.partitions import month_partition_key
from assets.resources import Warehouse
from daam.config import load_settings
from pipelines.load import run_load
from pipelines.schedules import nightly_quality_monitoring, tayssir_monthly_cycle
from tests.conftest import SCHOOL_A

CASABLANCA = ZoneInfo("Africa/Casablanca")


def test_monthly_cycle_closes_the_previous_month_in_every_directorate():
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(instance=instance,
                                         scheduled_execution_time=datetime(2022, 11, 11, 6, tzinfo=CASABLANCA))
        requests = list(tayssir_monthly_cycle(context))
    assert len(requests) == 82 and all(isinstance(r, RunRequest) for r in requests)
    first = min(load_settings().provinces)
    assert requests[0].partition_key == month_partition_key("2022-10", first)
    assert requests[0].run_key == f"tayssir-cycle|2022-10|{first}"
    assert {r.partition_key.keys_by_dimension["province"] for r in requests} == set(load_settings().provinces)


def test_monthly_cycle_skips_the_summer():
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(instance=instance,
                                         scheduled_execution_time=datetime(2023, 8, 11, 6, tzinfo=CASABLANCA))
        result = tayssir_monthly_cycle(context)
    assert isinstance(result, SkipReason) and "2023-07 is not a school month" in result.skip_message


def test_nightly_monitoring_schedule_requests_its_job():
    assert nightly_quality_monitoring.job_name == "quality_monitoring"
    assert nightly_quality_monitoring.execution_timezone == "Africa/Casablanca"
    assert nightly_quality_monitoring.cron_schedule == "30 2 * * *"


def test_month_close_on_the_small_landing_zone(small_landing: Path, tmp_path: Path):
    db = tmp_path / "w.duckdb"
    assert run_load(small_landing, db).ok
    result = materialize([tayssir_month_close], partition_key=month_partition_key("2022-10", "110"),
                         resources={"warehouse": Warehouse(database=str(db))})
    assert result.success
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("""select school_code, active_beneficiaries, compliant_pupils, entitlement_mad::double,
                                     not_paid_over_threshold, attendance_expected, attendance_received
                              from mart.tayssir_month_close""").fetchall()
    # J130245871 compliant (2 days, 2AP: 60 MAD); J130245872 over the primary threshold (5 days)
    assert rows == [(SCHOOL_A, 2, 1, 60.0, 1, True, True)]
