"""Schedules: when daam runs without anyone asking."""

from __future__ import annotations

from datetime import date

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from assets.partitions import month_partition_key
from daam.config import load_settings
from pipelines.jobs import quality_monitoring_job, sql_extract_job, tayssir_cycle_job

TIMEZONE = "Africa/Casablanca"

nightly_quality_monitoring = ScheduleDefinition(
    name="nightly_quality_monitoring",
    job=quality_monitoring_job,
    cron_schedule="30 2 * * *",
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every night at 02:30, after the day's loads: monitors open the day on fresh scores, "
                "outliers and Data Docs.",
)


@schedule(name="tayssir_monthly_cycle", job=tayssir_cycle_job, cron_schedule="0 6 11 * *",
          execution_timezone=TIMEZONE, default_status=DefaultScheduleStatus.RUNNING,
          description="On the 11th at 06:00, once the previous month's attendance was due (deadline: the 10th, "
                      "configs/completeness.yaml): close that month for every directorate.")
def tayssir_monthly_cycle(context: ScheduleEvaluationContext):
    """On the 11th, after the attendance deadline: close the previous school month everywhere."""
    settings = load_settings()
    today = context.scheduled_execution_time.date() if context.scheduled_execution_time else date.today()
    previous = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1).strftime("%Y-%m")
    school_months = {m for y in settings.school_years for m in settings.months_of(y)}
    if previous not in school_months:
        return SkipReason(f"{previous} is not a school month: nothing to close")
    return [RunRequest(run_key=f"tayssir-cycle|{previous}|{p}", partition_key=month_partition_key(previous, p))
            for p in sorted(settings.provinces)]


sql_extract_hourly = ScheduleDefinition(
    name="sql_extract_hourly",
    job=sql_extract_job,
    cron_schedule="5 * * * *",
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.STOPPED,
    description="Every hour: bring the replica's changed rows in (incremental by updated_at). Stopped until a "
                "replica is configured (DAAM_SQL_URL).",
)

sql_extract_nightly_full = ScheduleDefinition(
    name="sql_extract_nightly_full",
    job=sql_extract_job,
    cron_schedule="0 2 * * *",
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.STOPPED,
    run_config={"ops": {"landing__sql_extract": {"config": {"full": True}}}},
    description="Every night at 02:00: a full pass catches deleted rows and late commits; files whose content "
                "did not change are not rewritten. Stopped until a replica is configured.",
)
