"""The staging builder: a partition's raw rows → `staging.<record_type>` (typed, flagged) +
`ops.row_issue` + the manifest's row counts.

Staged rows are always those of the current file versions in raw, so reruns converge. A record
type is staged again whole when what its rows are checked against changed (`ops.staging_basis`:
the code and configs, the referential, the rosters; a late roster so re-admits rows); otherwise
only its files with a new version, or no longer current, are staged again, so a late or corrected
file costs that file, not its directorate-year. Record types are staged in the order of
configs/record_types.yaml, the roster first, since the others are checked against it. Issues no
longer raised are marked `resolved`, never deleted; the manifest's row counts are updated in place
for the current file versions.

The row work is set-based: the normalisers work on whole columns (in worker processes when there
are several batches), the catalogue's row rules run as one DuckDB query compiled from the Great
Expectations suites (`quality_checks/compiled.py`), the rules across rows and files as DuckDB SQL
(`quality_checks/sql_rules.py`). The suites themselves run in the monitoring job (Data Docs).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pandas as pd

from daam.config import PERIOD_RECORD_TYPES, RecordTypeSpec, Settings, load_settings
from daam.landing.prepare import ROW_ID, prepare
from daam.sqlfiles import registered
from quality_checks import sql_rules
from quality_checks.catalogue import rules
from quality_checks.compiled import run_rules
from quality_checks.validate import ISSUE_COLUMNS
from warehouse.build import Built, Scope
from warehouse.build.workers import local_db, worker_pool
from warehouse.checks import CheckOutcome, CheckResult, run_checks
from warehouse.db import log_step, transaction
from warehouse.fingerprint import code_fingerprint
from warehouse.registry import LINEAGE, STAGING_TYPES, registry
from warehouse.schema import SQL

# Rows staged at once (a batch of whole files): bounds memory on the largest directorates.
STAGE_BATCH_ROWS = 100_000
PREPARE_AHEAD = 2  # batches prepared by the workers ahead of the one being written
ISSUE_COLUMNS_OUT = ["file_path", "record_type", "school_code", "sheet", "row_number", "severity", "rule",
                     "column_name", "raw_value", "message_fr", "message_ar", "file_version", "school_year",
                     "province_code"]


@dataclass
class StageResult:
    record_type: str
    rows: int = 0
    quarantined: int = 0
    warned: int = 0
    issues_by_rule: dict[str, int] = field(default_factory=dict)  # open issues of the partition
    errors_by_rule: dict[str, int] = field(default_factory=dict)  # those that quarantine a row
    staged: str | int = "whole"  # what this run staged: "whole", or how many files (0: nothing changed)


def partition_raw(con: duckdb.DuckDBPyConnection, record_type: str, school_year: str, province: str,
                  files: list[str]) -> pd.DataFrame:
    """Raw rows of the latest loaded version of `files`, in one partition."""
    return SQL.query(con, "staging/current_raw.sql", {"year": school_year, "province": province, "files": files},
                     table=f"raw.{record_type}").df()


def _issues(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ISSUE_COLUMNS)


def row_rules(con: duckdb.DuckDBPyConnection, prepared: pd.DataFrame, spec: RecordTypeSpec, settings: Settings,
              school_year: str | None) -> pd.DataFrame:
    """The rules that look at each file alone, needing nothing of the warehouse: the catalogue's row
    rules, compiled from the suite's expectations to one DuckDB query (the GX suite itself runs in
    the monitoring job; tests/quality_checks/test_compiled_rules.py proves they flag the same
    rows), and the same key twice in one file. Run by the worker that prepared the rows, on its
    own in-memory DuckDB, or here."""
    with registered(con, prepared=prepared):
        outcome = run_rules(con, "prepared", prepared.columns, spec, settings, school_year)
        return _issues([outcome.issues, sql_rules.duplicate_keys(con, spec)])


def evaluate(con: duckdb.DuckDBPyConnection, record_type: str, raw: pd.DataFrame, settings: Settings,
             school_year: str | None, province_code: str | None,
             prepared: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prepare and check rows (unless a worker did: `prepared` is then its rows and their
    `row_rules` issues), then run the rules that read the warehouse: returns (prepared frame with
    flags, issues). The rules that look at the staged rosters themselves (pupil_on_two_rosters)
    run after the write, in `flag_staged`."""
    spec = settings.record_types[record_type]
    if prepared is None:
        rows = prepare(raw, spec, settings, school_year)
        local = row_rules(con, rows, spec, settings, school_year)
    else:
        rows, local = prepared
    with registered(con, prepared=rows):
        parts = [local, sql_rules.grant_without_facility(con, spec)]
        if school_year and province_code:
            parts.append(sql_rules.pupil_not_on_roster(con, spec, school_year, province_code))
    issues = _issues(parts)
    issues[ROW_ID] = issues[ROW_ID].astype("int64")
    _flag(rows, issues)
    return rows, issues


