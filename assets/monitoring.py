"""monitoring: the nightly quality watch over the whole warehouse (outliers, history, Data Docs)."""

from datetime import datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from assets.keys import key
from pipelines.resources import Warehouse
from quality_checks.data_docs import build_data_docs
from warehouse.db import log_step, transaction
from warehouse.dedup import build_dedup
from warehouse.outliers import detect_outliers
from warehouse.quality_history import ensure_score_view, record_run

MONITORED = [key("mart/indicators"), key("core/fct_submission"), key("core/fct_attendance"),
             key("core/fct_schoolbag"), key("core/fct_canteen_month"), key("core/fct_tayssir_month")]


@asset(key=key("ops/outlier"), deps=MONITORED, group_name="monitoring", kinds={"duckdb"}, pool="duckdb_writer",
       check_specs=[AssetCheckSpec("no_new_outliers", asset=key("ops/outlier"), blocking=False,
                                   description="No school value became an outlier since the last run "
                                               "(warning: each new one needs a follow-up).")])
def outliers(context: AssetExecutionContext, warehouse: Warehouse):
    """Score school-level aggregates (absence rate, kits requested per eligible pupil, meals per
    canteen beneficiary, Tayssir entitlement per beneficiary) against their peers with the method of
    configs/outliers.yaml; new outliers open, vanished ones resolve, follow-up statuses are kept."""
    started = datetime.now()
    with warehouse.connect() as con:
        with transaction(con):
            stats = detect_outliers(con, context.run_id)
            log_step(con, context.run_id, "outliers", None, started, str(stats))
        by_metric = dict(con.execute(
            "select metric, count(*) from ops.outlier where status = 'open' group by 1 order by 1").fetchall())
    yield MaterializeResult(metadata={**stats, "open_by_metric": MetadataValue.json(by_metric)})
    yield AssetCheckResult(check_name="no_new_outliers", passed=stats["new"] == 0,
                           severity=AssetCheckSeverity.WARN,
                           metadata={"new": stats["new"], "open": sum(by_metric.values())})


@asset(key=key("ops/quality_history"), deps=[key("ops/outlier")], group_name="monitoring", kinds={"duckdb"},
       pool="duckdb_writer")
def quality_history(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Append this run's results to ops.quality_history (every rule × partition × school with its
    failing and examined counts, completeness, timeliness, open outliers), uncapped, and refresh
    the mart.quality_score view (a score per school, directorate, region and nation per month)."""
    started = datetime.now()
    with warehouse.connect() as con:
        with transaction(con):
            rows = record_run(con, context.run_id)
            ensure_score_view(con)
            log_step(con, context.run_id, "quality_history", None, started, f"{rows} rows")
        national = con.execute("""
            select score, validity, completeness, timeliness from mart.quality_score
            where geo_level = 'national' and run_month = (select max(run_month) from mart.quality_score)
            order by school_year desc limit 1
        """).fetchone()
    meta = {"history_rows_written": rows}
    if national:
        meta.update({name: float(v) for name, v in zip(("national_score", "validity", "completeness",
                                                         "timeliness"), national) if v is not None})
    return MaterializeResult(metadata=meta)


@asset(key=key("ops/data_docs"), deps=[key("ops/quality_history")], group_name="monitoring", kinds={"duckdb"},
       pool="duckdb_writer")
def data_docs(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Rebuild the Great Expectations Data Docs site (quality_checks/gx/, or DAAM_GX_ROOT): every
    record type's suite validated on the current file versions, sampled above a size limit."""
    with warehouse.connect() as con:
        result = build_data_docs(con)  # root: DAAM_GX_ROOT, else quality_checks/
    failed = {s.suite: s.failed_rules for s in result.suites if not s.success}
    context.log.info(f"Data Docs: {result.index_html}")
    return MaterializeResult(metadata={
        "index_html": MetadataValue.path(str(result.index_html)),
        "suites": len(result.suites), "sampled": result.sampled,
        "suites_failing": MetadataValue.json(failed),
    })


DEDUP_DOCS = {
    "mart/pupil_in_two_schools": (
        "One Massar code on two schools' accepted rosters (one row per school month) or active on two schools' "
        "Tayssir lists in the same month, across directorates, with the school holding the pupil each month "
        "(its attendance that month, else the latest roster)."),
    "mart/household": (
        "Children, schools, directorates and Tayssir beneficiaries per guardian, keyed by a hash of the guardian "
        "CIN of the rosters; members in mart.household_member."),
    "ops/duplicate_candidate": (
        "Possible same pupil under two Massar codes (same normalised Arabic name, birth date and school commune) "
        "for review: needs_review → unique | duplicate; decisions kept across runs, vanished pairs get "
        "resolved_at."),
}


@multi_asset(specs=[AssetSpec(key(k), group_name="monitoring", kinds={"duckdb"}, description=doc,
                              deps=[key("core/fct_enrolment"), key("core/fct_attendance"),
                                    key("core/fct_tayssir_month"), key("core/pupil_identity")])
                    for k, doc in DEDUP_DOCS.items()],
             can_subset=False, pool="duckdb_writer")
def dedup(context: AssetExecutionContext, warehouse: Warehouse):
    """De-duplicate beneficiaries over every directorate, each school year: pupils on two schools'
    rosters or Tayssir lists (with the holding school per month), households by guardian, and
    fuzzy duplicate candidates for review (reviewers' decisions are kept)."""
    started = datetime.now()
    with warehouse.connect() as con:
        counts = build_dedup(con)  # one transaction per school year
        log_step(con, context.run_id, "dedup", None, started, str(counts))
    for k in DEDUP_DOCS:
        yield MaterializeResult(asset_key=key(k), metadata={n: v for n, v in counts.items()
                                                            if isinstance(v, (int, float, str))})
