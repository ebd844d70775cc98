"""Rows of a SQL replica load, get quarantined and reconcile exactly as the files of tests/conftest.py:
same manifest counts, same row issues (rule, row number, column, raw value), same indicators; then
a change in the replica rewrites exactly one file and resolves its issue."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from daam.sql_source import extract
from pipelines.load import run_load
from tests.conftest import FILES, YEAR, write_files
from tests.pipelines import test_load_small as small
from tests.sql_source import replica

MANIFEST = """select file_path, record_type, school_year, period, school_code, province_code, version, status,
                     rows_read, rows_loaded, rows_quarantined, rows_warned, error, error_kind, extra_columns,
                     duplicate_of
              from ops.file_manifest order by all"""
ISSUES = """select file_path, record_type, school_code, sheet, row_number, severity, rule, column_name,
                   raw_value, message_fr, message_ar, status
            from ops.row_issue order by all"""
INDICATORS = "select * from mart.indicators order by all"


def _q(db: Path, sql: str, params: dict | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def files_db(tmp_path_factory) -> Path:
    """The warehouse of the hand-written files themselves: what the replica must reproduce."""
    tmp = tmp_path_factory.mktemp("files")
    write_files(tmp / "landing", FILES)
    db = tmp / "w.duckdb"
    assert run_load(tmp / "landing", db).ok
    return db


def _stats(landing: Path) -> dict[str, tuple[int, int]]:
    """path → (mtime, inode) of every landing file (not the hidden state)."""
    files = [p for p in landing.rglob("*")
             if p.is_file() and not p.relative_to(landing).parts[0].startswith(".")]
    return {p.relative_to(landing).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino) for p in files}


def test_replica_loads_like_the_files(replica_db, files_db: Path, tmp_path: Path):
    landing, db = tmp_path / "landing", tmp_path / "w.duckdb"
    first = extract(replica_db.engine, landing, schema=replica_db.schema)
    assert sorted(first.files_written) == sorted(FILES)  # one file per fixture file, at the same paths
    assert first.rows_read == sum(len(rows) for rows in replica.ROWS.values()) and not first.tables_missing

    report = run_load(landing, db)
    assert report.ok, report.failed
    assert report.partitions == [(YEAR, "110")]
    # The assertions of the file-based test, on the warehouse of the replica...
    small.test_manifest_accounts_for_every_file(db)
    small.test_row_issues_name_rule_row_and_value(db)
    small.test_indicators_match_hand_computation(db)
    small.test_tayssir_months_say_why_not_paid(db)
    # ... and everything it publishes is that of the files, row for row.
    assert _q(db, MANIFEST) == _q(files_db, MANIFEST)
    assert _q(db, ISSUES) == _q(files_db, ISSUES)
    assert _q(db, INDICATORS) == _q(files_db, INDICATORS)

    # A full extraction of an unchanged replica rewrites nothing, so the loader has nothing new.
    before = _stats(landing)
    again = extract(replica_db.engine, landing, full=True, schema=replica_db.schema)
    assert again.files_written == [] and len(again.files_unchanged) == len(FILES)
    assert _stats(landing) == before
    assert run_load(landing, db).unchanged == [(YEAR, "110")]

    # The school corrects the pupil with 30 days of absence in October: only that file is rewritten.
    attendance = replica_db.table("attendance")
    replica_db.execute(sa.update(attendance).where(attendance.c.id == replica.ABSENCE_RANGE_ROW_ID)
                       .values(unjustified_absence_days=3, updated_at=replica.SENT_AT.replace(day=20)))
    changed = extract(replica_db.engine, landing, schema=replica_db.schema)
    assert changed.files_written == [replica.ATTENDANCE_PATH]
    assert changed.files_unchanged == [] and changed.rows_read == 4  # that group only, read whole
    assert changed.marks["attendance"] == "2022-11-20T10:00:00"
    after = _stats(landing)
    assert {p for p in after if after[p] != before[p]} == {replica.ATTENDANCE_PATH}
    # Nothing changed since: nothing read, nothing written.
    rerun = extract(replica_db.engine, landing, schema=replica_db.schema)
    assert rerun.files_written == [] and rerun.rows_read == 0 and _stats(landing) == after

    report = run_load(landing, db)
    assert report.ok and report.partitions == [(YEAR, "110")]
    assert _q(db, "select version, status, rows_quarantined from ops.file_manifest where file_path = $p "
                  "order by version", {"p": replica.ATTENDANCE_PATH}) == [(1, "superseded", 2),
                                                                           (2, "loaded", 1)]
    assert _q(db, "select file_version, row_number, rule, status from ops.row_issue where file_path = $p "
                  "order by all", {"p": replica.ATTENDANCE_PATH}) == [
        (1, 4, "pupil_not_on_roster", "resolved"), (1, 5, "absence_days_range", "resolved"),
        (2, 4, "pupil_not_on_roster", "open")]
    assert small._indicator(db, "school", small.SCHOOL_A, "tayssir_compliant_pupils", "2022-10") == 1
