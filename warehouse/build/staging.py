"""The staging builder: a partition's raw rows → `staging.<record_type>` (typed, flagged) +
`ops.row_issue` + the manifest's row counts.

Staged rows are always those of the current file versions in raw, so reruns converge. A record
type is staged again whole when what its rows are checked against changed (`ops.staging_basis`:
the code and configs, the referential, the directorate's rosters; a late roster so re-admits
rows); otherwise only its files with a new version, or no longer current, are staged again, so a
late or corrected file costs that file, not its directorate-year. Record types are staged in the
order of configs/record_types.yaml, the roster first, since the others are checked against it. A
partition's roster rows are warned against every roster of the year; the other directorates' rows
that share a pupil with them are warned (or cleared) once the load is over, by the roster-twins
step (warehouse/build/roster_twins.py). Issues no longer raised are marked `resolved`, never
deleted; the manifest's row counts are updated in place for the current file versions.

The row work is set-based and runs inside DuckDB, on its own threads: a record type's rows of the
partition are copied to a temporary table, normalised by SQL (`daam/landing/prepare_sql.py`, the
same values as the pandas reference `prepare.py`), checked by the catalogue's row rules compiled
from the Great Expectations suites to one query (`quality_checks/compiled.py`) and by the rules
across rows and files (`quality_checks/sql_rules.py`), and inserted. Only the issues (a few per
hundred rows) come back to Python, for their messages. The suites themselves run in the monitoring
job (Data Docs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pandas as pd

from daam.config import PERIOD_RECORD_TYPES, RecordTypeSpec, Settings
from daam.landing.prepare import ROW_ID
from daam.landing.prepare_sql import prepare_sql
from daam.sqlfiles import registered
from quality_checks import sql_rules
from quality_checks.catalogue import rules
from quality_checks.compiled import run_rules
from quality_checks.types import ISSUE_COLUMNS
from warehouse.build import Built, Scope
from warehouse.checks import CheckOutcome, CheckResult, run_checks
from warehouse.db import log_step, transaction
from warehouse.fingerprint import code_fingerprint
from warehouse.partition_digest import record as record_digest
from warehouse.registry import LINEAGE, STAGING_TYPES, registry
from warehouse.schema import SQL

ISSUE_COLUMNS_OUT = ["file_path", "record_type", "school_code", "sheet", "row_number", "severity", "rule",
                     "column_name", "raw_value", "message_fr", "message_ar", "file_version", "school_year",
                     "province_code"]


# Temporary tables of the connection where a record type's rows are staged (one at a time).
RAW_ROWS, PREPARED, FLAGS = "staging_raw", "staging_prepared", "staging_flags"


@dataclass
class StageResult:
    record_type: str
    rows: int = 0
    quarantined: int = 0
    warned: int = 0
    issues_by_rule: dict[str, int] = field(default_factory=dict)  # open issues of the partition
    errors_by_rule: dict[str, int] = field(default_factory=dict)  # those that quarantine a row
    staged: str | int = "whole"  # what this run staged: "whole", or how many files (0: nothing changed)


def take_raw(con: duckdb.DuckDBPyConnection, record_type: str, school_year: str, province: str,
             files: list[str] | None) -> int:
    """Copy the raw rows of the latest loaded version of `files` (None: every file) of one partition
    into the temporary table RAW_ROWS, numbered in file and row order (`_row_id`); returns the
    row count."""
    SQL.run(con, "staging/take_raw.sql", {"year": school_year, "province": province, "files": files},
            table=f"raw.{record_type}", target=RAW_ROWS)
    return con.execute(f"select count(*) from {RAW_ROWS}").fetchall()[0][0]


def take_frame(con: duckdb.DuckDBPyConnection, raw: pd.DataFrame) -> None:
    """RAW_ROWS from a frame of raw rows (tests, and rows read another way), numbered in order."""
    with registered(con, raw_frame=raw.reset_index(drop=True)):
        con.execute(f"create or replace temp table {RAW_ROWS} as "
                    f"select *, (row_number() over () - 1)::bigint as {ROW_ID} from raw_frame")


def _issues(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ISSUE_COLUMNS)
    out[ROW_ID] = out[ROW_ID].astype("int64")
    return out


def evaluate_rows(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec, settings: Settings,
                  school_year: str | None, province_code: str | None) -> pd.DataFrame:
    """Prepare RAW_ROWS into PREPARED (normalised, with the helper columns the rules read) and run
    every rule that does not read the staged rows themselves: the catalogue's row rules compiled
    from the suite's expectations to one query (the GX suite itself runs in the monitoring job;
    tests/quality_checks/test_compiled_rules.py proves they flag the same rows), the same key twice
    in a file, a grant without the facility, a pupil not on the roster. Returns the issues
    (`ISSUE_COLUMNS`; a few per hundred rows) and writes each row's flags to FLAGS."""
    columns = prepare_sql(con, RAW_ROWS, spec, settings, school_year, PREPARED)
    con.execute(f"create or replace temp view prepared as select * from {PREPARED}")
    parts = [run_rules(con, PREPARED, columns, spec, settings, school_year).issues,
             sql_rules.duplicate_keys(con, spec), sql_rules.grant_without_facility(con, spec)]
    if school_year and province_code:
        parts.append(sql_rules.pupil_not_on_roster(con, spec, school_year, province_code))
    issues = _issues(parts)
    with registered(con, row_issues=issues[[ROW_ID, "rule", "severity"]]):
        SQL.run(con, "staging/flags.sql", target=FLAGS)
    return issues


