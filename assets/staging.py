"""staging: a partition's raw rows normalised, validated by the catalogue's rules (the Great
Expectations suites compiled to DuckDB SQL) and the SQL rules across rows; errors quarantined,
warnings flagged, every issue in ops.row_issue."""

from dagster import AssetExecutionContext, multi_asset

from assets.partitions import scope, year_province_partitions
from assets.resources import Warehouse
from assets.specs import check_specs, results, specs
from daam.config import load_settings
from warehouse.build import staging


@multi_asset(specs=specs("staging", "partition_load", kinds=("duckdb", "pandas")), check_specs=check_specs("staging"),
             partitions_def=year_province_partitions, can_subset=False, pool="duckdb_writer")
def staging_tables(context: AssetExecutionContext, warehouse: Warehouse):
    """Stage the partition's new and changed files from raw in one transaction (a record type
    whole when its rosters, the referential or the code changed, so late rosters re-admit rows),
    update ops.row_issue (vanished issues resolved) and the manifest counts."""
    with warehouse.connect() as con:
        built = staging.build(con, scope(context.partition_key), load_settings(), context.run_id)
    yield from results(built, "staging")
