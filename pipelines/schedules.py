"""Schedules: when daam runs without anyone asking."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, ScheduleDefinition

from pipelines.jobs import quality_monitoring_job

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
