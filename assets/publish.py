"""publish: the read-only copy of the warehouse that analysts and BI tools open."""

from datetime import datetime

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.keys import key
from pipelines.resources import Warehouse
from warehouse.publish import publish


@asset(key=key("ops/published_snapshot"), group_name="publish", kinds={"duckdb"}, pool="duckdb_writer",
       deps=[key("mart/indicators"), key("ops/quality_history")])
def published_snapshot(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Copy the warehouse, once no load is writing, to <name>.published.duckdb and swap it in
    atomically: readers opening that file (read-only) always see a complete load, never a lock
    error nor half a partition. The landing sensor requests it when the loads are done."""
    started = datetime.now()
    path = publish(warehouse.database)
    context.log.info(f"published {path} in {(datetime.now() - started).total_seconds():.1f} s")
    return MaterializeResult(metadata={"published": MetadataValue.path(str(path)),
                                       "size_bytes": path.stat().st_size})
