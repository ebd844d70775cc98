"""approval: the drift of the signed units (warehouse/build/approval.py), computed first in the
`publish_snapshot` job, i.e. after every complete load and monitoring run, so that the engineers'
copy and the products carry it. Its `no_new_drift` check fails (WARN) once per unit that starts to
drift: the failed-check sensor sends that one alert."""

from dagster import AssetExecutionContext, multi_asset

from assets.resources import Warehouse
from assets.specs import assets_of, check_specs, key, results, specs
from warehouse.build import approval

# The asset keys of the drift step (one step writes both tables: select them together).
DRIFT_KEYS = [key(m.name) for m in assets_of("approval")]


@multi_asset(specs=specs("approval", "publish_snapshot"), check_specs=check_specs("approval"), can_subset=False,
             pool="duckdb_writer")
def approval_drift(context: AssetExecutionContext, warehouse: Warehouse):
    """Compare every signed unit's frozen values with the live warehouse: values changed, added or
    removed since the signature, and the files loaded after it."""
    with warehouse.connect() as con:
        built = approval.build(con, context.run_id)
    drift = built.metadata["ops.approval_drift"]
    context.log.info(f"{drift['units_drifting']} of {drift['units_in_force']} signed unit(s) drifting")
    yield from results(built, "approval")
