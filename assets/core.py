"""core: the star schema's facts and pupil dimension for one partition, gated by blocking checks."""

from dagster import AssetExecutionContext, multi_asset

from assets.partitions import scope, year_province_partitions
from assets.resources import Warehouse
from assets.specs import check_specs, results, specs
from warehouse.build import core


@multi_asset(specs=specs("core", "partition_load"), check_specs=check_specs("core"),
             partitions_def=year_province_partitions, can_subset=False, pool="duckdb_writer")
def core_facts(context: AssetExecutionContext, warehouse: Warehouse):
    """Replace the partition's rows of every fact (one transaction), then check each fact's
    referential integrity and its reconciliation with staging; a failure blocks the mart."""
    with warehouse.connect() as con:
        built = core.build(con, scope(context.partition_key), context.run_id)
    yield from results(built, "core")
