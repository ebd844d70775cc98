"""`failed_check_sensor`: one alert per failed asset check evaluation, ERROR and WARN alike.

A WARN check (`quality_suite` on staging) that fails leaves its run green, so run-failure sensors
never see it; this sensor reads the instance event log instead. Its cursor is the storage id of the
last ASSET_CHECK_EVALUATION event it has read: each tick reads the events after it (oldest first,
at most PAGE_SIZE × MAX_PAGES per tick, the rest on the next tick), alerts on those that failed,
then moves the cursor past everything read, so an alert is sent once, and a restart of the daemon
resumes where the last tick stopped. With no cursor yet (first tick, or after a reset in the UI)
it reads the whole event log from the beginning.

Delivery problems (a dead webhook, an unwritable log file) never fail the tick: they are logged,
counted in the tick's message, and the cursor still moves on (the alert is not re-sent later).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from dagster import (
    AssetCheckKey,
    DagsterEventType,
    DagsterInstance,
    DefaultSensorStatus,
    EventLogRecord,
    EventRecordsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

from pipelines.alerts import Alert, AlertNotifier, plain_metadata

PAGE_SIZE = 500
MAX_PAGES = 20
PARTITION_TAG = "dagster/partition"


def check_evaluations_after(instance: DagsterInstance, cursor: int | None, limit: int) -> Sequence[EventLogRecord]:
    """ASSET_CHECK_EVALUATION event records with a storage id above `cursor`, oldest first.

    Dagster 1.13 has no public `fetch_*` for check evaluations (only for materializations,
    observations and run status changes), so this uses the event log storage's
    `get_event_records` (the instance method of that name is deprecated). On the default local
    instance (SQLite, one database per run) storage ids are per run and that method refuses an
    integer cursor; but check evaluation events are also mirrored in the cross-run index shard, with
    global ids, so the query is sent there — what Dagster itself does for run status changes
    (`SqliteEventLogStorage.fetch_run_status_changes`)."""
    records_filter = EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=cursor)
    storage = instance.event_log_storage
    if storage.is_run_sharded and isinstance(storage, SqlEventLogStorage):
        return SqlEventLogStorage.get_event_records(storage, records_filter, limit=limit, ascending=True)
    return storage.get_event_records(records_filter, limit=limit, ascending=True)


def _parse_cursor(context: SensorEvaluationContext) -> int | None:
    if not context.cursor:
        return None
    try:
        return int(context.cursor)
    except ValueError:
        context.log.warning(f"cursor {context.cursor!r} is not a storage id: reading the event log from the start")
        return None


class _AlertBuilder:
    """Turns a failed evaluation record into an `Alert`; the partition comes from the evaluation,
    else from the run's partition tag (the check of a partitioned asset is evaluated per run)."""

    def __init__(self, context: SensorEvaluationContext):
        self.instance = context.instance
        self.repository_def = context.repository_def
        self._partition_by_run: dict[str, str | None] = {}

    def _run_partition(self, run_id: str) -> str | None:
        if not run_id:
            return None
        if run_id not in self._partition_by_run:
            run = self.instance.get_run_by_id(run_id)
            self._partition_by_run[run_id] = run.tags.get(PARTITION_TAG) if run else None
        return self._partition_by_run[run_id]

    def _spec_description(self, key: AssetCheckKey) -> str | None:
        if self.repository_def is None:
            return None
        try:
            return self.repository_def.asset_graph.get_check_spec(key).description
        except KeyError:  # a check of another code location, or a definition since removed
            return None

    def __call__(self, record: EventLogRecord) -> Alert | None:
        entry = record.event_log_entry
        evaluation = entry.dagster_event.event_specific_data if entry.dagster_event else None
        if evaluation is None or evaluation.passed:
            return None
        return Alert(
            check_name=evaluation.check_name,
            asset_key=evaluation.asset_key.to_user_string(),
            severity=evaluation.severity.value,
            run_id=entry.run_id or None,
            time=datetime.fromtimestamp(entry.timestamp, UTC).isoformat(timespec="seconds"),
            partition_key=evaluation.partition or self._run_partition(entry.run_id),
            blocking=bool(evaluation.blocking),
            description=evaluation.description or self._spec_description(evaluation.asset_check_key),
            metadata=plain_metadata(evaluation.metadata),
            event_id=record.storage_id,
        )


WHY = "Alerts on every failed asset check (ERROR or WARN): a failed WARN check leaves its run green."


# @sensor does not take the docstring as the UI description: WHY is passed explicitly.
@sensor(name="failed_check_sensor", minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description=WHY)
def failed_check_sensor(context: SensorEvaluationContext, alert_notifier: AlertNotifier) -> SkipReason:
    """Alerts on every failed asset check (ERROR or WARN): a failed WARN check leaves its run green."""
    cursor = _parse_cursor(context)
    build = _AlertBuilder(context)
    alerts: list[Alert] = []
    read = 0
    for _ in range(MAX_PAGES):
        records = check_evaluations_after(context.instance, cursor, PAGE_SIZE)
        for record in records:
            alert = build(record)
            if alert is not None:
                alerts.append(alert)
            cursor = record.storage_id
        read += len(records)
        if len(records) < PAGE_SIZE:
            break
    if cursor is not None:
        context.update_cursor(str(cursor))
    if not alerts:
        return SkipReason(f"No failed asset check in the {read} check evaluation(s) since the last tick.")

    report = alert_notifier.send_all(alerts)
    for alert in alerts:
        context.log.info(alert.summary)
    if report.total_failed:
        context.log.warning(f"alerts not delivered: {report.describe()}")
    errors = sum(a.severity == "ERROR" for a in alerts)
    checks = sorted({f"{a.asset_key}:{a.check_name}" for a in alerts})
    shown = ", ".join(checks[:5]) + (f" and {len(checks) - 5} more" if len(checks) > 5 else "")
    return SkipReason(f"{len(alerts)} failed check(s) alerted ({errors} ERROR, {len(alerts) - errors} WARN): "
                      f"{shown}. Delivery: {report.describe()}.")
