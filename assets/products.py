"""The level products: a DuckDB file per directorate, per region and for the nation
(warehouse/products.py), rebuilt after the readers' snapshot, i.e. after every complete load and
monitoring run."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.resources import Warehouse
from assets.specs import JOB_TAG, key
from warehouse.products import Product, ProductsReport, build_products

DEPS = [key("ops/published_snapshot")]  # runs once no load is writing (that asset waits for it)


def _result(report: ProductsReport, kind: str) -> MaterializeResult:
    products: list[Product] = report.by_kind(kind)
    metadata = {
        "products": len(products),
        "paths": MetadataValue.json({p.code: str(p.path) for p in products}),
        "size_bytes": sum(p.size_bytes for p in products),
        "seconds": report.seconds,
    }
    if report.suppression:  # counts and timings only: never a value or a unit
        metadata.update({f"suppression_{k}": v for k, v in report.suppression.items()
                         if k in ("cells", "primary", "complementary", "derived", "audited", "audit_min_width",
                                  "outliers_suppressed", "seconds_audit")})
    return MaterializeResult(metadata=metadata)


@asset(key=key("published/province_products"), group_name="published", kinds={"duckdb"}, pool="duckdb_writer",
       deps=DEPS, tags={JOB_TAG: "publish_snapshot"})
def province_products(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """One file per directorate, published/province/<code>.duckdb: that directorate's rows of every
    model whose audience names `province`, personal data included (the directorate runs the Tayssir
    lists and calls its schools); no other directorate's row, no raw or staging schema."""
    report = build_products(warehouse.database, kinds=("province",))
    context.log.info(f"{len(report.products)} province product(s) in {report.seconds} s")
    return _result(report, "province")


@asset(key=key("published/region_products"), group_name="published", kinds={"duckdb"}, pool="duckdb_writer",
       deps=DEPS, tags={JOB_TAG: "publish_snapshot"})
def region_products(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """One file per region (AREF), published/region/<code>.duckdb: aggregates of its directorates
    and schools only (no pupil-level table, no personal data, no pupil or guardian key), small
    pupil counts suppressed (configs/suppression.yaml) with the national pattern, audited."""
    report = build_products(warehouse.database, kinds=("region",))
    context.log.info(f"{len(report.products)} region product(s) in {report.seconds} s")
    return _result(report, "region")


@asset(key=key("published/national_product"), group_name="published", kinds={"duckdb"}, pool="duckdb_writer",
       deps=DEPS, tags={JOB_TAG: "publish_snapshot"})
def national_product(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """published/national.duckdb, the centre's: aggregates of every region, directorate and school,
    suppressed and audited like the region products."""
    report = build_products(warehouse.database, kinds=("national",))
    context.log.info(f"national product in {report.seconds} s")
    return _result(report, "national")