def write_staging(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec) -> None:
    """Insert PREPARED with its FLAGS, typed, into staging (the caller deleted what it replaces, same
    transaction)."""
    # The select is made from configs/record_types.yaml: each canonical column cast to its kind's type.
    select = [f'p."{c}"::{t} as "{c}"' for c, t in LINEAGE.items() if c not in spec.columns]
    for name, col in spec.columns.items():
        select.append(f'try_cast(p."{name}" as {STAGING_TYPES.get(col.kind, "varchar")}) as "{name}"')
    select += [f"coalesce(f.{flag}, false) as {flag}" for flag in ("is_quarantined", "is_warned", "is_duplicate_copy")]
    # Not sorted by _row_id (0.2-0.5 s a nation partition): what reads staging orders or breaks its
    # ties on the rows' lineage (test_nothing_depends_on_the_physical_order_of_staging).
    con.execute(f"insert into staging.{spec.name} by name select {', '.join(select)} "
                f"from {PREPARED} p left join {FLAGS} f using ({ROW_ID})")


def flag_staged(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec, issues: pd.DataFrame, school_year: str,
                province_code: str) -> pd.DataFrame:
    """The rules that read the partition's own staged rows (a pupil on two rosters counts this
    partition's rosters too): their issues are added and their rows flagged, in staging as well."""
    con.execute(f"create or replace temp view accepted as select {ROW_ID} from {PREPARED} "
                f"anti join (select {ROW_ID} from {FLAGS} where is_quarantined) using ({ROW_ID})")
    twins = sql_rules.pupil_on_two_rosters(con, spec, school_year, province_code)
    if not len(twins):
        return issues
    with registered(con, twins=twins[[ROW_ID]]):
        SQL.run(con, "staging/set_warned.sql", table=f"staging.{spec.name}", prepared=PREPARED)
    return _issues([issues, twins])


def stage_rows(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec, settings: Settings, school_year: str | None,
               province_code: str | None) -> pd.DataFrame:
    """Prepare, check and write RAW_ROWS to staging (the caller deleted the rows they replace):
    returns their issues with lineage and messages, for `merge_issues`."""
    issues = evaluate_rows(con, spec, settings, school_year, province_code)
    write_staging(con, spec)
    if school_year and province_code:
        issues = flag_staged(con, spec, issues, school_year, province_code)
    return issue_records(con, issues, spec)


def evaluate(con: duckdb.DuckDBPyConnection, record_type: str, raw: pd.DataFrame, settings: Settings,
             school_year: str | None, province_code: str | None) -> pd.DataFrame:
    """The issues of a frame of raw rows (`evaluate_rows`), nothing written."""
    take_frame(con, raw)
    return evaluate_rows(con, settings.record_types[record_type], settings, school_year, province_code)


