"""The one Dagster `Definitions` of daam (`dg dev`, `dg check defs`, `dg list defs` load it)."""

from __future__ import annotations

from dagster import Definitions

from assets.approval import approval_drift
from assets.core import core_facts
from assets.cycle import tayssir_month_close
from assets.landing import landing_inventory, sql_extract
from assets.mart import indicators
from assets.monitoring import data_docs, monitoring
from assets.publish import published
from assets.raw import raw_files
from assets.resources import LandingZone, MassarReplica, Warehouse, landing_from_env, warehouse_from_env
from assets.roster_twins import roster_warnings
from assets.site import report_site
from assets.staging import staging_tables
from pipelines.alerts import AlertNotifier
from pipelines.jobs import (
    landing_scan_job,
    partition_load_job,
    publish_job,
    quality_monitoring_job,
    sql_extract_job,
    tayssir_cycle_job,
)
from pipelines.landing_sensor import landing_sensor
from pipelines.schedules import (
    nightly_quality_monitoring,
    sql_extract_hourly,
    sql_extract_nightly_full,
    tayssir_monthly_cycle,
)
from pipelines.sensors import failed_check_sensor


def build_definitions(landing: str | None = None, warehouse: str | None = None) -> Definitions:
    """Definitions bound to a landing root and a warehouse file (default: DAAM_LANDING /
    DAAM_WAREHOUSE, else data/landing and data/warehouse.duckdb)."""
    return Definitions(
        assets=[landing_inventory, raw_files, staging_tables, core_facts, indicators, monitoring, data_docs,
                tayssir_month_close, sql_extract, roster_warnings, approval_drift, published, report_site],
        jobs=[landing_scan_job, partition_load_job, quality_monitoring_job, tayssir_cycle_job, sql_extract_job,
              publish_job],
        schedules=[nightly_quality_monitoring, tayssir_monthly_cycle, sql_extract_hourly, sql_extract_nightly_full],
        sensors=[failed_check_sensor, landing_sensor],
        resources={
            "landing": LandingZone(root=landing or landing_from_env()),
            "warehouse": Warehouse(database=warehouse or warehouse_from_env()),
            "alert_notifier": AlertNotifier(),
            "massar_replica": MassarReplica(),
        },
    )


defs = build_definitions()
