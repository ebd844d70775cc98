"""Alerts on failed asset checks: what an alert says and where it goes.

An `Alert` carries the check, the asset, the partition, the severity, the run and the counts and
examples the check itself put in its metadata, nothing else: no row is read to build it, so an alert
never holds more personal data than the check result already shows in the Dagster UI. The checks'
examples name schools, files, months and counts, never a pupil (`warehouse/checks.py`); as a second
line of defence, `plain_metadata` drops the text of any entry named after a personal column
(`…pupil_key_examples`, `massar_…`, `cin…`, names, birth dates, phones, raw values) and masks, in
every text it keeps, whatever has the shape of a Massar code (`J130245871`), a CIN (`AB123456`) or
a pupil/guardian key (an integer of 13 digits or more).

Notifiers (anything with `name` and `send(alert) -> bool`):
- `LogFileNotifier(path)`: appends one JSON line per alert (default `data/alerts.log`);
- `WebhookNotifier(url, timeout)`: POSTs the alert as JSON (stdlib urllib), retrying connection
  errors, timeouts, 429 and 5xx with exponential back-off; a failure is logged and counted,
  never raised.

`AlertNotifier` is the Dagster resource the sensor gets injected. Its fields default to the
environment, read when alerts are sent (so a webhook URL, which often embeds a token, is never
shown in the UI's resource config):
- `DAAM_ALERT_LOG`: the JSON-lines file, relative to the working directory of the code server;
  unset → `data/alerts.log`; set to an empty string → no log file.
- `DAAM_ALERT_WEBHOOK`: an http(s) URL to POST each alert to; unset or empty → no webhook.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from dagster import (
    BoolMetadataValue,
    ConfigurableResource,
    FloatMetadataValue,
    IntMetadataValue,
    JsonMetadataValue,
    MetadataValue,
    NullMetadataValue,
    TextMetadataValue,
)

log = logging.getLogger(__name__)

ENV_LOG = "DAAM_ALERT_LOG"
ENV_WEBHOOK = "DAAM_ALERT_WEBHOOK"
DEFAULT_ALERT_LOG = "data/alerts.log"
MAX_TEXT = 1000  # a metadata string longer than this (a long examples list) is cut, with a marker
_PLAIN_KINDS = (IntMetadataValue, FloatMetadataValue, BoolMetadataValue, TextMetadataValue, JsonMetadataValue,
                NullMetadataValue)
# An entry named after a personal column whose value is not a number: it would list that column's values.
_PERSONAL_ENTRY = re.compile(
    r"(^|_)(pupil_key|guardian_key|household_key|massar|cin|birth|first_name|last_name|full_name|pupil_name|"
    r"guardian_name|guardian|phone|address|raw_value|extra|values)(_|$)", re.IGNORECASE)
_KEPT_SUFFIXES = ("_schools", "_files", "_months", "_count", "_counts")  # e.g. orphan_pupil_key_schools
# Shapes of personal identifiers in text: a Massar code, a CIN, a pupil/guardian key (60-bit integer).
_MASSAR = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][0-9]{9}(?![A-Za-z0-9])")
_CIN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,2}[0-9]{4,6}(?![A-Za-z0-9])")
_KEY = re.compile(r"(?<![0-9])-?[0-9]{13,}(?![0-9])")
_BIG = 10 ** 12
OMITTED = "<omitted: may name a person>"


@dataclass(frozen=True)
class Alert:
    """One failed asset check evaluation."""

    check_name: str
    asset_key: str                   # "core/fct_enrolment"
    severity: str                    # "ERROR" or "WARN"
    run_id: str | None
    time: str                        # ISO 8601, UTC, of the evaluation
    partition_key: str | None = None  # "110|2022-2023" for daam's (directorate, year) partitions
    blocking: bool = False
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    event_id: int | None = None      # storage id of the evaluation event: a receiver's idempotency key

    @property
    def summary(self) -> str:
        where = f" [{self.partition_key}]" if self.partition_key else ""
        return f"daam {self.severity}: check {self.asset_key}:{self.check_name}{where} failed (run {self.run_id})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, default=str)


def plain_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """A check's metadata as JSON values: numbers, booleans, text (cut at MAX_TEXT) and JSON
    dicts/lists (counts by rule), i.e. the counts and examples the check chose to show. Other kinds
    (tables, markdown, paths, URLs…) could carry rows: they are left out, by name only."""
    out: dict[str, Any] = {}
    for name, raw in metadata.items():
        if isinstance(raw, MetadataValue) and not isinstance(raw, _PLAIN_KINDS):
            out[name] = f"<{type(raw).__name__} omitted>"
            continue
        value = raw.value if isinstance(raw, MetadataValue) else raw
        if value is None or isinstance(value, (bool, float)):
            out[name] = value
        elif isinstance(value, int):
            out[name] = value if abs(value) < _BIG else OMITTED
        elif _personal_entry(name):
            out[name] = OMITTED
        elif isinstance(value, str):
            value = _mask(value)
            out[name] = value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…(cut)"
        else:
            try:
                out[name] = _scrub(json.loads(json.dumps(value)))
            except (TypeError, ValueError):
                out[name] = f"<{type(raw).__name__} omitted>"
    return out


def _personal_entry(name: str) -> bool:
    """A metadata entry named after a personal column (its text would be that column's values)."""
    return bool(_PERSONAL_ENTRY.search(name)) and not name.lower().endswith(_KEPT_SUFFIXES)


def _mask(text: str) -> str:
    """Text with whatever has the shape of a Massar code, a CIN or a pupil key masked."""
    text = _MASSAR.sub("[massar code]", text)
    text = _CIN.sub("[cin]", text)
    return _KEY.sub("[key]", text)


def _scrub(value: Any) -> Any:
    """A JSON value with its texts masked and its big integers (keys) omitted."""
    if isinstance(value, str):
        return _mask(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if abs(value) < _BIG else OMITTED
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_mask(str(k)): _scrub(v) for k, v in value.items()}
    return value


@runtime_checkable
class Notifier(Protocol):
    """Where alerts go. `send` returns True when the alert was delivered; it should not raise (the
    dispatcher catches anything a notifier raises anyway)."""

    name: str

    def send(self, alert: Alert) -> bool: ...


class LogFileNotifier:
    """Appends one JSON line per alert to `path` (parent folders created)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.name = f"log:{self.path}"
        self.failures = 0

    def send(self, alert: Alert) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(alert.to_json() + "\n")
            return True
        except OSError as exc:
            self.failures += 1
            log.warning("alert log %s not written: %s", self.path, exc)
            return False


class WebhookNotifier:
    """POSTs each alert as JSON (`Alert.to_dict()` plus a `text` summary line, which chat
    webhooks such as Slack/Mattermost display). Connection errors, timeouts, HTTP 429 and 5xx are
    retried `retries` times, sleeping `backoff`, 2×`backoff`, …; other HTTP errors are not. A
    delivery that still fails is logged and counted in `failures`, never raised."""

    def __init__(self, url: str, timeout: float = 5.0, retries: int = 2, backoff: float = 0.5):
        scheme = url.split(":", 1)[0].lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"alert webhook must be an http(s) URL, not {scheme!r}")
        self.url = url
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.failures = 0
        # the URL often holds a token: name the host only
        self.name = "webhook:" + url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]

    def send(self, alert: Alert) -> bool:
        body = json.dumps({**alert.to_dict(), "text": alert.summary}, ensure_ascii=False, default=str).encode()
        error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=body, method="POST", headers={
                "Content-Type": "application/json; charset=utf-8", "User-Agent": "daam-alerts"})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
                return True
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}"
                if exc.code < 500 and exc.code != 429:
                    break
            except (urllib.error.URLError, OSError) as exc:  # refused, DNS, timeout
                error = str(getattr(exc, "reason", exc))
        self.failures += 1
        log.warning("alert %s:%s not delivered to %s after %d attempt(s): %s",
                    alert.asset_key, alert.check_name, self.name, attempt + 1, error)
        return False


@dataclass
class DispatchReport:
    """What `dispatch` did: alerts delivered and failed, per notifier name."""

    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    @property
    def total_failed(self) -> int:
        return sum(self.failed.values())

    def describe(self) -> str:
        parts = [f"{name}: {n} sent" for name, n in self.sent.items() if n]
        parts += [f"{name}: {n} NOT delivered" for name, n in self.failed.items() if n]
        return "; ".join(parts) or "no notifier configured"


def dispatch(alerts: Sequence[Alert], notifiers: Iterable[Notifier]) -> DispatchReport:
    """Send every alert to every notifier; never raises. A notifier that fails an alert (after its
    own retries) is not tried for the rest of this batch: a dead webhook costs one alert's
    retries per sensor tick, not one per alert; the rest are counted as not delivered."""
    report = DispatchReport()
    for notifier in notifiers:
        name = getattr(notifier, "name", type(notifier).__name__)
        sent = failed = 0
        for alert in alerts:
            if failed:
                failed += 1
                continue
            try:
                ok = notifier.send(alert)
            except Exception as exc:  # noqa: BLE001 — a plug-in notifier must never break the sensor
                # the type only: a plug-in's message could quote the alert it was sending
                log.warning("alert notifier %s raised %s", name, type(exc).__name__)
                ok = False
            if ok:
                sent += 1
            else:
                failed += 1
        report.sent[name] = report.sent.get(name, 0) + sent
        report.failed[name] = report.failed.get(name, 0) + failed
    return report


class _MisconfiguredNotifier:
    """Stands for a notifier whose configuration is wrong, so every tick reports its alerts as
    not delivered instead of silently dropping them."""

    def __init__(self, name: str, reason: str):
        self.name = name
        self.reason = reason

    def send(self, alert: Alert) -> bool:
        log.warning("alert not sent to %s: %s", self.name, self.reason)
        return False


def notifiers_from_env(environ: Mapping[str, str] | None = None, timeout: float = 5.0) -> list[Notifier]:
    """The notifiers the environment asks for: the log file (DAAM_ALERT_LOG, default
    data/alerts.log, empty = none) and the webhook (DAAM_ALERT_WEBHOOK, optional)."""
    env = os.environ if environ is None else environ
    return AlertNotifier(webhook_timeout=timeout).notifiers(env)


class AlertNotifier(ConfigurableResource):
    """Where failed-check alerts go. Unset fields fall back to DAAM_ALERT_LOG (default
    data/alerts.log; empty = no file) and DAAM_ALERT_WEBHOOK (optional), read at send time."""

    log_path: str | None = None
    webhook_url: str | None = None
    webhook_timeout: float = 5.0
    webhook_retries: int = 2
    webhook_backoff: float = 0.5

    def notifiers(self, environ: Mapping[str, str] | None = None) -> list[Notifier]:
        env = os.environ if environ is None else environ
        log_path = self.log_path if self.log_path is not None else env.get(ENV_LOG, DEFAULT_ALERT_LOG)
        webhook = self.webhook_url if self.webhook_url is not None else env.get(ENV_WEBHOOK, "")
        out: list[Notifier] = []
        if log_path:
            out.append(LogFileNotifier(log_path))
        if webhook:
            try:
                out.append(WebhookNotifier(webhook, self.webhook_timeout, self.webhook_retries, self.webhook_backoff))
            except ValueError as exc:
                out.append(_MisconfiguredNotifier("webhook (invalid URL)", str(exc)))
        return out

    def send_all(self, alerts: Sequence[Alert]) -> DispatchReport:
        return dispatch(alerts, self.notifiers())
