"""The extraction itself, on SQLite and PostgreSQL: what is written, when, where the marks are kept."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from daam.config import load_settings
from daam.landing.inventory import scan
from daam.sql_source import SqlSourceError, extract, extraction, render, state_path
from tests.conftest import FILES, SCHOOL_A, YEAR
from tests.sql_source import replica
from tests.sql_source.conftest import POSTGRES_URL_ENV, REQUIRE_ENV

ROSTER = f"{YEAR}/students/{SCHOOL_A}.csv"
LATER = replica.SENT_AT + dt.timedelta(days=3)


def _run(db, landing: Path, **kw):
    return extract(db.engine, landing, schema=db.schema, **kw)


def _add_student(db, id_: int, school_year: str = YEAR, school_code: str = SCHOOL_A, **values) -> None:
    students = db.table("students")
    row = dict.fromkeys(students.c.keys())
    row.update(id=id_, school_year=school_year, school_code=school_code, updated_at=LATER,
               massar_code="J130245899", last_name_ar="ن", first_name_ar="س", gender="F",
               birth_date=dt.date(2015, 3, 3), level="2AP")
    row.update(values)
    db.execute(sa.insert(students).values(**row))


def test_files_are_the_fixture_files_in_canonical_form(replica_db, tmp_path: Path):
    landing = tmp_path / "landing"
    _run(replica_db, landing)
    assert (landing / f"{YEAR}/attendance/2022-10/{SCHOOL_A}.csv").read_bytes() == (
        b"massar_code,unjustified_absence_days,justified_absence_days,school_days\n"
        b"J130245871,2,0,\nJ130245872,5,1,\nJ999999999,0,0,\nJ130245873,30,0,\n")
    payments = (landing / f"{YEAR}/tayssir_payments/110_1.csv").read_text(encoding="utf-8").splitlines()
    assert payments[1:] == ["P1,S123456,J130245871,2022-09,2022-11,180.00,paid,",
                            "P2,AB12345,J130245872,2022-09,2022-11,160.00,unclaimed,"]
    roster = (landing / ROSTER).read_text(encoding="utf-8").splitlines()
    # the id order: the fixture's line numbers
    assert [r.split(",")[0] for r in roster] == ["massar_code", "J130245871", "J130245872", "BAD",
                                                 "J130245873", "J130245872"]
    assert ",2015-02-01," in roster[1]  # a DATE is written ISO
    ref = (landing / "reference/schools/2022-09-01.csv").read_text(encoding="utf-8").splitlines()
    assert ref[1].endswith(",false,,true,,") and ",true,50,false," in ref[2]  # booleans, NULL empty
    # markers: header-only files, a reported empty list
    assert (landing / f"{YEAR}/boarding_grants/16701C.csv").read_text().count("\n") == 1
    assert (landing / f"{YEAR}/students/99999Z.csv").read_text().count("\n") == 1


def test_only_changed_groups_are_read_and_the_mark_advances(replica_db, tmp_path: Path):
    landing = tmp_path / "landing"
    first = _run(replica_db, landing)
    assert first.marks["students"] == replica.SENT_AT.isoformat()
    saved = json.loads(state_path(landing).read_text())
    (source,) = saved["sources"]
    assert "daam:daam" not in source and "password" not in source  # no credentials in the state
    assert saved["sources"][source]["students"]["mark"] == replica.SENT_AT.isoformat()

    _add_student(replica_db, 10)  # one new pupil in school A's roster
    second = _run(replica_db, landing)
    assert second.files_written == [ROSTER] and second.rows_read == 6
    assert second.marks["students"] == LATER.isoformat()
    assert second.marks["attendance"] == replica.SENT_AT.isoformat()
    assert (landing / ROSTER).read_text(encoding="utf-8").splitlines()[-1].startswith("J130245899,")
    assert _run(replica_db, landing).rows_read == 0


def test_a_missing_file_is_written_again(replica_db, tmp_path: Path):
    landing = tmp_path / "landing"
    _run(replica_db, landing)
    (landing / ROSTER).unlink()
    again = _run(replica_db, landing)
    assert again.files_written == [ROSTER] and again.rows_read == 5


def test_deleted_rows_leave_with_the_next_change_of_their_group_or_a_full_run(replica_db, tmp_path: Path):
    landing = tmp_path / "landing"
    _run(replica_db, landing)
    students = replica_db.table("students")
    replica_db.execute(sa.delete(students).where(students.c.massar_code == "BAD"))
    assert _run(replica_db, landing).files_written == []  # a delete leaves no updated_at behind
    assert "BAD," in (landing / ROSTER).read_text(encoding="utf-8")
    full = _run(replica_db, landing, full=True)
    assert full.files_written == [ROSTER] and len(full.files_unchanged) == len(FILES) - 1
    assert "BAD," not in (landing / ROSTER).read_text(encoding="utf-8")

    # deleted, then another row of the group changes: the incremental run drops it too
    replica_db.execute(sa.delete(students).where(students.c.id == 5))  # the duplicate
    replica_db.execute(sa.update(students).where(students.c.id == 1).values(level="3AP", updated_at=LATER))
    assert _run(replica_db, landing).files_written == [ROSTER]
    assert (landing / ROSTER).read_text(encoding="utf-8").count("J130245872") == 1


def test_streamed_and_per_group_reads_write_the_same_bytes(replica_db, tmp_path: Path, monkeypatch):
    _add_student(replica_db, 10, school_year="2022/2023")  # another spelling of the year: the same file
    _run(replica_db, tmp_path / "one")
    monkeypatch.setattr(extraction, "PER_GROUP_QUERIES_UP_TO", 0)
    monkeypatch.setattr(extraction, "STREAM_ROWS", 2)
    _run(replica_db, tmp_path / "all")
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.csv"))
    assert len(files) == len(FILES)
    for rel in files:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "all" / rel).read_bytes(), rel
    roster = (tmp_path / "all" / ROSTER).read_text(encoding="utf-8").splitlines()
    assert len(roster) == 7 and roster[-1].startswith("J130245899,")  # 2022-2023 rows, then 2022/2023


def test_lineage_that_names_no_landing_path_is_refused(replica_db, tmp_path: Path):
    _add_student(replica_db, 10, school_code="../../outside")
    _add_student(replica_db, 11, school_year="last year")
    _add_student(replica_db, 12, school_code=None)
    attendance = replica_db.table("attendance")
    row = dict.fromkeys(attendance.c.keys())
    row.update(id=10, school_year=YEAR, period="2022-13", school_code=SCHOOL_A, massar_code="J130245871",
               updated_at=LATER)
    replica_db.execute(sa.insert(attendance).values(row))
    landing = tmp_path / "landing"
    report = _run(replica_db, landing)
    assert report.groups_refused == 4
    assert sorted(report.files_written) == sorted(FILES)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert all(p.startswith("landing/") or p == "replica.sqlite" for p in written)


def test_the_state_is_hidden_from_the_inventory_and_one_run_at_a_time(replica_db, tmp_path: Path):
    landing = tmp_path / "landing"
    _run(replica_db, landing)
    assert state_path(landing).is_file() and state_path(landing).parent.name == ".daam-sql"
    entries = scan(landing, load_settings())
    assert sorted(e.file_path for e in entries) == sorted(FILES)
    assert not any(e.refusal for e in entries)
    with (landing / ".daam-sql" / "lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(SqlSourceError, match="another SQL extraction"):
            _run(replica_db, landing)


def test_no_personal_data_is_logged(replica_db, tmp_path: Path, caplog):
    with caplog.at_level(logging.DEBUG, logger="daam.sql_source"):
        _add_student(replica_db, 10, school_code="bad/code")
        _run(replica_db, tmp_path / "landing")
    text = caplog.text
    assert "students: 2 of 3 groups read again, 6 rows" in text  # counts are logged
    for personal in ("J130245871", "العلوي", "S123456", "AB12345", "2015-02-01", "2010-01-01", "bad/code"):
        assert personal not in text


def test_files_follow_the_umask_never_a_forced_mode(replica_db, tmp_path: Path):
    landing = tmp_path / "landing"
    old = os.umask(0o027)
    try:
        report = _run(replica_db, landing)
        _add_student(replica_db, 10)
        again = _run(replica_db, landing)  # a file replaced keeps following the umask
    finally:
        os.umask(old)
    assert ROSTER in again.files_written
    files = [landing / p for p in report.files_written] + [state_path(landing)]
    assert {oct(os.stat(f).st_mode & 0o777) for f in files} == {oct(0o640)}
    assert not list(landing.rglob(".*.tmp"))  # no temporary file left behind


def test_record_types_tables_and_columns(replica_db, tmp_path: Path):
    landing = tmp_path / "landing"
    only = _run(replica_db, landing, record_types=["attendance"])
    assert only.tables_read == ["attendance"] and only.files_written == [replica.ATTENDANCE_PATH]
    with pytest.raises(SqlSourceError, match="unknown record type"):
        _run(replica_db, landing, record_types=["pupils"])
    prefix = f"{replica_db.schema}." if replica_db.schema else ""
    replica_db.execute(sa.text(f"drop table {prefix}schoolbags"))
    assert _run(replica_db, landing).tables_missing == ["schoolbags"]
    with pytest.raises(SqlSourceError, match="no table or view 'schoolbags'"):
        _run(replica_db, landing, record_types=["schoolbags"])
    # a view named otherwise, without a primary key: ordered by the record type's key, then its columns
    replica_db.execute(sa.text(f"create view {prefix}v_attendance as select school_year, period, "
                               f"school_code, massar_code, unjustified_absence_days, updated_at "
                               f"from {prefix}attendance"))
    view = _run(replica_db, tmp_path / "view", record_types=["attendance"],
                tables={"attendance": "v_attendance"})
    assert view.tables_read == ["v_attendance"]
    lines = (tmp_path / "view" / replica.ATTENDANCE_PATH).read_text().splitlines()
    assert lines == ["massar_code,unjustified_absence_days", "J130245871,2", "J130245872,5", "J130245873,30",
                     "J999999999,0"]
    replica_db.execute(sa.text(f"create view {prefix}v_bad as select massar_code, updated_at "
                               f"from {prefix}attendance"))
    with pytest.raises(SqlSourceError, match="lacks the column"):
        _run(replica_db, tmp_path / "bad", record_types=["attendance"], tables={"attendance": "v_bad"})


def test_values_are_written_as_stored():
    data, n = render(["a", "b", "c", "d", "e", "f", "g"], [
        ("x, \"y\"", Decimal("1E+2"), dt.date(2022, 10, 1), dt.datetime(2022, 10, 1),
         dt.datetime(2022, 10, 1, 8, 5), True, None),
        (None, None, "", None, None, None, None),  # a group marker: not written
        (" 1 ", 2.5, 3.0, 4, False, b"\xd9\x86", "نعم"),
    ])
    assert n == 2
    assert data.decode("utf-8").splitlines() == [
        "a,b,c,d,e,f,g",
        '"x, ""y""",100,2022-10-01,2022-10-01,2022-10-01 08:05:00,true,',
        " 1 ,2.5,3,4,false,ن,نعم"]