def _flag(prepared: pd.DataFrame, issues: pd.DataFrame) -> None:
    errors = issues.loc[issues["severity"] == "error", ROW_ID]
    prepared["is_quarantined"] = prepared[ROW_ID].isin(errors)
    warned = issues.loc[issues["severity"] == "warning", ROW_ID]
    prepared["is_warned"] = prepared[ROW_ID].isin(warned) & ~prepared["is_quarantined"]
    copies = issues.loc[issues["rule"] == "duplicate_key_identical", ROW_ID]
    prepared["is_duplicate_copy"] = prepared[ROW_ID].isin(copies)


def flag_staged(con: duckdb.DuckDBPyConnection, record_type: str, prepared: pd.DataFrame, issues: pd.DataFrame,
                settings: Settings, school_year: str, province_code: str) -> pd.DataFrame:
    """The rules that read the partition's own staged rows (a pupil on two rosters counts this
    partition's rosters too): their issues are added and their rows flagged, in staging as well."""
    spec = settings.record_types[record_type]
    accepted = prepared.loc[~prepared["is_quarantined"], ROW_ID].tolist()
    with registered(con, prepared=prepared):
        twins = sql_rules.pupil_on_two_rosters(con, spec, school_year, province_code, accepted)
    if not len(twins):
        return issues
    issues = _issues([issues, twins])
    issues[ROW_ID] = issues[ROW_ID].astype("int64")
    newly = prepared[ROW_ID].isin(twins[ROW_ID]) & ~prepared["is_warned"]
    prepared.loc[newly, "is_warned"] = True
    with registered(con, warned_rows=prepared.loc[newly, ["file_path", "file_version", "sheet", "row_number"]]):
        SQL.run(con, "staging/set_warned.sql", table=f"staging.{record_type}")
    return issues


