"""mart: the programme marts and the published indicators at school, province, region and national level."""

from dagster import AssetExecutionContext, multi_asset

from assets.partitions import scope, year_province_partitions
from assets.resources import Warehouse
from assets.specs import check_specs, results, specs
from warehouse.build import mart


@multi_asset(specs=specs("mart", "partition_load"), check_specs=check_specs("mart"),
             partitions_def=year_province_partitions, can_subset=False, pool="duckdb_writer")
def indicators(context: AssetExecutionContext, warehouse: Warehouse):
    """Replace the partition's programme marts and school rows and recompute its directorate, region
    and the nation. The new rows are checked before they are committed: if the levels do not add
    up, the transaction is rolled back and analysts keep the previous indicators."""
    with warehouse.connect() as con:
        built = mart.build(con, scope(context.partition_key), context.run_id)
    yield from results(built, "mart")
