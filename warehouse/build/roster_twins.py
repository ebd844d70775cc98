"""The roster-twins builder: the pupil-on-two-rosters warning made true across directorates, once
per load, for each school year whose rosters changed.

A partition's staging warns its own roster rows whose pupil is on another school's roster of the
year, in its directorate or another one (quality_checks/sql/pupil_on_two_rosters.sql). The other
directorate's row is not that partition's to change, so of a pupil on two directorates' rosters
only the roster staged last would carry the warning, and a roster corrected in one directorate
would leave the other's open. This step, run in the `publish_snapshot` job (after every complete
load, before the readers' copy and the products), finds the year's accepted roster rows whose
open warning is not what the rosters say (staging/roster_twins.sql), opens or resolves it with the
rule's own value and messages, and makes those rows' flags, their files' counts and their
partitions' staging digests (which the products' fingerprints read) follow.

Because of it, a partition depends on its own rosters only (warehouse/fingerprint.py,
staging/basis.sql): a roster corrected in one directorate reloads that directorate, not every
directorate of the year. A year whose staged rosters (their partitions' digests) and code are those
it was last reconciled with (ops.roster_twins) is skipped: a load that staged no roster pays one
small query.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from daam.config import RecordTypeSpec, load_settings
from daam.sqlfiles import registered
from quality_checks import sql_rules
from warehouse.build import Built, Scope
from warehouse.build.staging import ISSUE_COLUMNS_OUT, update_manifest_counts, with_messages
from warehouse.db import log_step, transaction
from warehouse.fingerprint import code_fingerprint
from warehouse.partition_digest import record as record_digest
from warehouse.registry import registry
from warehouse.schema import SQL

RULE = "pupil_on_two_rosters"
ROSTERS = "students"


def build(con: duckdb.DuckDBPyConnection, run_id: str) -> Built:
    """Reconcile the roster warnings of every school year whose staged rosters changed since."""
    started = datetime.now()
    totals = {"years": 0, "years_unchanged": 0, "rows_warned": 0, "rows_cleared": 0, "directorates": 0}
    spec = load_settings().record_types[ROSTERS]
    with transaction(con):
        # the catalogue (configs/) says whether the rule applies to the rosters at all
        due = _bases(con) if sql_rules.applies_to(RULE, spec) else []
        for year, basis, reconciled in due:
            if basis == reconciled:
                totals["years_unchanged"] += 1
                continue
            warned, cleared, provinces = reconcile(con, spec, year)
            # the basis after the reconciliation, which took again the digests of the partitions it changed
            [(_, after, _)] = _bases(con, year)
            SQL.run(con, "staging/record_roster_twins.sql", {
                "year": year, "basis": after, "warned": warned, "cleared": cleared,
                "directorates": len(provinces), "at": datetime.now()})
            totals["years"] += 1
            totals["rows_warned"] += warned
            totals["rows_cleared"] += cleared
            totals["directorates"] += len(provinces)
        detail = (f"{totals['years']} school year(s) reconciled ({totals['years_unchanged']} unchanged): "
                  f"{totals['rows_warned']} roster row(s) warned, {totals['rows_cleared']} cleared, "
                  f"in {totals['directorates']} directorate(s)")
        log_step(con, run_id, "roster_twins", None, started, detail)
    return Built("roster_twins", Scope(), {"ops.roster_twins": totals}, detail=detail)


def _bases(con: duckdb.DuckDBPyConnection, school_year: str | None = None) -> list[tuple[str, str, str | None]]:
    """(school year, its rosters' basis now, the basis it was last reconciled against) of every
    school year with staged rosters, or of `school_year` alone."""
    return SQL.query(con, "staging/roster_twins_due.sql",
                     {"code": code_fingerprint(), "year": school_year}).fetchall()


def reconcile(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec, school_year: str) -> tuple[int, int, list[str]]:
    """Open or resolve the warning on the year's roster rows (`spec`: the rosters' record type) where
    it is not what the rosters say (in the caller's transaction). Returns the rows warned, the rows
    cleared and the directorates whose rows changed."""
    SQL.run(con, "staging/roster_twins.sql", {"year": school_year})
    warned, cleared = con.execute("select count(*) filter (warn), count(*) filter (not warn) "
                                  "from roster_twins").fetchone()
    provinces = [p for (p,) in con.execute("select distinct province_code from roster_twins order by 1").fetchall()]
    if provinces:
        _apply(con, spec, school_year, provinces)
    # it names pupils (Massar codes); on a failure the transaction's rollback takes it away
    con.execute("drop table roster_twins")
    return warned, cleared, provinces


def _apply(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec, school_year: str, provinces: list[str]) -> None:
    SQL.run(con, "staging/resolve_roster_twins.sql")
    # the rule's own raw value (the code as the school typed it) and messages
    opened = con.execute("""
        select t.file_path, t.file_version, t.sheet, t.row_number, t.school_code, t.school_year, t.province_code,
               'warning' as severity, $rule as rule, 'massar_code' as column_name, r.massar_code as raw_value
        from roster_twins t
        left join raw.students r on r.file_path = t.file_path and r.file_version = t.file_version
         and r.sheet is not distinct from t.sheet and r.row_number = t.row_number
        where t.warn order by all""", {"rule": RULE}).df()
    if len(opened):
        opened["record_type"] = ROSTERS
        with registered(con, issues_new=with_messages(opened, spec).reindex(columns=ISSUE_COLUMNS_OUT)):
            SQL.run(con, "staging/open_issues.sql")
    SQL.run(con, "staging/roster_twins_flags.sql")
    for province in provinces:
        update_manifest_counts(con, ROSTERS, school_year, province)
        record_digest(con, registry()[f"staging.{ROSTERS}"], school_year, province)
