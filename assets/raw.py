"""raw: every school file of a partition read into rows of text with full lineage."""

from dagster import AssetExecutionContext, multi_asset

from assets.partitions import scope, year_province_partitions
from assets.resources import LandingZone, Warehouse
from assets.retry import retry_transient_io
from assets.specs import results, specs
from daam.config import load_settings
from warehouse.build import raw


@multi_asset(specs=specs("raw", "partition_load"), partitions_def=year_province_partitions, can_subset=False,
             pool="duckdb_writer")
def raw_files(context: AssetExecutionContext, landing: LandingZone, warehouse: Warehouse):
    """Read the new file versions of one (school year, directorate) partition with the generic,
    contract-driven reader; unreadable or contradictory files are rejected with a plain reason."""
    partition = scope(context.partition_key)
    with retry_transient_io(context.log, context.retry_number), warehouse.connect() as con:
        built = raw.build(con, landing.path, partition, load_settings(), context.run_id)
    context.log.info(f"{partition.key}: {built.detail}")
    yield from results(built, "raw")
