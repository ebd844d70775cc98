"""Jobs: the landing scan (unpartitioned) and the load of one (school year, directorate)."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from assets.core import core_facts
from assets.landing import landing_inventory
from assets.mart import indicators
from assets.raw import raw_files
from assets.staging import staging_tables
from pipelines.partitions import month_province_partitions, year_province_partitions
from pipelines.sql_source import sql_extract

landing_scan_job = define_asset_job(
    "landing_scan",
    selection=AssetSelection.assets(landing_inventory),
    description="Scan the landing root, load the establishments referential and the conformed dimensions, "
                "place every file in its partition.",
)

partition_load_job = define_asset_job(
    "partition_load",
    selection=AssetSelection.assets(raw_files, staging_tables, core_facts, indicators),
    partitions_def=year_province_partitions,
    description="Load one (school year, directorate): raw → staging → core → mart, the mart only when the "
                "core's blocking checks pass.",
)

quality_monitoring_job = define_asset_job(
    "quality_monitoring",
    selection=AssetSelection.groups("monitoring"),
    description="The quality watch over the whole warehouse: outliers, the run's history and scores, "
                "Great Expectations Data Docs.",
)

tayssir_cycle_job = define_asset_job(
    "tayssir_monthly_cycle",
    selection=AssetSelection.groups("cycle"),
    partitions_def=month_province_partitions,
    description="Close one school month of Tayssir for one directorate (compliance, entitlement, missing "
                "attendance).",
)

sql_extract_job = define_asset_job(
    "sql_extract",
    selection=AssetSelection.assets(sql_extract),
    description="Write the changed groups of the Massar replica (DAAM_SQL_URL) into the landing zone as files; "
                "the landing sensor then loads them like any school's file.",
)

publish_job = define_asset_job(
    "publish_snapshot",
    selection=AssetSelection.groups("publish"),
    description="Swap in a fresh read-only copy of the warehouse for analysts (only when no load is writing).",
)
