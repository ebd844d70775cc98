"""publish: the read-only copy of the warehouse that analysts and BI tools open."""

from datetime import datetime

from dagster import (
    AssetExecutionContext,
    DagsterRunStatus,
    MaterializeResult,
    MetadataValue,
    RetryRequested,
    RunsFilter,
    asset,
)

from assets.resources import Warehouse
from assets.specs import JOB_TAG, WRITES_TAG, key
from warehouse.publish import publish

ACTIVE = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


@asset(key=key("ops/published_snapshot"), group_name="ops", kinds={"duckdb"}, pool="duckdb_writer",
       deps=[key("mart/indicators"), key("ops/quality_history"), key("ops/approval_drift")], tags={JOB_TAG: "publish_snapshot"})
def published_snapshot(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Copy the warehouse, once no load is writing, to <name>.published.duckdb and swap it in
    atomically: readers opening that file (read-only) always see a complete load, never a lock
    error nor half a partition. The landing sensor requests it when the loads are done."""
    # Checked again here, not only by the sensor: a run launched from the UI may be between two
    # steps, and publishing now would copy half a partition.
    active = [r.run_id for r in context.instance.get_runs(RunsFilter(statuses=ACTIVE, tags={WRITES_TAG: "true"}))
              if r.run_id != context.run_id]
    if active:
        context.log.info(f"{len(active)} run(s) writing the warehouse: publishing later")
        raise RetryRequested(max_retries=20, seconds_to_wait=30)
    started = datetime.now()
    path = publish(warehouse.database)
    context.log.info(f"published {path} in {(datetime.now() - started).total_seconds():.1f} s")
    return MaterializeResult(metadata={"published": MetadataValue.path(str(path)),
                                       "size_bytes": path.stat().st_size})
