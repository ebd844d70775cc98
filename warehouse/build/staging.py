"""Raw rows of a partition → `staging.<record_type>` (typed, flagged) + `ops.row_issue` + counts.

The whole partition is re-staged from raw every time: that is what makes reruns converge and what
re-admits rows whose roster arrived late. Issues no longer raised are marked `resolved`, never
deleted; the manifest's row counts are updated in place for the current file versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from daam.config import Settings, load_settings
from daam.staging import ROW_ID, prepare
from quality_checks import sql_rules
from quality_checks.catalogue import rules
from quality_checks.validate import ISSUE_COLUMNS, run_suite
from warehouse.schema import LINEAGE, staging_type

# Rosters first: every other record type is checked against the accepted roster.
STAGE_ORDER = ("students", "tayssir_beneficiaries", "attendance", "schoolbags", "boarding_grants",
               "canteen_meals", "tayssir_payments")
ISSUE_KEY = ["file_path", "file_version", "sheet", "row_number", "rule", "column_name"]
# Rows staged at once (a batch of whole files): bounds memory on the largest directorates.
STAGE_BATCH_ROWS = 250_000


@dataclass
class StageResult:
    record_type: str
    rows: int = 0
    quarantined: int = 0
    warned: int = 0
    issues_by_rule: dict[str, int] = field(default_factory=dict)
    suite: list[dict] = field(default_factory=list)


def current_raw(con: duckdb.DuckDBPyConnection, record_type: str, where: str, params: dict) -> pd.DataFrame:
    """Raw rows of the latest loaded version of each file matching `where` (on raw columns)."""
    return con.execute(f"""
        select r.* exclude (load_id, content_sha256)
        from raw.{record_type} r
        join ops.file_manifest m on m.file_path = r.file_path and m.version = r.file_version
        where m.status = 'loaded' and {where}
        order by r.file_path, r.sheet, r.row_number
    """, params).df()


def evaluate(con: duckdb.DuckDBPyConnection, record_type: str, raw: pd.DataFrame, settings: Settings,
             school_year: str | None, province_code: str | None) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """Prepare and validate rows: returns (prepared frame with flags, issues, suite summary)."""
    spec = settings.record_types[record_type]
    prepared = prepare(raw, spec, settings, school_year)
    outcome = run_suite(prepared, spec, settings, school_year)
    con.register("prepared", prepared)
    try:
        parts = [outcome.issues, sql_rules.duplicate_keys(con, spec)]
        if school_year and province_code:
            parts.append(sql_rules.pupil_not_on_roster(con, spec, school_year, province_code))
        if record_type == "boarding_grants":
            parts.append(sql_rules.grant_without_facility(con))
        issues = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
            else pd.DataFrame(columns=ISSUE_COLUMNS)
        errors = issues.loc[issues["severity"] == "error", ROW_ID].astype("int64").unique()
        if record_type == "students" and school_year:
            accepted = prepared.loc[~prepared[ROW_ID].isin(errors), ROW_ID].tolist()
            twins = sql_rules.pupil_on_two_rosters(con, school_year, province_code, accepted)
            if len(twins):
                issues = pd.concat([issues, twins], ignore_index=True)
    finally:
        con.unregister("prepared")
    issues[ROW_ID] = issues[ROW_ID].astype("int64")
    prepared["is_quarantined"] = prepared[ROW_ID].isin(errors)
    warned = issues.loc[issues["severity"] == "warning", ROW_ID]
    prepared["is_warned"] = prepared[ROW_ID].isin(warned) & ~prepared["is_quarantined"]
    copies = issues.loc[issues["rule"] == "duplicate_key_identical", ROW_ID]
    prepared["is_duplicate_copy"] = prepared[ROW_ID].isin(copies)
    return prepared, issues, outcome.summary


def write_staging(con: duckdb.DuckDBPyConnection, record_type: str, prepared: pd.DataFrame,
                  settings: Settings) -> None:
    """Insert `prepared`, typed, into staging (the caller deleted what it replaces, same transaction)."""
    spec = settings.record_types[record_type]
    if prepared.empty:
        return
    select = [f'"{c}"::{t} as "{c}"' for c, t in LINEAGE.items() if c not in spec.columns]
    for name, col in spec.columns.items():
        select.append(f'try_cast("{name}" as {staging_type(col.kind)}) as "{name}"')
    select += ["is_quarantined", "is_warned", "is_duplicate_copy"]
    con.register("prepared_out", prepared)
    try:
        con.execute(f"insert into staging.{record_type} by name select {', '.join(select)} from prepared_out")
    finally:
        con.unregister("prepared_out")


def issue_records(prepared: pd.DataFrame, issues: pd.DataFrame, record_type: str) -> pd.DataFrame:
    """Issues with their lineage and their French and Arabic messages."""
    lineage = prepared[[ROW_ID, "file_path", "file_version", "sheet", "row_number", "school_code",
                        "school_year", "province_code"]]
    out = issues.merge(lineage, on=ROW_ID, how="left")
    out["record_type"] = record_type
    out["raw_value"] = out["raw_value"].astype("string")
    catalogue = rules()
    out["message_fr"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["message_ar"] = pd.Series(pd.NA, index=out.index, dtype="string")
    columns = load_settings().record_types[record_type].columns
    for (rule_id, column), idx in out.groupby(["rule", out["column_name"].fillna("")]).groups.items():
        value = out.loc[idx, "raw_value"].fillna("")
        for lang in ("fr", "ar"):
            label = columns[column].label(lang) if column in columns else column
            template = catalogue[rule_id].text("message", lang).replace("{column}", label)
            head, _, tail = template.partition("{value}")
            out.loc[idx, f"message_{lang}"] = head + value + tail if "{value}" in template else template
    return out


def merge_issues(con: duckdb.DuckDBPyConnection, issues: pd.DataFrame, scope_where: str, params: dict) -> None:
    """Make `ops.row_issue` say exactly `issues` for the scope (a condition on alias `i`): new ones
    open, vanished ones resolved."""
    cols = ["file_path", "record_type", "school_code", "sheet", "row_number", "severity", "rule", "column_name",
            "raw_value", "message_fr", "message_ar", "file_version", "school_year", "province_code"]
    frame = issues.reindex(columns=cols)
    con.register("issues_new", frame)
    key = " and ".join(f"i.{k} is not distinct from n.{k}" for k in ISSUE_KEY)
    try:
        con.execute(f"""
            update ops.row_issue i set status = 'resolved', resolved_at = now()
            where i.status = 'open' and ({scope_where})
              and not exists (select 1 from issues_new n where {key})
        """, params)
        con.execute(f"""
            insert into ops.row_issue by name
            select n.file_path, n.record_type, n.school_code, n.sheet, n.row_number::integer as row_number,
                   n.severity, n.rule, n.column_name, n.raw_value, n.message_fr, n.message_ar, 'open' as status,
                   n.file_version::integer as file_version, n.school_year, n.province_code,
                   now() as first_seen_at, null as resolved_at
            from issues_new n
            where not exists (select 1 from ops.row_issue i where i.status = 'open' and {key})
        """)
    finally:
        con.unregister("issues_new")


def update_manifest_counts(con: duckdb.DuckDBPyConnection, record_type: str, delete_where: str, params: dict) -> None:
    """Current row counts of every loaded file version in scope, from the staged rows."""
    con.execute(f"""
        update ops.file_manifest m set
            rows_read = c.n, rows_loaded = c.n - c.q, rows_quarantined = c.q, rows_warned = c.w
        from (
            select file_path, file_version, count(*) as n, count(*) filter (is_quarantined) as q,
                   count(*) filter (is_warned) as w
            from staging.{record_type} where {delete_where} group by all
        ) c
        where m.file_path = c.file_path and m.version = c.file_version and m.status = 'loaded'
    """, params)


def file_batches(con: duckdb.DuckDBPyConnection, record_type: str, params: dict, max_rows: int) -> list[list[str]]:
    """The partition's current files in batches of at most `max_rows` rows (a file is never split:
    every rule but the roster ones looks within one file, and those read committed staging)."""
    files = con.execute("""
        select file_path, coalesce(rows_read, 0) from ops.file_manifest
        where record_type = $rt and school_year = $year and province_code = $province and status = 'loaded'
        order by file_path
    """, {**params, "rt": record_type}).fetchall()
    batches, current, size = [], [], 0
    for path, rows in files:
        if current and size + rows > max_rows:
            batches.append(current)
            current, size = [], 0
        current.append(path)
        size += rows
    return [*batches, current] if current else batches


def stage_partition(con: duckdb.DuckDBPyConnection, settings: Settings, school_year: str,
                    province_code: str) -> list[StageResult]:
    """Re-stage every record type of one (school year, directorate) partition.

    Rosters are staged whole (a pupil on two rosters of the partition is a rule across files);
    the other record types in batches of files, so that a directorate's ten months of attendance
    never sit in memory at once."""
    params = {"year": school_year, "province": province_code}
    where = "school_year = $year and province_code = $province"
    results = []
    for record_type in STAGE_ORDER:
        con.execute(f"delete from staging.{record_type} where {where}", params)
        batches = [None] if record_type == "students" else file_batches(con, record_type, params, STAGE_BATCH_ROWS)
        result, issue_parts = StageResult(record_type), []
        for batch in batches:
            scope = "r.school_year = $year and r.province_code = $province"
            if batch is not None:
                scope += " and r.file_path in (select unnest($files))"
            raw = current_raw(con, record_type, scope, {**params, "files": batch} if batch is not None else params)
            prepared, issues, suite = evaluate(con, record_type, raw, settings, school_year, province_code)
            write_staging(con, record_type, prepared, settings)
            issue_parts.append(issue_records(prepared, issues, record_type))
            result.rows += len(prepared)
            result.quarantined += int(prepared["is_quarantined"].sum()) if len(prepared) else 0
            result.warned += int(prepared["is_warned"].sum()) if len(prepared) else 0
            for rule, n in issues["rule"].value_counts().items():
                result.issues_by_rule[rule] = result.issues_by_rule.get(rule, 0) + int(n)
            result.suite = _merge_suite(result.suite, suite)
        merge_issues(con, pd.concat(issue_parts, ignore_index=True) if issue_parts else pd.DataFrame(),
                     "i.record_type = $rt and i.school_year = $year and i.province_code = $province",
                     {**params, "rt": record_type})
        update_manifest_counts(con, record_type, where, params)
        results.append(result)
    return results


def _merge_suite(total: list[dict], batch: list[dict]) -> list[dict]:
    """Add a batch's per-expectation counts to the running totals."""
    if not total:
        return [dict(s) for s in batch]
    for t, b in zip(total, batch):
        t["unexpected_count"] += b["unexpected_count"]
        t["element_count"] = (t["element_count"] or 0) + (b["element_count"] or 0)
        t["success"] = t["success"] and b["success"]
    return total