def stage_batch(con: duckdb.DuckDBPyConnection, record_type: str, raw: pd.DataFrame, settings: Settings,
                school_year: str, province_code: str,
                prepared: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prepare and check (unless a worker did: `prepared`), validate and write one batch of a
    partition's raw rows (the caller deleted the rows they replace): the prepared frame with its
    flags, its issues."""
    rows, issues = evaluate(con, record_type, raw, settings, school_year, province_code, prepared)
    write_staging(con, record_type, rows, settings)
    return rows, flag_staged(con, record_type, rows, issues, settings, school_year, province_code)


def write_staging(con: duckdb.DuckDBPyConnection, record_type: str, prepared: pd.DataFrame,
                  settings: Settings) -> None:
    """Insert `prepared`, typed, into staging (the caller deleted what it replaces, same transaction)."""
    spec = settings.record_types[record_type]
    if prepared.empty:
        return
    # The select is made from configs/record_types.yaml: each canonical column cast to its kind's type.
    select = [f'"{c}"::{t} as "{c}"' for c, t in LINEAGE.items() if c not in spec.columns]
    for name, col in spec.columns.items():
        select.append(f'try_cast("{name}" as {STAGING_TYPES.get(col.kind, "varchar")}) as "{name}"')
    select += ["is_quarantined", "is_warned", "is_duplicate_copy"]
    with registered(con, prepared_out=prepared):
        con.execute(f"insert into staging.{record_type} by name select {', '.join(select)} from prepared_out")


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


def merge_issues(con: duckdb.DuckDBPyConnection, issues: pd.DataFrame, record_type: str,
                 school_year: str | None, province_code: str | None, files: list[str] | None = None) -> None:
    """Make `ops.row_issue` say exactly `issues` for the record type in the scope (null: any; only
    `files` when given): new ones open, vanished ones resolved."""
    with registered(con, issues_new=issues.reindex(columns=ISSUE_COLUMNS_OUT)):
        SQL.run(con, "staging/merge_issues.sql", {"rt": record_type, "year": school_year, "province": province_code,
                                                  "files": files})


def update_manifest_counts(con: duckdb.DuckDBPyConnection, record_type: str, school_year: str | None,
                           province_code: str | None) -> None:
    """Current row counts of every loaded file version in scope (null: any), from the staged rows."""
    SQL.run(con, "staging/manifest_counts.sql", {"year": school_year, "province": province_code},
            table=f"staging.{record_type}")


def file_batches(con: duckdb.DuckDBPyConnection, record_type: str, params: dict, max_rows: int | None,
                 files: list[str] | None = None) -> list[list[str]]:
    """The partition's current files (only `files` when given) in batches of at most `max_rows`
    rows (a file is never split: every rule but the roster ones looks within one file, and those
    read committed staging); None: one batch."""
    found = SQL.query(con, "staging/file_batches.sql", {**params, "rt": record_type, "files": files}).fetchall()
    batches, current, size = [], [], 0
    for path, rows in found:
        if current and max_rows is not None and size + rows > max_rows:
            batches.append(current)
            current, size = [], 0
        current.append(path)
        size += rows
    return [*batches, current] if current else batches


def staging_basis(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec, params: dict) -> str:
    """What the record type's rows of the partition are checked against (staging/basis.sql)."""
    return SQL.row(con, "staging/basis.sql", {**params, "code": code_fingerprint(), "roster": spec.roster or ""})["basis"]


def files_to_stage(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec, params: dict, basis: str) -> list[str] | None:
    """The files of the record type to stage again: None (all of them) when what its rows are
    checked against changed since they were staged (code, referential, rosters), else only the
    files whose current version is not the one staged."""
    stored = SQL.query(con, "staging/stored_basis.sql", {**params, "rt": spec.name}).fetchall()
    if not stored or stored[0][0] != basis:
        return None
    return [f for (f,) in SQL.query(con, "staging/changed_files.sql", {**params, "rt": spec.name},
                                    table=f"staging.{spec.name}").fetchall()]


def forget_staging_basis(con: duckdb.DuckDBPyConnection, partitions: list[tuple[str, str]]) -> None:
    """Make the next staging of these (school year, directorate) partitions stage every file again
    (`daam load --force`)."""
    with registered(con, forgotten=pd.DataFrame(partitions, columns=["school_year", "province_code"], dtype="string")):
        SQL.run(con, "staging/forget_basis.sql")


def stage_record_type(con: duckdb.DuckDBPyConnection, settings: Settings, record_type: str, params: dict,
                      files: list[str] | None) -> None:
    """Stage the current version of `files` (None: every file) of one record type of a partition,
    replacing their staged rows, and make ops.row_issue and the manifest's counts follow."""
    spec = settings.record_types[record_type]
    if files is None:
        SQL.run(con, "staging/delete_partition.sql", params, table=f"staging.{record_type}")
    else:
        SQL.run(con, "staging/delete_files.sql", {**params, "files": files}, table=f"staging.{record_type}")
    roster = spec.roster == "self"
    issue_parts = []
    batches = file_batches(con, record_type, params, None if roster else STAGE_BATCH_ROWS, files)
    for raw, prepared in _prepared_batches(con, record_type, params, batches, settings):
        prepared, issues = stage_batch(con, record_type, raw, settings, params["year"], params["province"],
                                       prepared)
        issue_parts.append(issue_records(prepared, issues, record_type))
    merge_issues(con, pd.concat(issue_parts, ignore_index=True) if issue_parts else pd.DataFrame(),
                 record_type, params["year"], params["province"], files)
    update_manifest_counts(con, record_type, params["year"], params["province"])


def _prepare_in_worker(raw: pd.DataFrame, record_type: str, school_year: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """In a worker process: the batch's rows prepared, and the issues of the rules that look at
    each file alone (`row_rules`), on the worker's own in-memory DuckDB."""
    settings = load_settings()
    spec = settings.record_types[record_type]
    rows = prepare(raw, spec, settings, school_year)
    return rows, row_rules(local_db(), rows, spec, settings, school_year)


def _prepared_batches(con: duckdb.DuckDBPyConnection, record_type: str, params: dict, batches: list[list[str]],
                      settings: Settings) -> Iterator[tuple[pd.DataFrame, tuple[pd.DataFrame, pd.DataFrame] | None]]:
    """(raw rows, None or the prepared rows and their `row_rules` issues) of each batch, in order.
    With several batches, workers prepare (normalise) and check the next batches while this
    process runs the rules that read the warehouse and writes the current one; at most
    PREPARE_AHEAD batches are in flight, so memory stays bounded."""
    with worker_pool(len(batches), threshold=2) as pool:
        if pool is None:
            for batch in batches:
                yield partition_raw(con, record_type, params["year"], params["province"], batch), None
            return
        pending: deque = deque()
        for batch in batches:
            raw = partition_raw(con, record_type, params["year"], params["province"], batch)
            pending.append((raw, pool.submit(_prepare_in_worker, raw, record_type, params["year"])))
            if len(pending) > PREPARE_AHEAD:
                raw, prepared = pending.popleft()
                yield raw, prepared.result()
        while pending:
            raw, prepared = pending.popleft()
            yield raw, prepared.result()


def stage_partition(con: duckdb.DuckDBPyConnection, settings: Settings, school_year: str,
                    province_code: str) -> list[StageResult]:
    """Stage every record type of one (school year, directorate) partition, in the caller's
    transaction, rosters first.

    A record type is staged again whole when what its rows are checked against changed (code and
    configs, the referential, its rosters: a corrected roster re-admits late rows); otherwise only
    its files with a new version (or no longer current) are. Rosters are staged whole (a pupil on
    two rosters of the partition is a rule across files); the other record types in batches of
    files, so that a directorate's ten months of attendance never sit in memory at once."""
    params = {"year": school_year, "province": province_code}
    results = []
    for record_type in PERIOD_RECORD_TYPES:
        spec = settings.record_types[record_type]
        basis = staging_basis(con, spec, params)
        files = files_to_stage(con, spec, params, basis)
        if files != []:
            stage_record_type(con, settings, record_type, params, files)
            SQL.run(con, "staging/record_basis.sql", {**params, "rt": record_type, "basis": basis})
        results.append(_totals(con, record_type, params, "whole" if files is None else len(files)))
    return results


def _totals(con: duckdb.DuckDBPyConnection, record_type: str, params: dict, staged: str | int) -> StageResult:
    """The partition's staged rows of a record type and its open issues per rule, after staging."""
    totals = SQL.row(con, "staging/partition_totals.sql", params, table=f"staging.{record_type}")
    result = StageResult(record_type, totals["rows"], totals["quarantined"], totals["warned"], staged=staged)
    for rule, severity, n in SQL.query(con, "staging/open_issues_by_rule.sql", {**params, "rt": record_type}).fetchall():
        result.issues_by_rule[rule] = int(n)
        if severity == "error":
            result.errors_by_rule[rule] = int(n)
    return result


def stage_referential(con: duckdb.DuckDBPyConnection, settings: Settings) -> StageResult:
    """Re-stage every current referential snapshot whole (the landing scan's step)."""
    raw = SQL.query(con, "staging/current_referential.sql").df()
    prepared, issues = evaluate(con, "schools", raw, settings, None, None)
    SQL.run(con, "staging/delete_referential.sql")
    write_staging(con, "schools", prepared, settings)
    merge_issues(con, issue_records(prepared, issues, "schools"), "schools", None, None)
    update_manifest_counts(con, "schools", None, None)
    return StageResult("schools", len(prepared), int(prepared["is_quarantined"].sum()) if len(prepared) else 0,
                       int(prepared["is_warned"].sum()) if len(prepared) else 0)


def build(con: duckdb.DuckDBPyConnection, scope: Scope, settings: Settings, run_id: str) -> Built:
    """Stage the partition's changed files from raw in one transaction (a record type whole when
    its rosters, the referential or the code changed, so late rosters re-admit rows), update
    ops.row_issue (vanished issues resolved) and the manifest counts, then check the file
    accounting."""
    started = datetime.now()
    with transaction(con):
        results = stage_partition(con, settings, scope.school_year, scope.province)
        detail = ", ".join(f"{r.record_type}: {r.rows} rows, {r.quarantined} quarantined "
                           f"(staged: {r.staged if r.staged == 'whole' else f'{r.staged} file(s)'})"
                           for r in results)
        log_step(con, run_id, "staging", scope.key, started, detail)
    built = Built("staging", scope, detail=detail)
    reg = registry()
    for r in results:
        name = f"staging.{r.record_type}"
        built.metadata[name] = {"rows": r.rows, "rows_quarantined": r.quarantined, "rows_warned": r.warned}
        built.checks.append(CheckResult(name, "quality_suite", reg[name].check("quality_suite").check.blocking,
                                        CheckOutcome(r.quarantined == 0, {
                                            "rows": r.rows, "rows_quarantined": r.quarantined,
                                            "rows_warned": r.warned, "issues_by_rule": r.issues_by_rule,
                                            "rules_quarantining": r.errors_by_rule})))
    built.checks += run_checks(con, reg.built_by("staging"), scope.params)
    return built
