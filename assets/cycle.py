"""cycle: the monthly Tayssir cycle, per school month × directorate."""

from dagster import AssetExecutionContext, multi_asset

from assets.partitions import month_province_partitions, scope
from assets.resources import Warehouse
from assets.specs import results, specs
from warehouse.build import cycle


@multi_asset(specs=specs("cycle", "tayssir_monthly_cycle"), partitions_def=month_province_partitions,
             can_subset=False, pool="duckdb_writer")
def tayssir_month_close(context: AssetExecutionContext, warehouse: Warehouse):
    """Close a school month for a directorate once attendance is due: per school, active
    beneficiaries, compliant pupils and the month's entitlement, why the others are not paid, and
    whether the school's attendance arrived (on time): on the values the directorate signed for the
    month, else on the live ones, said provisional in the run's log and metadata. July and August have
    nothing to close."""
    with warehouse.connect() as con:
        built = cycle.build(con, scope(context.partition_key), context.run_id)
    (context.log.warning if "provisional" in built.detail else context.log.info)(built.detail)
    yield from results(built, "cycle")
