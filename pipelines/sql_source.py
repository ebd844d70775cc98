"""The Massar replica as a Dagster resource, and the asset that extracts it into the landing zone.

`landing/sql_extract` writes the replica's changed rows as landing-zone CSV files
(`daam.sql_source.extract`); the regular pipeline (landing scan, then the partition loads, e.g.
through the landing sensor) loads them like any school's files.
"""

import sqlalchemy as sa
from dagster import (
    AssetExecutionContext,
    Config,
    ConfigurableResource,
    EnvVar,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from assets.keys import key
from daam.sql_source import extract
from pipelines.resources import LandingZone

SQL_URL_ENV = "DAAM_SQL_URL"
MAX_LISTED_FILES = 50


class MassarReplica(ConfigurableResource):
    """A relational Massar replica, read through SQLAlchemy: one table or view per record type."""

    url: str = Field(
        default=EnvVar(SQL_URL_ENV),
        description="SQLAlchemy URL of the replica, e.g. postgresql+psycopg://user:password@host:5432/massar "
                    f"or sqlite:////path/replica.sqlite; by default the environment variable {SQL_URL_ENV}.",
    )
    db_schema: str | None = Field(
        default=None,
        description="Database schema holding the tables (default: the connection's search path).")
    tables: dict[str, str] = Field(
        default_factory=dict,
        description="record type → table or view name, where it is not named like the record type.")

    def create_engine(self) -> sa.Engine:
        """An engine for one run: no pool kept between runs, connections checked before use."""
        return sa.create_engine(self.url, poolclass=sa.NullPool, pool_pre_ping=True)


class SqlExtractConfig(Config):
    full: bool = Field(default=False, description="Read every group again, not only those changed since "
                                                  "the last run (files are rewritten only if they differ).")
    record_types: list[str] | None = Field(default=None, description="Only these record types (default: all "
                                                                     "that have a table in the replica).")


@asset(key=key("landing/sql_extract"), group_name="landing", kinds={"sql"})
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