def test_ci_can_not_skip_postgres():
    """With CI_REQUIRE_POSTGRES=1 (set by .ci/run) the PostgreSQL cases must have a server to run on."""
    if os.environ.get(REQUIRE_ENV) == "1":
        assert os.environ.get(POSTGRES_URL_ENV), (
            f"{REQUIRE_ENV}=1 but {POSTGRES_URL_ENV} is not set: the PostgreSQL tests would be skipped")


def test_timezone_aware_updated_at(replica_db, tmp_path: Path):
    """PostgreSQL `timestamptz`: the mark is stored with its offset and compares with the column."""
    attendance = replica_db.table("attendance")
    later = LATER
    if replica_db.backend == "postgres":
        replica_db.execute(sa.text(f"alter table {replica_db.schema}.attendance alter column updated_at "
                                   f"type timestamptz using updated_at at time zone 'UTC'"))
        later = LATER.replace(tzinfo=dt.UTC)
    landing = tmp_path / "landing"
    first = _run(replica_db, landing, record_types=["attendance"])
    if replica_db.backend == "postgres":
        assert dt.datetime.fromisoformat(first.marks["attendance"]) == replica.SENT_AT.replace(tzinfo=dt.UTC)
    assert _run(replica_db, landing, record_types=["attendance"]).rows_read == 0
    replica_db.execute(sa.update(attendance).where(attendance.c.id == 1).values(updated_at=later,
                                                                                justified_absence_days=1))
    assert _run(replica_db, landing, record_types=["attendance"]).files_written == [replica.ATTENDANCE_PATH]


def test_a_mark_that_no_longer_compares_reads_everything_again(replica_db, tmp_path: Path, caplog):
    landing = tmp_path / "landing"
    _run(replica_db, landing)
    state = json.loads(state_path(landing).read_text())
    for marks in state["sources"].values():
        marks["students"]["kind"] = "text"  # as if updated_at had been a text column
    state_path(landing).write_text(json.dumps(state))
    with caplog.at_level(logging.WARNING, logger="daam.sql_source"):
        again = _run(replica_db, landing)
    assert "no longer be compared" in caplog.text
    assert again.files_written == [] and sorted(again.files_unchanged) == sorted(
        p for p in FILES if "/students/" in p)
    assert again.marks["students"] == replica.SENT_AT.isoformat()
