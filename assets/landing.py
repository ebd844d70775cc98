"""The landing inventory and the establishments referential (unpartitioned, run before partitions)."""

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
from daam.config import load_settings
from pipelines.resources import LandingZone, Warehouse
from pipelines.retry import retry_transient_io
from warehouse.db import log_step, transaction
from warehouse.referential import scan_landing

DIMENSION_KEYS = {
    "core/dim_geography": "Provincial directorates with their region (12 regions, 82 directorates), from configs/reference.",
    "core/dim_level": "School levels 1AP…2BAC with cycle, order and nominal age, from configs/levels.yaml.",
    "core/dim_date": "Every day of every configured school year (September to June), with its school month.",
    "core/dim_programme": "The four social-support programmes.",
    "core/programme_rule": "Programme rules by school year (amounts, thresholds, rates), from configs/programme_rules.yaml.",
}
REFERENTIAL_KEYS = {
    "raw/schools": "Establishments referential snapshots (reference/schools/<date>.csv|xlsx), every row as text.",
    "staging/schools": "Referential rows normalised and validated (rule catalogue); errors are quarantined.",
    "core/dim_school": "Schools, slowly changing (type 2): a version each time a snapshot changes a school.",
    "ops/landing_inventory": "Every file of the landing root, placed in its (school year, directorate) partition or refused with the reason.",
}


@multi_asset(
    specs=[AssetSpec(key(k), description=d, group_name=k.split("/")[0], kinds={"duckdb"})
           for k, d in {**DIMENSION_KEYS, **REFERENTIAL_KEYS}.items()],
    check_specs=[AssetCheckSpec("every_school_in_a_known_directorate", asset=key("core/dim_school"), blocking=True,
                                description="Every current school belongs to one of the 82 directorates.")],
    can_subset=False,
    pool="duckdb_writer",
)
def landing_inventory(context: AssetExecutionContext, landing: LandingZone, warehouse: Warehouse):
    """Scan the landing root, load the referential, place every file in its partition, and
    record every refused file (unknown school, path outside the layout, links, bad names)."""
    settings = load_settings()
    started = datetime.now()
    with retry_transient_io(context.log, context.retry_number), warehouse.connect() as con:
        with transaction(con):
            stats = scan_landing(con, landing.path, settings, context.run_id)
            log_step(con, context.run_id, "landing_inventory", None, started, str(stats))
        schools = con.execute("select count(*) filter (is_current), count(*) from core.dim_school").fetchone()
        orphans = con.execute("""
            select count(*) from core.dim_school s
            where s.is_current and not exists (select 1 from core.dim_geography g where g.province_code = s.province_code)
        """).fetchone()[0]
    context.log.info(f"landing scan: {stats}")
    for k in DIMENSION_KEYS:
        yield MaterializeResult(asset_key=key(k))
    yield MaterializeResult(asset_key=key("raw/schools"), metadata={"files_new": stats["referential_files_new"]})
    yield MaterializeResult(asset_key=key("staging/schools"))
    yield MaterializeResult(asset_key=key("core/dim_school"),
                            metadata={"current_schools": schools[0], "versions": schools[1]})
    yield MaterializeResult(asset_key=key("ops/landing_inventory"), metadata={
        "files_found": stats["files_found"], "files_refused": stats["files_refused"]})
    yield AssetCheckResult(asset_key=key("core/dim_school"), check_name="every_school_in_a_known_directorate",
                           passed=orphans == 0, severity=AssetCheckSeverity.ERROR,
                           metadata={"schools_without_directorate": orphans})
