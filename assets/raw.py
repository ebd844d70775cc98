"""raw: every school file of a partition read into rows of text with full lineage."""

from datetime import datetime

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, multi_asset

from assets.keys import key
from daam.config import PERIOD_RECORD_TYPES, load_settings
from pipelines.partitions import split_key, year_province_partitions
from pipelines.resources import LandingZone, Warehouse
from pipelines.retry import retry_transient_io
from warehouse.db import log_step, transaction
from warehouse.raw_load import load_files

RAW_SPECS = [
    AssetSpec(key(f"raw/{rt}"), deps=[key("ops/landing_inventory")], group_name="raw", kinds={"duckdb"},
              description=f"Rows of every `{rt}` file of the partition, all values as text, with file path, "
                          "sheet, spreadsheet row number, file version and load id. Only file versions "
                          "never seen before are read; history of versions is kept.")
    for rt in PERIOD_RECORD_TYPES
]


@multi_asset(specs=RAW_SPECS, partitions_def=year_province_partitions, can_subset=False, pool="duckdb_writer")
def raw_files(context: AssetExecutionContext, landing: LandingZone, warehouse: Warehouse):
    """Read the new file versions of one (school year, directorate) partition with the generic,
    contract-driven reader; unreadable or contradictory files are rejected with a plain reason."""
    school_year, province = split_key(context.partition_key)
    settings = load_settings()
    started = datetime.now()
    with retry_transient_io(context.log, context.retry_number), warehouse.connect() as con:
        files = con.execute("""
            select file_path, record_type, school_year, period, school_code, province_code, content_sha256, refusal,
                   modified_at
            from ops.landing_inventory
            where school_year = $year and province_code = $province and refusal is null
        """, {"year": school_year, "province": province}).df()
        with transaction(con):
            summary = load_files(con, landing.path, files, settings, context.run_id)
            log_step(con, context.run_id, "raw", str(context.partition_key), started, str(summary))
        per_type = dict(con.execute("""
            select record_type, count(*) from ops.file_manifest
            where school_year = $year and province_code = $province and status = 'loaded' group by 1
        """, {"year": school_year, "province": province}).fetchall())
    context.log.info(f"{school_year}/{province}: {summary}")
    for rt in PERIOD_RECORD_TYPES:
        yield MaterializeResult(asset_key=key(f"raw/{rt}"), metadata={
            "current_files": per_type.get(rt, 0), "new_versions_in_run": summary.files_new,
            "rejected_in_run": summary.files_rejected})
