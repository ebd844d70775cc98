"""landing: the scan that places every file (unpartitioned, before the partitions), and the SQL
source that writes a Massar replica's rows into the landing zone as files."""

from dagster import (
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)
from pydantic import Field

from assets.resources import LandingZone, MassarReplica, Warehouse
from assets.retry import retry_transient_io
from assets.specs import JOB_TAG, check_specs, key, results, specs
from daam.config import load_settings
from daam.sql_source import extract
from warehouse.build import landing as landing_builder

MAX_LISTED_FILES = 50


@multi_asset(specs=specs("landing", "landing_scan"), check_specs=check_specs("landing"), can_subset=False,
             pool="duckdb_writer")
def landing_inventory(context: AssetExecutionContext, landing: LandingZone, warehouse: Warehouse):
    """Scan the landing root, load the configuration and the referential, place every file in its
    partition, and record every refused file (unknown school, path outside the layout, links, bad names)."""
    with retry_transient_io(context.log, context.retry_number), warehouse.connect() as con:
        built = landing_builder.build(con, landing.path, load_settings(), context.run_id)
    context.log.info(f"landing scan: {built.detail}")
    yield from results(built, "landing")


class SqlExtractConfig(Config):
    full: bool = Field(default=False, description="Read every group again, not only those changed since "
                                                  "the last run (files are rewritten only if they differ).")
    record_types: list[str] | None = Field(default=None, description="Only these record types (default: all "
                                                                     "that have a table in the replica).")


@asset(key=key("landing/sql_extract"), group_name="landing", kinds={"sql"}, tags={JOB_TAG: "sql_extract"})
def sql_extract(context: AssetExecutionContext, config: SqlExtractConfig, massar_replica: MassarReplica,
                landing: LandingZone) -> MaterializeResult:
    """Extract the Massar replica into the landing zone: for every school file, monthly file or payment
    file whose rows changed in the replica since the last extraction (updated_at), rewrite that one
    CSV file whole; unchanged files are left untouched. The landing scan and the partition loads then
    load them like the files schools send. Run it with `full` to also drop deleted rows."""
    engine = massar_replica.create_engine()
    try:
        report = extract(engine, landing.path, config.record_types, config.full,
                         tables=massar_replica.tables, schema=massar_replica.db_schema)
        source = engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
    context.log.info(f"sql extract: {report.summary()}")
    rows = ["| table | groups | read again | rows read | files written | unchanged | refused | mark |",
            "|---|---|---|---|---|---|---|---|"]
    rows += [f"| {t.table} | {t.groups} | {t.groups_changed} | {t.rows_read} | {len(t.files_written)} | "
             f"{len(t.files_unchanged)} | {t.groups_refused} | {t.mark_after or ''} |" for t in report.tables]
    written = report.files_written
    return MaterializeResult(metadata={
        "source": MetadataValue.text(source),
        "full": MetadataValue.bool(config.full),
        "tables_read": MetadataValue.int(len(report.tables)),
        "rows_read": MetadataValue.int(report.rows_read),
        "files_written": MetadataValue.int(len(written)),
        "files_unchanged": MetadataValue.int(len(report.files_unchanged)),
        "groups_refused": MetadataValue.int(report.groups_refused),
        "tables_missing": MetadataValue.text(", ".join(report.tables_missing)),
        "marks": MetadataValue.json(report.marks),
        "tables": MetadataValue.md("\n".join(rows)),
        "written": MetadataValue.json(written[:MAX_LISTED_FILES]),
    })
