"""monitoring: the nightly quality watch over the whole warehouse (outliers, history and scores,
de-duplication), then the Great Expectations Data Docs of its current rows."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset, multi_asset

from assets.resources import Warehouse
from assets.specs import JOB_TAG, check_specs, key, results, specs
from warehouse.build import ops


@multi_asset(specs=specs("ops", "quality_monitoring"), check_specs=check_specs("ops"), can_subset=False,
             pool="duckdb_writer")
def monitoring(context: AssetExecutionContext, warehouse: Warehouse):
    """Score school aggregates for outliers (new ones open, vanished ones resolve, follow-up statuses
    kept), append the run to ops.quality_history (mart.quality_score reads it), and de-duplicate
    beneficiaries over every directorate, each school year (pupils on two rosters or Tayssir lists,
    households by guardian, fuzzy candidates for review)."""
    with warehouse.connect() as con:
        built = ops.build(con, context.run_id)
    yield from results(built, "ops")


@asset(key=key("ops/data_docs"), deps=[key("ops/quality_history")], group_name="ops", kinds={"duckdb"},
       tags={JOB_TAG: "quality_monitoring"}, pool="duckdb_writer")
def data_docs(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Rebuild the Great Expectations Data Docs site (quality_checks/gx/, or DAAM_GX_ROOT): every
    record type's suite validated on the current file versions, sampled above a size limit."""
    # Imported here: it imports Great Expectations (about 3 s), which no other asset needs (the
    # definitions are loaded by every `daam load`; quality_checks/types.py).
    from quality_checks.data_docs import build_data_docs

    with warehouse.connect() as con:
        result = build_data_docs(ops.data_docs_batches(con))  # root: DAAM_GX_ROOT, else quality_checks/
    failed = {s.suite: s.failed_rules for s in result.suites if not s.success}
    context.log.info(f"Data Docs: {result.index_html}")
    return MaterializeResult(metadata={
        "index_html": MetadataValue.path(str(result.index_html)),
        "suites": len(result.suites), "sampled": result.sampled,
        "suites_failing": MetadataValue.json(failed),
    })
