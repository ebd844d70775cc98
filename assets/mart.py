"""mart: the published indicators at school, province, region and national level."""

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

from assets.core import FACT_DOCS
from assets.keys import key
from pipelines.partitions import split_key, year_province_partitions
from pipelines.resources import Warehouse
from warehouse.checks import levels_add_up
from warehouse.db import log_step
from warehouse.schema import run_sql


@multi_asset(
    specs=[AssetSpec(key("mart/indicators"), group_name="mart", kinds={"duckdb"},
                     deps=[key(f"core/{f}") for f in FACT_DOCS] + [key("core/fct_submission")],
                     description="mart.indicators as warehouse-interface.md defines it: one row per (geo_level, "
                                 "geo_code, school_year, month, indicator); additive across levels.")],
    check_specs=[AssetCheckSpec("levels_add_up", asset=key("mart/indicators"), blocking=True,
                                description="Province = sum of schools, region = sum of provinces, "
                                            "nation = sum of regions, for the partition's school year.")],
    partitions_def=year_province_partitions, can_subset=False, pool="duckdb_writer",
)
def indicators(context: AssetExecutionContext, warehouse: Warehouse):
    """Replace the partition's school rows and recompute its directorate, region and the nation.
    The new rows are checked before they are committed: if the levels do not add up, the
    transaction is rolled back and analysts keep the previous indicators."""
    school_year, province = split_key(context.partition_key)
    started = datetime.now()
    with warehouse.connect() as con:
        con.execute("begin transaction")
        try:
            run_sql(con, "mart/indicators.sql", {"year": school_year, "province": province})
            outcome = levels_add_up(con, school_year)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit" if outcome.passed else "rollback")
        log_step(con, context.run_id, "mart", str(context.partition_key), started,
                 "published" if outcome.passed else f"not published, levels do not add up: {outcome.metadata}")
        rows = con.execute("select count(*) from mart.indicators where school_year = $y", {"y": school_year}).fetchone()[0]
    yield MaterializeResult(asset_key=key("mart/indicators"), metadata={"rows_in_school_year": rows})
    yield AssetCheckResult(asset_key=key("mart/indicators"), check_name="levels_add_up", passed=outcome.passed,
                           severity=AssetCheckSeverity.ERROR, metadata=outcome.metadata)
