"""cycle: the monthly Tayssir cycle, per school month × directorate."""

from datetime import datetime

from dagster import AssetExecutionContext, MaterializeResult, asset

from assets.keys import key
from pipelines.partitions import month_province_partitions, split_month_key
from pipelines.resources import Warehouse
from warehouse.db import log_step, transaction
from warehouse.schema import run_sql


@asset(key=key("mart/tayssir_month_close"), deps=[key("core/fct_tayssir_month"), key("core/fct_submission")],
       partitions_def=month_province_partitions, group_name="cycle", kinds={"duckdb"}, pool="duckdb_writer")
def tayssir_month_close(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Close a school month for a directorate once attendance is due: per school, active
    beneficiaries, compliant pupils and the month's entitlement, why the others are not paid, and
    whether the school's attendance arrived (on time). July and August have nothing to close."""
    month, province = split_month_key(context.partition_key)
    started = datetime.now()
    with warehouse.connect() as con:
        with transaction(con):
            run_sql(con, "mart/tayssir_month_close.sql", {"month": month, "province": province})
            log_step(con, context.run_id, "tayssir_month_close", str(context.partition_key), started, "closed")
        schools, compliant, entitlement, missing = con.execute("""
            select count(*), coalesce(sum(compliant_pupils), 0), coalesce(sum(entitlement_mad), 0)::double,
                   count(*) filter (attendance_expected and not attendance_received)
            from mart.tayssir_month_close where month = $m and province_code = $p
        """, {"m": month, "p": province}).fetchall()[0]
    return MaterializeResult(metadata={"schools": schools, "compliant_pupils": compliant,
                                       "entitlement_mad": entitlement, "schools_without_attendance": missing})
