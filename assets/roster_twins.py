"""roster_twins: the pupil-on-two-rosters warning made true across directorates
(warehouse/build/roster_twins.py), a step of the `publish_snapshot` job, i.e. once the partitions
of a load are done and before the readers' copy and the products are taken. A school year whose
rosters did not change since is skipped."""

from dagster import AssetExecutionContext, multi_asset

from assets.resources import Warehouse
from assets.specs import assets_of, key, results, specs
from warehouse.build import roster_twins

# The asset keys of the step (run alone, with the drift, after a load that failed somewhere).
TWINS_KEYS = [key(m.name) for m in assets_of("roster_twins")]


@multi_asset(specs=specs("roster_twins", "publish_snapshot"), can_subset=False, pool="duckdb_writer")
def roster_warnings(context: AssetExecutionContext, warehouse: Warehouse):
    """Open or clear the pupil-on-two-rosters warning on the roster rows of the other directorates
    that share a pupil with the rosters just loaded, for each school year whose rosters changed."""
    with warehouse.connect() as con:
        built = roster_twins.build(con, context.run_id)
    context.log.info(built.detail)
    yield from results(built, "roster_twins")
