"""Jobs: each selects the assets tagged with its name (`daam/job`, set beside the assets in
`assets/`); the jobs that write the warehouse say so in a run tag, which the publish step reads."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from assets.partitions import month_province_partitions, year_province_partitions
from assets.specs import JOB_TAG, WRITES_TAG

WRITES = {WRITES_TAG: "true"}


def _tagged(name: str) -> AssetSelection:
    return AssetSelection.tag(JOB_TAG, name)


landing_scan_job = define_asset_job(
    "landing_scan",
    selection=_tagged("landing_scan"),
    tags=WRITES,
    description="Scan the landing root, load the establishments referential and the conformed dimensions, "
                "place every file in its partition.",
)

partition_load_job = define_asset_job(
    "partition_load",
    selection=_tagged("partition_load"),
    partitions_def=year_province_partitions,
    tags=WRITES,
    description="Load one (school year, directorate): raw → staging → core → mart, the mart only when the "
                "core's blocking checks pass.",
)

quality_monitoring_job = define_asset_job(
    "quality_monitoring",
    selection=_tagged("quality_monitoring"),
    tags=WRITES,
    description="The quality watch over the whole warehouse: outliers, the run's history and scores, "
                "de-duplication, Great Expectations Data Docs.",
)

tayssir_cycle_job = define_asset_job(
    "tayssir_monthly_cycle",
    selection=_tagged("tayssir_monthly_cycle"),
    partitions_def=month_province_partitions,
    tags=WRITES,
    description="Close one school month of Tayssir for one directorate (compliance, entitlement, missing "
                "attendance).",
)

sql_extract_job = define_asset_job(
    "sql_extract",
    selection=_tagged("sql_extract"),
    tags=WRITES,
    description="Write the changed groups of the Massar replica (DAAM_SQL_URL) into the landing zone as files; "
                "the landing sensor then loads them like any school's file.",
)

publish_job = define_asset_job(
    "publish_snapshot",
    selection=_tagged("publish_snapshot"),
    description="Make the roster warnings across directorates true and compute the drift of the signed units, "
                "then swap in a fresh read-only copy of the warehouse for engineers and, while it is copied, "
                "rebuild the products of the directorates, regions and nation (only when no load is writing); "
                "then the reports site.",
)
