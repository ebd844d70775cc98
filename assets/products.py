"""The level products: a DuckDB file per directorate, per region and for the nation
(warehouse/products.py), rebuilt after the engineers' snapshot, i.e. after every complete load and
monitoring run. One asset per product kind; the region and national ones are materialised by one
step, which computes the national suppression pattern once for both."""

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue, asset, multi_asset

from assets.resources import Warehouse
from assets.specs import JOB_TAG, key
from warehouse.products import ProductsReport, build_products

DEPS = [key("ops/published_snapshot")]  # runs once no load is writing (that asset waits for it)
TAGS = {JOB_TAG: "publish_snapshot"}
# counts and timings only: never a value or a unit
SUPPRESSION_METADATA = ("k", "cells", "primary", "complementary", "derived", "audited", "audit_min_width",
                        "outliers_suppressed", "seconds_audit", "audit_components_reused")
ASSET = {"province": "province_products", "region": "region_products", "national": "national_product"}


def _result(report: ProductsReport, kind: str) -> MaterializeResult:
    products = report.by_kind(kind)
    metadata = {
        "products": len(products),
        "rewritten": sum(not p.reused for p in products),  # the others held exactly these rows already
        "paths": MetadataValue.json({p.code: str(p.path) for p in products}),
        "size_bytes": sum(p.size_bytes for p in products),
        "seconds": report.seconds,
    }
    metadata.update({f"suppression_{k}": v for k, v in report.suppression.items() if k in SUPPRESSION_METADATA})
    return MaterializeResult(asset_key=key(f"published/{ASSET[kind]}"), metadata=metadata)


@asset(key=key("published/province_products"), group_name="published", kinds={"duckdb"}, pool="duckdb_writer",
       deps=DEPS, tags=TAGS)
def province_products(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """One file per directorate, published/province/<code>.duckdb: that directorate's rows of every
    model whose audience names `province`, personal data included (the directorate runs the Tayssir
    lists and calls its schools); no other directorate's row, no raw or staging schema."""
    report = build_products(warehouse.database, kinds=("province",))
    context.log.info(f"{len(report.products)} province product(s) in {report.seconds} s")
    return _result(report, "province")


@multi_asset(
    specs=[
        AssetSpec(key("published/region_products"), group_name="published", kinds={"duckdb"}, deps=DEPS, tags=TAGS,
                  description="One file per region (AREF), published/region/<code>.duckdb: aggregates of its "
                              "directorates and schools only (no pupil-level table, no personal data, no pupil or "
                              "guardian key), small pupil counts suppressed (configs/suppression.yaml) with the "
                              "national pattern, audited."),
        AssetSpec(key("published/national_product"), group_name="published", kinds={"duckdb"}, deps=DEPS, tags=TAGS,
                  description="published/national.duckdb, the centre's: aggregates of every region, directorate "
                              "and school, suppressed and audited like the region products."),
    ],
    can_subset=False, pool="duckdb_writer")
def upper_products(context: AssetExecutionContext, warehouse: Warehouse):
    """The region and national products, from one national suppression pattern."""
    report = build_products(warehouse.database, kinds=("region", "national"))
    context.log.info(f"{len(report.products)} region and national product(s) in {report.seconds} s")
    yield _result(report, "region")
    yield _result(report, "national")
