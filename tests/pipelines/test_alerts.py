"""Failed-check alerts: one alert per failed check evaluation (ERROR and WARN), none for a passing
check, none twice; the webhook is retried on 5xx and a dead one never fails the sensor."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    DagsterInstance,
    Definitions,
    MaterializeResult,
    SkipReason,
    StaticPartitionsDefinition,
    asset,
    build_sensor_context,
    materialize,
)

from pipelines.alerts import (
    DEFAULT_ALERT_LOG,
    Alert,
    AlertNotifier,
    LogFileNotifier,
    WebhookNotifier,
    dispatch,
    notifiers_from_env,
    plain_metadata,
)
from pipelines.sensors import WHY, failed_check_sensor

PARTS = StaticPartitionsDefinition(["110|2022-2023", "120|2022-2023"])
KEY = AssetKey(["staging", "students"])


@asset(partitions_def=PARTS, check_specs=[
    AssetCheckSpec("file_accounting", asset=KEY, blocking=True,
                   description="rows_read = rows_loaded + rows_quarantined"),
    AssetCheckSpec("quality_suite", asset=KEY, description="warns on quarantined rows"),
    AssetCheckSpec("not_empty", asset=KEY),
], key=KEY)
def students():
    yield MaterializeResult(metadata={"rows": 10})
    yield AssetCheckResult(check_name="file_accounting", passed=False, severity=AssetCheckSeverity.ERROR,
                           metadata={"files_unbalanced": 2, "examples": "2022-2023/students/16698Z.csv"})
    yield AssetCheckResult(check_name="quality_suite", passed=False, severity=AssetCheckSeverity.WARN,
                           metadata={"rows": 10, "rows_quarantined": 3,
                                     "issues_by_rule": {"massar_code_format": 2, "age_level_mismatch": 1}})
    yield AssetCheckResult(check_name="not_empty", passed=True, metadata={"rows": 10})


def _materialize(instance: DagsterInstance, partition: str) -> None:
    # the failing blocking check fails the step, so the run fails: raise_on_error=False
    result = materialize([students], instance=instance, partition_key=partition, raise_on_error=False)
    assert not result.success


def _instance(tmp: Path, storage: str) -> DagsterInstance:
    tmp.mkdir(parents=True, exist_ok=True)
    overrides = None
    if storage == "consolidated":
        overrides = {"event_log_storage": {"module": "dagster._core.storage.event_log",
                                           "class": "ConsolidatedSqliteEventLogStorage",
                                           "config": {"base_dir": str(tmp / "events")}}}
    return DagsterInstance.local_temp(str(tmp), overrides=overrides)


# "sharded": the default local instance (`dg dev`: one SQLite file per run, storage ids per run);
# "consolidated": one event log with global ids, like Postgres.
@pytest.fixture(scope="module", params=["sharded", "consolidated"])
def instance(request, tmp_path_factory) -> Iterator[DagsterInstance]:
    tmp = tmp_path_factory.mktemp(f"dagster_{request.param}")
    with _instance(tmp, request.param) as inst:
        assert inst.event_log_storage.is_run_sharded is (request.param == "sharded")
        _materialize(inst, "110|2022-2023")
        yield inst


def _evaluate(instance, cursor, notifier: AlertNotifier, definitions=None):
    context = build_sensor_context(instance=instance, cursor=cursor, definitions=definitions,
                                   resources={"alert_notifier": notifier})
    result = failed_check_sensor(context)
    assert isinstance(result, SkipReason)
    return result.skip_message, context.cursor


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def _log_only(path: Path, **kw) -> AlertNotifier:
    return AlertNotifier(log_path=str(path), webhook_url="", **kw)


def test_one_alert_per_failed_check_and_none_twice(instance, tmp_path):
    log = tmp_path / "alerts.log"
    message, cursor = _evaluate(instance, None, _log_only(log))
    alerts = {a["check_name"]: a for a in _lines(log)}
    assert sorted(alerts) == ["file_accounting", "quality_suite"]  # the passing check sends nothing
    assert "2 failed check(s) alerted (1 ERROR, 1 WARN)" in message

    err, warn = alerts["file_accounting"], alerts["quality_suite"]
    assert (err["asset_key"], err["severity"], err["blocking"]) == ("staging/students", "ERROR", True)
    assert (warn["severity"], warn["blocking"]) == ("WARN", False)
    assert err["partition_key"] == warn["partition_key"] == "110|2022-2023"
    assert err["metadata"] == {"files_unbalanced": 2, "examples": "2022-2023/students/16698Z.csv"}
    assert warn["metadata"] == {"rows": 10, "rows_quarantined": 3,
                                "issues_by_rule": {"massar_code_format": 2, "age_level_mismatch": 1}}
    assert err["run_id"] and err["run_id"] == warn["run_id"]
    assert err["time"].endswith("+00:00") and isinstance(err["event_id"], int)
    assert cursor is not None and int(cursor) >= max(a["event_id"] for a in alerts.values())

    # the returned cursor: nothing read again, nothing sent again
    message, cursor2 = _evaluate(instance, cursor, _log_only(log))
    assert message.startswith("No failed asset check") and cursor2 == cursor
    assert len(_lines(log)) == 2


def test_failures_after_the_cursor_are_sent_once(tmp_path):
    log = tmp_path / "alerts.log"
    with _instance(tmp_path / "home", "sharded") as instance:
        message, cursor = _evaluate(instance, None, _log_only(log))
        assert message == "No failed asset check in the 0 check evaluation(s) since the last tick."
        assert cursor is None
        _materialize(instance, "110|2022-2023")
        _, cursor = _evaluate(instance, cursor, _log_only(log))
        _materialize(instance, "120|2022-2023")  # e.g. while the daemon was down
        _, cursor = _evaluate(instance, cursor, _log_only(log))
        _, cursor = _evaluate(instance, cursor, _log_only(log))
    sent = [(a["partition_key"], a["check_name"]) for a in _lines(log)]
    assert sent == [("110|2022-2023", "file_accounting"), ("110|2022-2023", "quality_suite"),
                    ("120|2022-2023", "file_accounting"), ("120|2022-2023", "quality_suite")]


def test_description_falls_back_to_the_check_spec(instance, tmp_path):
    log = tmp_path / "alerts.log"
    defs = Definitions(assets=[students], sensors=[failed_check_sensor])
    _evaluate(instance, None, _log_only(log), definitions=defs)
    descriptions = {a["check_name"]: a["description"] for a in _lines(log)}
    assert descriptions == {"file_accounting": "rows_read = rows_loaded + rows_quarantined",
                            "quality_suite": "warns on quarantined rows"}


# --- webhook -------------------------------------------------------------------------------------

class _Hook:
    """A local webhook: answers each POST with the next status of `statuses` (then 200)."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.received: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append({"status": hook.statuses[0] if hook.statuses else 200,
                                      "content_type": self.headers["Content-Type"], "json": json.loads(body)})
                self.send_response(hook.statuses.pop(0) if hook.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T0KEN"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_factory():
    hooks: list[_Hook] = []

    def make(statuses=()):
        hooks.append(_Hook(list(statuses)))
        return hooks[-1]

    yield make
    for h in hooks:
        h.close()


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"  # nothing listens: connection refused


def _hooked(log: Path, url: str) -> AlertNotifier:
    return AlertNotifier(log_path=str(log), webhook_url=url, webhook_timeout=2.0, webhook_backoff=0.01)


def test_webhook_receives_each_alert_as_json(instance, tmp_path, hook_factory):
    hook = hook_factory()
    message, _ = _evaluate(instance, None, _hooked(tmp_path / "alerts.log", hook.url))
    assert [r["json"]["check_name"] for r in hook.received] == ["file_accounting", "quality_suite"]
    first = hook.received[0]
    assert first["content_type"].startswith("application/json")
    assert first["json"]["metadata"]["files_unbalanced"] == 2
    assert first["json"]["text"].startswith("daam ERROR: check staging/students:file_accounting [110|2022-2023]")
    assert f"webhook:127.0.0.1:{hook.server.server_port}: 2 sent" in message
    assert "T0KEN" not in message  # the URL's path (often a token) is never shown


def test_webhook_5xx_is_retried(instance, tmp_path, hook_factory):
    hook = hook_factory([500, 200, 503, 200])
    message, _ = _evaluate(instance, None, _hooked(tmp_path / "alerts.log", hook.url))
    assert [(r["status"], r["json"]["check_name"]) for r in hook.received] == [
        (500, "file_accounting"), (200, "file_accounting"), (503, "quality_suite"), (200, "quality_suite")]
    assert "2 sent" in message and "NOT delivered" not in message


def test_webhook_4xx_is_not_retried(hook_factory):
    hook = hook_factory([404])
    notifier = WebhookNotifier(hook.url, timeout=2.0, backoff=0.01)
    assert notifier.send(_alert()) is False
    assert len(hook.received) == 1 and notifier.failures == 1


def test_dead_webhook_does_not_fail_the_sensor(instance, tmp_path):
    log = tmp_path / "alerts.log"
    message, cursor = _evaluate(instance, None, _hooked(log, _dead_url()))
    assert len(_lines(log)) == 2  # the log file still has both
    assert "2 NOT delivered" in message and cursor is not None


# --- notifiers and the resource ------------------------------------------------------------------

def _alert(**kw) -> Alert:
    return Alert(**{"check_name": "quality_suite", "asset_key": "staging/attendance", "severity": "WARN",
                    "run_id": "r1", "time": "2024-01-01T00:00:00+00:00", **kw})


def test_webhook_retries_then_gives_up_and_counts(hook_factory):
    hook = hook_factory([500, 502, 503])
    notifier = WebhookNotifier(hook.url, timeout=2.0, retries=2, backoff=0.01)
    assert notifier.send(_alert()) is False
    assert len(hook.received) == 3 and notifier.failures == 1


def test_dispatch_never_raises_and_stops_trying_a_failing_notifier(tmp_path):
    class Broken:
        name = "broken"
        calls = 0

        def send(self, alert):
            Broken.calls += 1
            raise RuntimeError("boom")

    report = dispatch([_alert(), _alert()], [Broken(), LogFileNotifier(tmp_path / "a" / "alerts.log")])
    assert Broken.calls == 1
    assert report.failed["broken"] == 2 and report.total_failed == 2
    assert report.sent[f"log:{tmp_path / 'a' / 'alerts.log'}"] == 2


def test_unwritable_log_is_counted_not_raised(tmp_path):
    notifier = LogFileNotifier(tmp_path)  # a directory: cannot be opened for append
    assert notifier.send(_alert()) is False and notifier.failures == 1


def test_notifiers_from_env():
    assert [n.name for n in notifiers_from_env({})] == [f"log:{DEFAULT_ALERT_LOG}"]
    assert notifiers_from_env({"DAAM_ALERT_LOG": ""}) == []
    both = notifiers_from_env({"DAAM_ALERT_LOG": "/tmp/x.log", "DAAM_ALERT_WEBHOOK": "https://u:p@hooks.example/abc"})
    assert [n.name for n in both] == ["log:/tmp/x.log", "webhook:hooks.example"]
    bad = notifiers_from_env({"DAAM_ALERT_LOG": "", "DAAM_ALERT_WEBHOOK": "file:///etc/passwd"})
    assert [n.name for n in bad] == ["webhook (invalid URL)"] and bad[0].send(_alert()) is False


def test_resource_fields_override_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DAAM_ALERT_LOG", str(tmp_path / "env.log"))
    monkeypatch.setenv("DAAM_ALERT_WEBHOOK", "http://127.0.0.1:9/hook")
    assert [n.name for n in AlertNotifier().notifiers()] == [f"log:{tmp_path / 'env.log'}", "webhook:127.0.0.1:9"]
    assert [n.name for n in AlertNotifier(log_path="x.log", webhook_url="").notifiers()] == ["log:x.log"]


def test_plain_metadata_keeps_counts_and_examples_only():
    from dagster import MetadataValue

    meta = plain_metadata({"n": MetadataValue.int(3), "examples": MetadataValue.text("a" * 2000),
                           "by_rule": MetadataValue.json({"r": 1}), "rate": 0.5,
                           "table": MetadataValue.md("| massar | name |"), "where": MetadataValue.path("/x"),
                           "raw_list": ["a", 1]})
    assert meta["n"] == 3 and meta["by_rule"] == {"r": 1} and meta["rate"] == 0.5
    assert len(meta["examples"]) < 1100 and meta["examples"].endswith("(cut)")
    assert meta["table"] == "<MarkdownMetadataValue omitted>" and meta["where"] == "<PathMetadataValue omitted>"
    assert meta["raw_list"] == ["a", 1]


def test_plain_metadata_never_passes_on_a_personal_value():
    from dagster import MetadataValue

    key = 196765147223900355  # a pupil key (60-bit HMAC)
    meta = plain_metadata({
        "examples": MetadataValue.text("16698Z+16701C 2022-10; J130245871 at 16698Z, CIN AB123456, key 196765147223900355"),
        "orphan_pupil_key_examples": MetadataValue.text(str(key)),
        "orphan_pupil_key_schools": MetadataValue.text("16698Z"),
        "guardian_cin_examples": "S123456", "birth_date_values": ["2014-05-03"], "pupil_key": key,
        "pupils": 2, "by_rule": {"massar_code_format": 1, "J130245872": 1}, "keys": [key, 3],
        "files": "2022-2023/students/16698Z.csv",
    })
    text = json.dumps(meta, ensure_ascii=False)
    for value in ("J130245871", "J130245872", "AB123456", "S123456", "2014-05-03", str(key)):
        assert value not in text, value
    assert meta["examples"] == "16698Z+16701C 2022-10; [massar code] at 16698Z, CIN [cin], key [key]"
    assert meta["orphan_pupil_key_examples"] == meta["guardian_cin_examples"] == meta["birth_date_values"] == (
        "<omitted: may name a person>")
    assert meta["orphan_pupil_key_schools"] == "16698Z" and meta["files"] == "2022-2023/students/16698Z.csv"
    assert meta["pupils"] == 2 and meta["by_rule"] == {"massar_code_format": 1, "[massar code]": 1}
    assert meta["keys"] == ["<omitted: may name a person>", 3] and meta["pupil_key"] == "<omitted: may name a person>"


def test_sensor_definition():
    from dagster import DefaultSensorStatus

    assert failed_check_sensor.default_status == DefaultSensorStatus.RUNNING
    assert failed_check_sensor.minimum_interval_seconds == 60
    assert failed_check_sensor.description == WHY
    assert failed_check_sensor.required_resource_keys == {"alert_notifier"}


def test_wires_into_daam_definitions(tmp_path):
    from pipelines.definitions import build_definitions

    defs = build_definitions(landing=str(tmp_path / "landing"), warehouse=str(tmp_path / "w.duckdb"))
    Definitions.validate_loadable(defs)
    assert defs.get_sensor_def("failed_check_sensor") is not None
