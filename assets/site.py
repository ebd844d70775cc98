"""The reports site (warehouse/site/), rebuilt after the products: one bilingual HTML page per
directorate, region and the nation, each from its own product, and a data dictionary per kind."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.resources import Warehouse
from assets.specs import JOB_TAG, key
from warehouse.site.build import REPORTS_ENV, build_site, default_out, reports_after_publish


@asset(key=key("published/report_site"), group_name="published", kinds={"html"},
       deps=[key("published/province_products"), key("published/region_products"),
             key("published/national_product")],
       tags={JOB_TAG: "publish_snapshot"})
def report_site(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """site/ next to the warehouse: index.html and, in Arabic (right to left) and French, the report
    of every directorate, region and the nation, drawn only from that level's product (suppressed
    values shown as their flag, provisional values marked), with charts rendered to SVG at build
    time so the pages work offline; a data dictionary per product kind. Pages whose product and code
    are unchanged are kept. DAAM_REPORTS=off leaves the site to `daam report`."""
    if not reports_after_publish():
        context.log.info(f"reports site not rebuilt: {REPORTS_ENV}=off")
        return MaterializeResult(metadata={"skipped": f"{REPORTS_ENV}=off"})
    report = build_site(warehouse.database, default_out(warehouse.database))
    context.log.info(f"{len(report.pages)} page(s), {report.unchanged} unchanged, in {report.seconds} s: "
                     f"{report.index}")
    return MaterializeResult(metadata={
        "pages": len(report.pages), "unchanged": report.unchanged, "seconds": report.seconds,
        "index": MetadataValue.path(str(report.index)),
    })
