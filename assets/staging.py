"""staging: a partition's raw rows normalised, validated by the Great Expectations suites and the
SQL rules; errors quarantined, warnings flagged, every issue in ops.row_issue."""

from datetime import datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    MaterializeResult,
    multi_asset,
)

from assets.keys import key
from daam.config import load_settings
from pipelines.partitions import split_key, year_province_partitions
from pipelines.resources import Warehouse
from warehouse.checks import file_accounting
from warehouse.db import log_step, transaction
from warehouse.stage import STAGE_ORDER, stage_partition

STAGING_SPECS = [
    AssetSpec(key(f"staging/{rt}"), deps=[key(f"raw/{rt}"), key("core/dim_school")]
              + ([key("staging/students")] if rt != "students" else []),
              group_name="staging", kinds={"duckdb", "pandas"},
              description=f"`{rt}` rows of the current file versions, normalised (digits, dates, vocabularies) "
                          "and typed, flagged is_quarantined / is_warned by the rule catalogue.")
    for rt in STAGE_ORDER
]
CHECK_SPECS = [
    AssetCheckSpec("quality_suite", asset=key(f"staging/{rt}"),
                   description=f"Great Expectations suite daam.{rt} and the SQL rules on the partition: "
                               "warns when rows were quarantined (they are in ops.row_issue).")
    for rt in STAGE_ORDER
] + [AssetCheckSpec("file_accounting", asset=key("staging/students"), blocking=True,
                    description="Every loaded file of the partition: rows_read = rows_loaded + rows_quarantined.")]


@multi_asset(specs=STAGING_SPECS, check_specs=CHECK_SPECS, partitions_def=year_province_partitions,
             can_subset=False, pool="duckdb_writer")
def staging_tables(context: AssetExecutionContext, warehouse: Warehouse):
    """Re-stage the whole partition from raw in one transaction (rosters first, so late rosters
    re-admit rows), update ops.row_issue (vanished issues resolved) and the manifest counts."""
    school_year, province = split_key(context.partition_key)
    settings = load_settings()
    started = datetime.now()
    with warehouse.connect() as con:
        with transaction(con):
            results = stage_partition(con, settings, school_year, province)
            log_step(con, context.run_id, "staging", str(context.partition_key), started,
                     ", ".join(f"{r.record_type}: {r.rows} rows, {r.quarantined} quarantined" for r in results))
        accounting = file_accounting(con, school_year, province)
    for r in results:
        yield MaterializeResult(asset_key=key(f"staging/{r.record_type}"), metadata={
            "rows": r.rows, "rows_quarantined": r.quarantined, "rows_warned": r.warned})
        failing = {s["rule"]: s["unexpected_count"] for s in r.suite if s["unexpected_count"]}
        yield AssetCheckResult(
            asset_key=key(f"staging/{r.record_type}"), check_name="quality_suite",
            passed=r.quarantined == 0, severity=AssetCheckSeverity.WARN,
            metadata={"rows": r.rows, "rows_quarantined": r.quarantined, "rows_warned": r.warned,
                      "issues_by_rule": r.issues_by_rule, "expectations_failing": failing})
    yield AssetCheckResult(asset_key=key("staging/students"), check_name="file_accounting",
                           passed=accounting.passed, severity=AssetCheckSeverity.ERROR, metadata=accounting.metadata)
