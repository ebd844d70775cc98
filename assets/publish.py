"""publish: the read-only copy of the warehouse that engineers and BI tools open, and the level
products (warehouse/products.py) built beside it, in one step: the copy is disk and the products
CPU, so the build runs while the copy is written (warehouse/publish.py, "Work alongside the copy")."""

from datetime import datetime

from dagster import (
    AssetExecutionContext,
    AssetSpec,
    DagsterRunStatus,
    MaterializeResult,
    MetadataValue,
    RetryRequested,
    RunsFilter,
    multi_asset,
)

from assets.resources import Warehouse
from assets.specs import JOB_TAG, WRITES_TAG, key
from warehouse.products import KINDS, ProductsReport, build_products
from warehouse.publish import publish

ACTIVE = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
TAGS = {JOB_TAG: "publish_snapshot"}
# counts and timings only: never a value or a unit
SUPPRESSION_METADATA = ("k", "cells", "primary", "complementary", "derived", "audited", "audit_min_width",
                        "outliers_suppressed", "seconds_audit", "audit_components_reused")
ASSET = {"province": "province_products", "region": "region_products", "national": "national_product"}
PRODUCTS = {
    "province": "One file per directorate, published/province/<code>.duckdb: that directorate's rows of every model "
                "whose audience names `province`, personal data included (the directorate runs the Tayssir lists "
                "and calls its schools); no other directorate's row, no raw or staging schema.",
    "region": "One file per region (AREF), published/region/<code>.duckdb: aggregates of its directorates and "
              "schools only (no pupil-level table, no personal data, no pupil or guardian key), small pupil counts "
              "suppressed (configs/suppression.yaml) with the national pattern, audited.",
    "national": "published/national.duckdb, the centre's: aggregates of every region, directorate and school, "
                "suppressed and audited like the region products.",
}
SNAPSHOT = key("ops/published_snapshot")


@multi_asset(
    specs=[
        AssetSpec(SNAPSHOT, group_name="ops", kinds={"duckdb"}, tags=TAGS,
                  deps=[key("mart/indicators"), key("ops/quality_history"), key("ops/roster_twins"),
                        key("ops/approval_drift")],
                  description="<name>.published.duckdb, the engineers' copy of the whole warehouse, swapped in "
                              "atomically once no load is writing: readers opening that file (read-only) always "
                              "see a complete load, never a lock error nor half a partition."),
        *[AssetSpec(key(f"published/{ASSET[kind]}"), group_name="published", kinds={"duckdb"}, tags=TAGS,
                    deps=[SNAPSHOT], description=PRODUCTS[kind]) for kind in KINDS],
    ],
    can_subset=False, pool="duckdb_writer")
def published(context: AssetExecutionContext, warehouse: Warehouse):
    """Publish a complete load: the engineers' copy of the warehouse, and the products of the
    directorates, regions and nation built while it is copied. The landing sensor requests it when
    the loads are done. A product that would hold exactly the rows of the file in place is kept."""
    # Checked again here, not only by the sensor: a run launched from the UI may be between two
    # steps, and publishing now would copy half a partition.
    active = [r.run_id for r in context.instance.get_runs(RunsFilter(statuses=ACTIVE, tags={WRITES_TAG: "true"}))
              if r.run_id != context.run_id]
    if active:
        context.log.info(f"{len(active)} run(s) writing the warehouse: publishing later")
        raise RetryRequested(max_retries=20, seconds_to_wait=30)
    report, failed = ProductsReport(), []

    def products() -> None:
        try:
            build_products(warehouse.database, report=report)
        except Exception as exc:  # noqa: BLE001 - raised below, once what was published is recorded
            failed.append(exc)

    started = datetime.now()
    try:
        path = publish(warehouse.database, alongside=products)
    except Exception as exc:  # noqa: BLE001 - the products may be published all the same
        failed.insert(0, exc)
        path = None
    if path is not None:
        context.log.info(f"published {path} in {(datetime.now() - started).total_seconds():.1f} s")
        yield MaterializeResult(asset_key=SNAPSHOT, metadata={"published": MetadataValue.path(str(path)),
                                                              "size_bytes": path.stat().st_size})
    context.log.info(f"{len(report.products)} product(s) in {report.seconds} s")
    for kind in KINDS:
        if report.by_kind(kind) or not failed:
            yield _result(report, kind)
    if failed:
        raise failed[0]


def _result(report: ProductsReport, kind: str) -> MaterializeResult:
    products = report.by_kind(kind)
    metadata = {
        "products": len(products),
        "rewritten": sum(not p.reused for p in products),  # the others held exactly these rows already
        "paths": MetadataValue.json({p.code: str(p.path) for p in products}),
        "size_bytes": sum(p.size_bytes for p in products),
        "seconds": report.seconds,
    }
    if kind != "province":
        metadata.update({f"suppression_{k}": v for k, v in report.suppression.items() if k in SUPPRESSION_METADATA})
    return MaterializeResult(asset_key=key(f"published/{ASSET[kind]}"), metadata=metadata)