def stage_batch(con: duckdb.DuckDBPyConnection, record_type: str, raw: pd.DataFrame, settings: Settings,
                school_year: str, province_code: str) -> pd.DataFrame:
    """Stage a frame of raw rows (`stage_rows`): their issues."""
    take_frame(con, raw)
    return stage_rows(con, settings.record_types[record_type], settings, school_year, province_code)


def issue_records(con: duckdb.DuckDBPyConnection, issues: pd.DataFrame, spec: RecordTypeSpec) -> pd.DataFrame:
    """Issues with their lineage (from PREPARED) and their French and Arabic messages."""
    with registered(con, row_issues=issues):
        out = con.execute(f"select i.*, p.file_path, p.file_version, p.sheet, p.row_number, p.school_code, "
                          f"p.school_year, p.province_code from row_issues i "
                          f"join {PREPARED} p using ({ROW_ID}) order by all").df()
    out["record_type"] = spec.name
    return with_messages(out, spec)


def with_messages(out: pd.DataFrame, spec: RecordTypeSpec) -> pd.DataFrame:
    """`out` (issues with `rule`, `column_name`, `raw_value`) with their French and Arabic messages."""
    out["raw_value"] = out["raw_value"].astype("string")
    catalogue = rules()
    out["message_fr"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["message_ar"] = pd.Series(pd.NA, index=out.index, dtype="string")
    for (rule_id, column), idx in out.groupby(["rule", out["column_name"].fillna("")]).groups.items():
        value = out.loc[idx, "raw_value"].fillna("")
        for lang in ("fr", "ar"):
            label = spec.columns[column].label(lang) if column in spec.columns else column
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
        SQL.run(con, "staging/open_issues.sql")


def update_manifest_counts(con: duckdb.DuckDBPyConnection, record_type: str, school_year: str | None,
                           province_code: str | None) -> None:
    """Current row counts of every loaded file version in scope (null: any), from the staged rows."""
    SQL.run(con, "staging/manifest_counts.sql", {"year": school_year, "province": province_code},
            table=f"staging.{record_type}")


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
    take_raw(con, record_type, params["year"], params["province"], files)
    issues = stage_rows(con, spec, settings, params["year"], params["province"])
    # the staged rows' digest, for the products' fingerprints (warehouse/partition_digest.py)
    record_digest(con, registry()[f"staging.{record_type}"], params["year"], params["province"])
    merge_issues(con, issues, record_type, params["year"], params["province"], files)
    update_manifest_counts(con, record_type, params["year"], params["province"])
    drop_work_tables(con)


def drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Free the temporary tables of the record type just staged."""
    for table in (RAW_ROWS, PREPARED, FLAGS):
        con.execute(f"drop table if exists {table}")
    for view in ("prepared", "accepted"):
        con.execute(f"drop view if exists {view}")


def stage_partition(con: duckdb.DuckDBPyConnection, settings: Settings, school_year: str,
                    province_code: str) -> list[StageResult]:
    """Stage every record type of one (school year, directorate) partition, in the caller's
    transaction, rosters first.

    A record type is staged again whole when what its rows are checked against changed (code and
    configs, the referential, its rosters: a corrected roster re-admits late rows); otherwise only
    its files with a new version (or no longer current) are. Each record type's rows are staged in
    the connection's temporary tables, inside DuckDB's memory limit (it spills beyond it)."""
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
    spec = settings.record_types["schools"]
    SQL.run(con, "staging/delete_referential.sql")
    rows = take_raw(con, "schools", None, None, None)
    issues = stage_rows(con, spec, settings, None, None)
    merge_issues(con, issues, "schools", None, None)
    update_manifest_counts(con, "schools", None, None)
    [(quarantined, warned)] = con.execute(f"select count(*) filter (is_quarantined), count(*) filter (is_warned) "
                                          f"from {FLAGS}").fetchall()
    drop_work_tables(con)
    return StageResult("schools", rows, quarantined, warned)


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
