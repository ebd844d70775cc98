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
from warehouse.fingerprint import partition_fingerprints, record_loaded
from warehouse.schema import run_sql
from warehouse.schoolbags import build_schoolbag_audit

# Programme marts rebuilt per partition with the indicators (the indicators read the first).
PROGRAMME_MARTS = {
    "tayssir_reconciliation": (["fct_tayssir_month", "fct_tayssir_payment"], (
        "Tayssir payment reconciliation: per pupil and instalment, entitlement plus what was carried over "
        "(unclaimed or cancelled before) against paid; class paid_as_due, unpaid_due, paid_not_due, "
        "amount_mismatch or nothing_due.")),
    "tayssir_targeting": (["fct_enrolment", "fct_tayssir_month"], (
        "Tayssir targeting per school and commune: eligible pupils by the year's rules, beneficiaries, "
        "inclusion errors, exclusion candidates; coverage as numerator and denominator.")),
    "boarding_capacity": (["fct_boarding_grant"], (
        "Boarding, half-board and canteen grantees per school against the referential's boarding capacity.")),
    "schoolbag_needs": (["fct_enrolment", "fct_schoolbag"], (
        "Schoolbag needs audit (تدقيق الحاجيات): per school × level, the kits each school declared against the "
        "pupils its accepted roster makes eligible under the year's rules (kit type by milieu and level), with "
        "gaps, over-declared and kit-type-mismatch flags, and kits received vs distributed. Not declared is "
        "null, not zero. No personal data.")),
    "schoolbag_forecast": (["fct_enrolment", "fct_schoolbag"], (
        "Next-year schoolbag forecast (التوقعات): per school × level of year Y+1, pupils from year Y's roster "
        "(repeaters stay, the others move up a level, the cycle's last level leaves, entry-level intake from a "
        "least-squares trend over up to 3 years), kits needed under Y+1's rules (else Y's), and the gap with the "
        "school's declared forecast.")),
}
# built by their own SQL file; the schoolbag marts by warehouse/schoolbags.py
SQL_MARTS = ("tayssir_reconciliation", "tayssir_targeting", "boarding_capacity")


@multi_asset(
    specs=[AssetSpec(key("mart/indicators"), group_name="mart", kinds={"duckdb"},
                     deps=[key(f"core/{f}") for f in FACT_DOCS] + [key("core/fct_submission"),
                                                                  key("mart/tayssir_reconciliation")],
                     description="mart.indicators as warehouse-interface.md defines it: one row per (geo_level, "
                                 "geo_code, school_year, month, indicator); additive across levels.")]
          + [AssetSpec(key(f"mart/{name}"), group_name="mart", kinds={"duckdb"},
                       deps=[key(f"core/{f}") for f in deps], description=doc)
             for name, (deps, doc) in PROGRAMME_MARTS.items()],
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
            params = {"year": school_year, "province": province}
            for name in SQL_MARTS:
                run_sql(con, f"mart/{name}.sql", params)
            schoolbags = build_schoolbag_audit(con, school_year, province)
            run_sql(con, "mart/indicators.sql", params)
            outcome = levels_add_up(con, school_year)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit" if outcome.passed else "rollback")
        if outcome.passed:
            # what this partition was loaded from: `daam load` and the landing sensor skip it
            # until one of its inputs changes
            fingerprint = partition_fingerprints(con).get((school_year, province))
            if fingerprint:
                record_loaded(con, school_year, province, fingerprint, context.run_id)
        log_step(con, context.run_id, "mart", str(context.partition_key), started,
                 "published" if outcome.passed else f"not published, levels do not add up: {outcome.metadata}")
        rows = con.execute("select count(*) from mart.indicators where school_year = $y", {"y": school_year}).fetchone()[0]
    for name in PROGRAMME_MARTS:  # before the indicators, which read the reconciliation
        meta = {} if name in SQL_MARTS else schoolbags
        yield MaterializeResult(asset_key=key(f"mart/{name}"), metadata=meta)
    yield MaterializeResult(asset_key=key("mart/indicators"), metadata={"rows_in_school_year": rows})
    yield AssetCheckResult(asset_key=key("mart/indicators"), check_name="levels_add_up", passed=outcome.passed,
                           severity=AssetCheckSeverity.ERROR, metadata=outcome.metadata)
