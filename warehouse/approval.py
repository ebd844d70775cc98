"""Data approval (contract levels.md, section 4): a directorate signs off a unit of its data, its
region accepts it, and the region and national products read only what was signed.

- **Unit**: (directorate, school year, period); the period is a school month `YYYY-MM` (the monthly
  indicators of that month) or `year` (the yearly indicators). It covers the directorate's rows of
  `mart.indicators` and its schools' (`ops.indicator_unit`).
- **States**: `open` → `approved` (by the directorate) → `accepted` (by its region). The directorate
  may unapprove while the unit is not accepted; its region and the centre may unapprove at any time.
  Who may act is `configs/approvers.yaml` (or the file `DAAM_APPROVERS` names).
- **Approving** freezes the unit's values into `ops.approved_value` with a SHA-256 fingerprint of
  them (`ops/approval_fingerprint.sql`); loads go on, and `warehouse/build/approval.py` shows the
  drift of the live values from the signed ones after each load.
- **Audit**: every action that changes a state is appended to `ops.approval_event` (who, level, why,
  when, fingerprint), chained by SHA-256 so that an edit made outside daam shows in `verify`. This
  module has no code path that updates or deletes an event or a signed value.

Decisions on the edge cases (the issue asked for them, tested in tests/warehouse/test_approval.py):
- a unit with open errors or rejected files **can be approved**, with a warning listing them, and
  their counts are kept in the event: refusing would let one school that never fixes a row stop
  its directorate's month (DHIS2's "data set is locked" complaint); the region sees the counts;
- a school year without programme rules, a month outside the school calendar, and a unit without
  any value loaded are refused (nothing to sign, or no rule to read it by);
- approving a unit that is already approved does nothing and writes no event (idempotent); if its
  values drifted, the message says to unapprove it first;
- in a range, a unit already accepted is skipped with its reason and the others are approved;
- a school that joins the referential, or a file corrected or arriving after the signature, changes
  the live values: the unit drifts (values added or changed, files listed) and the products keep the
  signed values until the unit is unapproved and approved again.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from daam.config import CONFIG_DIR, ConfigError, Settings, load_settings, parse_yaml
from warehouse.db import transaction
from warehouse.schema import SQL

APPROVERS_ENV = "DAAM_APPROVERS"
LEVELS = ("province", "region", "national")
ACTIONS = ("approve", "accept", "unapprove")
DONE = {"approve": "approved", "accept": "accepted", "unapprove": "unapproved"}  # what an action made of a unit
SIGNED = ("approved", "accepted")
GENESIS = "0" * 64  # the chain value before the first event


class ApprovalError(ValueError):
    """The whole command is refused (an unknown approver, a school year without rules, a period that
    is not one of its months, no reason); the message says why and what to do."""


@dataclass(frozen=True)
class Approver:
    id: str
    level: str
    code: str | None
    title_fr: str = ""
    title_ar: str = ""

    def __str__(self) -> str:
        return self.id


def approvers_path() -> Path:
    return Path(os.environ.get(APPROVERS_ENV) or CONFIG_DIR / "approvers.yaml")


def load_approvers(path: str | Path | None = None, settings: Settings | None = None) -> dict[str, Approver]:
    """The approvers of `path` (default: $DAAM_APPROVERS, else configs/approvers.yaml), checked: a
    level among province, region, national and, below the centre, a known directorate or region."""
    path = Path(path) if path else approvers_path()
    settings = settings or load_settings()
    try:
        doc = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"no approvers file at {path}: list who may approve in configs/approvers.yaml") from None
    out: dict[str, Approver] = {}
    for ident, spec in (doc.get("approvers") or {}).items():
        level, code = spec.get("level"), spec.get("code")
        code = None if code is None else str(code)
        where = f"{path}: approver {ident}"
        if level not in LEVELS:
            raise ConfigError(f"{where}: level must be one of {', '.join(LEVELS)}")
        if level == "province" and code not in settings.provinces:
            raise ConfigError(f"{where}: {code!r} is not a directorate of configs/reference/provinces.csv")
        if level == "region" and code not in settings.regions:
            raise ConfigError(f"{where}: {code!r} is not a region of configs/reference/regions.csv")
        if level == "national" and code is not None:
            raise ConfigError(f"{where}: a national approver has no code")
        out[str(ident)] = Approver(str(ident), level, code, spec.get("title_fr", ""), spec.get("title_ar", ""))
    return out


def periods(spec: str, school_year: str, settings: Settings | None = None) -> list[str]:
    """The periods `spec` names in `school_year`: a month `2022-10`, a range `2022-09..2023-06`,
    `year`, `all` (every month, then `year`), or a comma-separated list of those. A school year
    without programme rules, or a month outside its calendar, is refused."""
    settings = settings or load_settings()
    try:
        settings.programme_rules(school_year)
    except ConfigError as exc:
        raise ApprovalError(f"school year {school_year} can not be approved: {exc}") from None
    months = settings.months_of(school_year)
    out: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if part == "year":
            chosen = ["year"]
        elif part == "all":
            chosen = months + ["year"]
        elif ".." in part:
            start, _, end = part.partition("..")
            for m in (start, end):
                if m not in months:
                    raise ApprovalError(_not_a_month(m, school_year, months))
            if months.index(start) > months.index(end):
                raise ApprovalError(f"the range {part} ends before it starts (school months run "
                                    f"{months[0]}..{months[-1]})")
            chosen = months[months.index(start): months.index(end) + 1]
        elif part in months:
            chosen = [part]
        else:
            raise ApprovalError(_not_a_month(part, school_year, months))
        out += [p for p in chosen if p not in out]
    return out


def _not_a_month(value: str, school_year: str, months: list[str]) -> str:
    return (f"{value!r} is not a period of school year {school_year}: give a school month "
            f"({months[0]} to {months[-1]}), a range such as {months[0]}..{months[-1]}, `year` or `all`")


@dataclass
class UnitResult:
    """What an action did (or, in a dry run, would do) to one unit."""

    province: str
    school_year: str
    period: str
    outcome: str  # done | unchanged | skipped | refused
    state_before: str
    state_after: str
    message: str
    fingerprint: str | None = None
    values: int = 0
    warnings: list[str] = field(default_factory=list)
    event_id: int | None = None
    preview: pd.DataFrame | None = None  # dry run of an approve: the directorate's values it would freeze

    @property
    def unit(self) -> str:
        return f"{self.province} {self.school_year} {self.period}"


@dataclass
class ActionReport:
    action: str
    actor: str
    dry_run: bool
    units: list[UnitResult] = field(default_factory=list)

    def by_outcome(self, outcome: str) -> list[UnitResult]:
        return [u for u in self.units if u.outcome == outcome]

    @property
    def refused_all(self) -> bool:
        """Nothing could be done and something was refused (the command's exit code is 2)."""
        return bool(self.by_outcome("refused")) and not self.by_outcome("done") and not self.by_outcome("unchanged")


def act(con: duckdb.DuckDBPyConnection, action: str, province: str, school_year: str, period: str, by: str,
        reason: str | None, dry_run: bool = False, now: datetime | None = None,
        approvers: dict[str, Approver] | None = None) -> ActionReport:
    """Apply `action` (approve, accept, unapprove) by approver `by` to the units `period` names, in
    one transaction; a dry run writes nothing and says what would happen. Raises ApprovalError when
    the whole command is refused; a unit that can not change is reported (skipped or refused) and
    the others go on."""
    settings = load_settings()
    if action not in ACTIONS:
        raise ApprovalError(f"unknown action {action!r} ({', '.join(ACTIONS)})")
    if province not in settings.provinces:
        raise ApprovalError(f"unknown directorate code {province} (configs/reference/provinces.csv)")
    approvers = approvers if approvers is not None else load_approvers(settings=settings)
    actor = approvers.get(by)
    if actor is None:
        raise ApprovalError(f"{by!r} is not an approver: configs/approvers.yaml names "
                            f"{', '.join(sorted(approvers)) or 'nobody'}; ask its administrator to add you")
    if not dry_run and not (reason or "").strip():
        raise ApprovalError("a reason is required (--reason): the audit keeps why each action was taken")
    region = settings.provinces[province].region_code
    if refusal := _may(actor, action, province, region, approvers):
        raise ApprovalError(refusal)
    report = ActionReport(action, by, dry_run)
    now = now or datetime.now()
    units = periods(period, school_year, settings)
    with (nullcontext() if dry_run else transaction(con)):
        for p in units:
            report.units.append(_one(con, action, actor, province, school_year, p, (reason or "").strip(), dry_run,
                                     now, approvers, region))
        # a withdrawn signature's drift rows go with it now, not at the next drift computation:
        # `daam approvals --drift` and the directorate's product read ops.approval_drift directly
        if not dry_run and report.by_outcome("done"):
            for table in ("ops.approval_drift", "ops.approval_drift_file"):
                con.execute(f"delete from {table} where signature_id not in (select signature_id from "
                            "ops.approval_unit where state in ('approved', 'accepted'))")
    return report


def _names(approvers: dict[str, Approver], level: str, code: str | None = None) -> str:
    ids = sorted(a.id for a in approvers.values() if a.level == level and (code is None or a.code == code))
    return ", ".join(ids) if ids else "nobody in configs/approvers.yaml"


def _may(actor: Approver, action: str, province: str, region: str, approvers: dict[str, Approver]) -> str | None:
    """Why `actor` may not take `action` on the directorate's units at all, or None."""
    own = _names(approvers, "province", province)
    own_region = _names(approvers, "region", region)
    if action == "approve" and not (actor.level == "province" and actor.code == province):
        return (f"{actor} ({actor.level}{' ' + actor.code if actor.code else ''}) may not approve directorate "
                f"{province}'s data: approving is the directorate's own action ({own})")
    if action == "accept" and not (actor.level == "region" and actor.code == region):
        return (f"{actor} may not accept directorate {province}'s data: accepting is its region's action "
                f"(region {region}: {own_region})")
    if action == "unapprove" and not (
            actor.level == "national" or (actor.level == "region" and actor.code == region)
            or (actor.level == "province" and actor.code == province)):
        return (f"{actor} may not unapprove directorate {province}'s data: the directorate ({own}), its region "
                f"({own_region}) or the centre ({_names(approvers, 'national')}) may")
    return None


def _state(con: duckdb.DuckDBPyConnection, province: str, school_year: str, period: str) -> dict:
    row = con.execute("select * from ops.approval_unit where province_code = $p and school_year = $y "
                      "and period = $m", {"p": province, "y": school_year, "m": period}).df()
    return row.iloc[0].to_dict() if len(row) else {"state": "open"}


def _signed_by(state: dict) -> str:
    text = f"approved by {state['approved_by']} on {state['approved_at']:%Y-%m-%d %H:%M}"
    if state["state"] == "accepted":
        text += f", accepted by {state['accepted_by']} on {state['accepted_at']:%Y-%m-%d %H:%M}"
    return text + f" (fingerprint {state['fingerprint'][:12]})"


def _one(con: duckdb.DuckDBPyConnection, action: str, actor: Approver, province: str, school_year: str,
         period: str, reason: str, dry_run: bool, now: datetime, approvers: dict[str, Approver],
         region: str) -> UnitResult:
    state = _state(con, province, school_year, period)
    before = state["state"]

    def result(outcome: str, message: str, after: str | None = None, **kw) -> UnitResult:
        return UnitResult(province, school_year, period, outcome, before, after or before, message, **kw)

    if action == "approve":
        if before == "approved":
            drift = con.execute("select count(*) from ops.approval_drift where signature_id = $s",
                                {"s": int(state["signature_id"])}).fetchone()[0]
            tail = (f"; its live values drifted ({drift} value(s)): unapprove it, then approve again to sign them"
                    if drift else "")
            return result("unchanged", f"already {_signed_by(state)}: nothing done{tail}",
                          fingerprint=state["fingerprint"])
        if before == "accepted":
            return result("skipped", f"skipped: {_signed_by(state)}; to sign it again its region "
                                     f"({_names(approvers, 'region', region)}) or the centre "
                                     f"({_names(approvers, 'national')}) must unapprove it first",
                          fingerprint=state["fingerprint"])
        _unit_values(con, "select * from ops.indicator_unit", province, school_year, period)
        signed = SQL.row(con, "ops/approval_fingerprint.sql", {"province": province, "year": school_year,
                                                                "period": period})
        if not signed["values_signed"]:
            return result("skipped", "skipped: no indicator value is loaded for this unit, nothing to sign")
        warnings, errors, rejected = _issues(con, province, school_year, period)
        kw = {"fingerprint": signed["fingerprint"], "values": int(signed["values_signed"]), "warnings": warnings}
        if dry_run:
            preview = con.execute("select indicator, month, value from unit_values where geo_level = 'province' "
                                  "order by indicator").df()
            return result("done", f"would approve {kw['values']} value(s) (fingerprint {kw['fingerprint'][:12]})",
                          "approved", preview=preview, **kw)
        event_id = _append(con, now, province, school_year, period, action, actor, reason, before, "approved",
                           signature_id=None, fingerprint=signed["fingerprint"],
                           values_signed=int(signed["values_signed"]), open_errors=errors, rejected_files=rejected)
        con.execute("insert into ops.approved_value by name select $s as signature_id, province_code, school_year, "
                    "period, geo_level, geo_code, geo_name_fr, geo_name_ar, month, indicator, value from unit_values",
                    {"s": event_id})
        return result("done", f"approved {kw['values']} value(s) (fingerprint {kw['fingerprint'][:12]})",
                      "approved", event_id=event_id, **kw)

    if action == "accept":
        if before == "accepted":
            return result("unchanged", f"already {_signed_by(state)}: nothing done", fingerprint=state["fingerprint"])
        if before == "open":
            return result("refused", f"refused: the unit is open (not approved); the directorate "
                                     f"({_names(approvers, 'province', province)}) approves it before its region "
                                     "can accept it")
        return _transition(con, state, result, now, province, school_year, period, action, actor, reason,
                           "accepted", dry_run)

    # unapprove
    if before == "open":
        return result("unchanged", "already open: nothing done")
    if before == "accepted" and actor.level == "province":
        return result("refused", f"refused: {_signed_by(state)}; once accepted, the directorate can no longer "
                                 f"unapprove it: its region ({_names(approvers, 'region', region)}) or the centre "
                                 f"({_names(approvers, 'national')}) can")
    return _transition(con, state, result, now, province, school_year, period, action, actor, reason, "open",
                       dry_run)


def _transition(con, state, result, now, province, school_year, period, action, actor, reason, after, dry_run):
    """Accept or unapprove the signature in force (its values are not touched)."""
    verb = DONE[action]
    kw = {"fingerprint": state["fingerprint"], "values": int(state["values_signed"])}
    if dry_run:
        return result("done", f"would be {verb} (signature {state['fingerprint'][:12]}, {_signed_by(state)})",
                      after, **kw)
    event_id = _append(con, now, province, school_year, period, action, actor, reason, state["state"], after,
                       signature_id=int(state["signature_id"]), fingerprint=state["fingerprint"],
                       values_signed=int(state["values_signed"]))
    return result("done", f"{verb} (signature {state['fingerprint'][:12]})", after, event_id=event_id, **kw)


def _unit_values(con: duckdb.DuckDBPyConnection, source: str, province: str, school_year: str, period: str,
                 signature_id: int | None = None) -> None:
    """Temp table unit_values: the unit's rows of `source` (one signature's, for ops.approved_value)."""
    where, params = "province_code = $p and school_year = $y and period = $m", {"p": province, "y": school_year,
                                                                                "m": period}
    if signature_id is not None:
        where, params["s"] = where + " and signature_id = $s", signature_id
    con.execute(f"create or replace temp table unit_values as {source} where {where}", params)


def _issues(con: duckdb.DuckDBPyConnection, province: str, school_year: str, period: str) -> tuple[list[str], int, int]:
    """The warnings an approval carries: open errors per rule, rejected files not replaced."""
    frame = con.execute("select kind, item, sum(n) as n from ops.unit_issue where province_code = $p "
                        "and school_year = $y and period = $m group by all order by kind, n desc, item",
                        {"p": province, "y": school_year, "m": period}).df()
    errors = frame[frame["kind"] == "open_error"]
    rejected = frame[frame["kind"] == "rejected_file"]
    warnings = []
    if len(errors):
        rules = ", ".join(f"{r.item} ×{r.n}" for r in errors.head(5).itertuples())
        more = f" and {len(errors) - 5} more rule(s)" if len(errors) > 5 else ""
        warnings.append(f"{int(errors['n'].sum())} row(s) still quarantined with open errors ({rules}{more}): "
                        "approved as they stand, the signed values do not count them")
    if len(rejected):
        files = ", ".join(rejected["item"].head(5)) + (f" and {len(rejected) - 5} more" if len(rejected) > 5 else "")
        warnings.append(f"{len(rejected)} file(s) rejected and not replaced: {files}")
    return warnings, int(errors["n"].sum()) if len(errors) else 0, len(rejected)


def _event_text(event: dict) -> str:
    """The canonical text of an event the chain hashes: every column but the chain, sorted keys."""
    return json.dumps({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in event.items()
                       if k != "chain_sha256"}, sort_keys=True, ensure_ascii=False, default=str)


def _append(con: duckdb.DuckDBPyConnection, now: datetime, province: str, school_year: str, period: str,
            action: str, actor: Approver, reason: str, before: str, after: str, *, signature_id: int | None,
            fingerprint: str, values_signed: int, open_errors: int | None = None,
            rejected_files: int | None = None) -> int:
    """Append one event (the only write to ops.approval_event); returns its id."""
    last = con.execute("select event_id, chain_sha256 from ops.approval_event order by event_id desc limit 1").fetchone()
    event_id = (last[0] + 1) if last else 1
    event = {"event_id": event_id, "acted_at": now, "province_code": province, "school_year": school_year,
             "period": period, "action": action, "actor": actor.id, "actor_level": actor.level,
             "actor_code": actor.code, "reason": reason, "state_before": before, "state_after": after,
             "signature_id": signature_id or event_id, "fingerprint": fingerprint, "values_signed": values_signed,
             "open_errors": open_errors, "rejected_files": rejected_files}
    previous = last[1] if last else GENESIS
    event["chain_sha256"] = hashlib.sha256(f"{previous}\n{_event_text(event)}".encode()).hexdigest()
    columns = ", ".join(event)
    con.execute(f"insert into ops.approval_event ({columns}) values ({', '.join('$' + k for k in event)})", event)
    return event_id


def verify(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Problems found re-reading the audit: a break in the event chain (an event edited, deleted or
    inserted outside daam) or signed values whose fingerprint no longer matches their approval."""
    problems = []
    cursor = con.execute("select * from ops.approval_event order by event_id")
    names = [d[0] for d in cursor.description]
    previous, expected_id = GENESIS, 1
    for row in cursor.fetchall():
        event = dict(zip(names, row, strict=True))
        if event["event_id"] != expected_id:
            problems.append(f"event {expected_id} is missing (the next one is {event['event_id']})")
        chain = hashlib.sha256(f"{previous}\n{_event_text(event)}".encode()).hexdigest()
        if chain != event["chain_sha256"]:
            problems.append(f"event {event['event_id']} ({event['action']} {event['province_code']} "
                            f"{event['school_year']} {event['period']}) does not match its chain: edited outside daam")
        previous, expected_id = event["chain_sha256"], event["event_id"] + 1
        if event["action"] == "approve":
            _unit_values(con, "select * from ops.approved_value", event["province_code"], event["school_year"],
                         event["period"], signature_id=event["event_id"])
            signed = SQL.row(con, "ops/approval_fingerprint.sql", {"province": event["province_code"],
                                                                    "year": event["school_year"],
                                                                    "period": event["period"]})
            if signed["fingerprint"] != event["fingerprint"]:
                problems.append(f"the signed values of event {event['event_id']} ({event['province_code']} "
                                f"{event['school_year']} {event['period']}) no longer match their fingerprint")
    return problems


def status(con: duckdb.DuckDBPyConnection, province: str | None = None, school_year: str | None = None,
           only: str | None = None) -> pd.DataFrame:
    """mart.approval_status, in unit order; `only`: `waiting` (open units), `drift` (drifting units)."""
    where = {"waiting": "and state = 'open'", "drift": "and drift"}.get(only or "", "")
    return con.execute(f"""
        select province_code, school_year, period, state, approved_by, approved_at, accepted_by, accepted_at,
               left(fingerprint, 12) as fingerprint, values_signed, drift, values_changed, values_added,
               values_removed, files_after_signature, open_errors, rejected_files
        from mart.approval_status
        where ($p is null or province_code = $p) and ($y is null or school_year = $y) {where}
        order by province_code, school_year, period = 'year', period""", {"p": province, "y": school_year}).df()


def drift_details(con: duckdb.DuckDBPyConnection, province: str, school_year: str | None = None,
                  limit: int = 50) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The drifting values (directorate rows first) and the files loaded after the signatures."""
    params = {"p": province, "y": school_year, "n": limit}
    values = con.execute("""
        select school_year, period, geo_level, geo_code, indicator, change, signed_value, live_value, difference
        from ops.approval_drift where province_code = $p and ($y is null or school_year = $y)
        order by school_year, period, geo_level = 'school', geo_code, indicator limit $n""", params).df()
    files = con.execute("""
        select school_year, period, file_path, version, record_type, status, loaded_at
        from ops.approval_drift_file where province_code = $p and ($y is null or school_year = $y)
        order by school_year, period, loaded_at, file_path limit $n""", params).df()
    return values, files
