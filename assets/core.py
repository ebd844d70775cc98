"""core: the star schema's facts and pupil dimension for one partition, gated by blocking checks."""

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
from pipelines.partitions import split_key, year_province_partitions
from pipelines.resources import Warehouse
from warehouse.checks import FACTS, pupil_in_two_schools, reconciliation, referential_integrity
from warehouse.core_build import build_core_partition
from warehouse.db import log_step, transaction

FACT_DOCS = {
    "fct_enrolment": ("students", "One row per pupil on a school's accepted roster in a school year."),
    "fct_attendance": ("attendance", "One row per pupil, school and school month (accepted attendance rows)."),
    "fct_tayssir_month": ("tayssir_beneficiaries", (
        "One row per Tayssir beneficiary, school and school month: "
        "active, attendance, compliant, entitlement, and why a month is not due.")),
    "fct_tayssir_payment": ("tayssir_payments", "One row per accepted line of the payment operator's files."),
    "fct_schoolbag": ("schoolbags", "One row per school, level and school year (schoolbag needs declaration)."),
    "fct_boarding_grant": ("boarding_grants", "One row per pupil and school with a boarding/half-board/canteen grant."),
    "fct_canteen_month": ("canteen_meals", "One row per school and school month of canteen service."),
}
OTHER_SPECS = {
    "core/fct_submission": (["staging/students"], (
        "Completeness: one row per school × record type × period "
        "expected (configs/completeness.yaml) or received.")),
    "core/dim_pupil": (["staging/students"], "Pupils (pseudonymous key, gender, birth year). No personal data."),
    "core/pupil_identity": (["staging/students"], (
        "Personal data (names, birth date, Massar code, guardian CIN), "
        "kept apart from the analytical tables.")),
}
SPECS = [
    AssetSpec(key(f"core/{fact}"), deps=[key(f"staging/{src}"), key("staging/students"), key("core/dim_school"),
                                         key("core/dim_date"), key("core/programme_rule")],
              group_name="core", kinds={"duckdb"}, description=doc)
    for fact, (src, doc) in FACT_DOCS.items()
] + [AssetSpec(key(k), deps=[key(d) for d in deps], group_name="core", kinds={"duckdb"}, description=doc)
     for k, (deps, doc) in OTHER_SPECS.items()]
CHECKS = [
    spec
    for fact in FACT_DOCS
    for spec in (
        AssetCheckSpec("referential_integrity", asset=key(f"core/{fact}"), blocking=True,
                       description="Every key of the partition's rows exists in its dimension."),
        AssetCheckSpec("reconciles_with_staging", asset=key(f"core/{fact}"), blocking=True,
                       description="Fact rows = accepted, de-duplicated staging rows of the partition."),
    )
] + [AssetCheckSpec("no_pupil_in_two_schools_same_month", asset=key("core/fct_attendance"), blocking=False,
                    description=("No pupil has attendance at two schools in the same month (warning: a "
                                 "transfer counts at both schools, but most are roster errors)."))]


@multi_asset(specs=SPECS, check_specs=CHECKS, partitions_def=year_province_partitions, can_subset=False,
             pool="duckdb_writer")
def core_facts(context: AssetExecutionContext, warehouse: Warehouse):
    """Replace the partition's rows of every fact (one transaction), then check each fact's
    referential integrity and its reconciliation with staging; a failure blocks the mart."""
    school_year, province = split_key(context.partition_key)
    started = datetime.now()
    with warehouse.connect() as con:
        with transaction(con):
            build_core_partition(con, school_year, province)
            log_step(con, context.run_id, "core", str(context.partition_key), started, "facts rebuilt")
        outcomes = {fact: (referential_integrity(con, fact, school_year, province),
                           reconciliation(con, fact, school_year, province)) for fact in FACTS}
        twice = pupil_in_two_schools(con, school_year, province)
        counts = {fact: con.execute(f"select count(*) from core.{fact} where school_year = $y and province_code = $p",
                                    {"y": school_year, "p": province}).fetchone()[0] for fact in FACT_DOCS}
    for fact in FACT_DOCS:
        yield MaterializeResult(asset_key=key(f"core/{fact}"), metadata={"partition_rows": counts[fact]})
    for k in OTHER_SPECS:
        yield MaterializeResult(asset_key=key(k))
    for fact, (ri, rec) in outcomes.items():
        yield AssetCheckResult(asset_key=key(f"core/{fact}"), check_name="referential_integrity",
                               passed=ri.passed, severity=AssetCheckSeverity.ERROR, metadata=ri.metadata)
        yield AssetCheckResult(asset_key=key(f"core/{fact}"), check_name="reconciles_with_staging",
                               passed=rec.passed, severity=AssetCheckSeverity.ERROR, metadata=rec.metadata)
    yield AssetCheckResult(asset_key=key("core/fct_attendance"), check_name="no_pupil_in_two_schools_same_month",
                           passed=twice.passed, severity=AssetCheckSeverity.WARN, metadata=twice.metadata)
