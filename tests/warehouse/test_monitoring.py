"""Completeness, timeliness, monitoring history and the quality score on a hand-written landing
zone whose file times are set: every number below is counted by hand."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.load import run_load
from tests.conftest import FILES, SCHOOL_A, YEAR, write_files
from warehouse.build.ops import record_history

SCHOOL_C = "16702D"  # closed at the end of the previous year, still sends a roster
SCHOOL_D = "16703E"  # rural primary opened on 10 January 2023
REFERENTIAL = (FILES["reference/schools/2022-09-01.csv"].rstrip("\n").replace(
    "has_canteen\n", "has_canteen,opened_on,closed_on\n").replace(",1\n", ",1,,\n").replace(",0\n", ",0,,\n")
    + ",,\n"
    + f"{SCHOOL_C},ECOLE C,مدرسة ج,110,1001,R,PRIMAIRE,Ecole Autonome,0,,0,,2022-06-30\n"
    + f"{SCHOOL_D},ECOLE D,مدرسة د,110,1001,R,PRIMAIRE,Ecole Autonome,0,,0,2023-01-10,\n")
ROSTER = "massar_code,last_name_ar,first_name_ar,gender,birth_date,level\n{code},ا,ب,F,2015-01-01,2AP\n"
LANDING = {
    **FILES,
    "reference/schools/2022-09-01.csv": REFERENTIAL,
    f"{YEAR}/students/{SCHOOL_C}.csv": ROSTER.format(code="C111111111"),
    f"{YEAR}/students/{SCHOOL_D}.csv": ROSTER.format(code="D111111111"),
    f"{YEAR}/attendance/2022-12/{SCHOOL_D}.csv": "massar_code,unjustified_absence_days\nD111111111,0\n",
    f"{YEAR}/attendance/2023-01/{SCHOOL_D}.csv": "massar_code,unjustified_absence_days\nD111111111,1\n",
}
# When each file reached the landing zone, against configs/completeness.yaml deadlines.
ARRIVED = {
    f"{YEAR}/students/{SCHOOL_A}.csv": "2022-10-01 09:00",               # due 15 Oct: on time
    f"{YEAR}/attendance/2022-10/{SCHOOL_A}.csv": "2022-11-20 09:00",     # due 10 Nov: late
    f"{YEAR}/tayssir_beneficiaries/{SCHOOL_A}.csv": "2022-10-31 23:00",  # due 31 Oct: on time (same day)
    f"{YEAR}/schoolbags/{SCHOOL_A}.csv": "2022-10-16 08:00",             # due 15 Oct: late
    f"{YEAR}/canteen_meals/2022-10/{SCHOOL_A}.csv": "2022-11-10 08:00",  # due 10 Nov: on time
    f"{YEAR}/students/{SCHOOL_D}.csv": "2023-01-20 09:00",               # due 15 Oct: late
    f"{YEAR}/attendance/2023-01/{SCHOOL_D}.csv": "2023-02-15 09:00",     # due 10 Feb: late
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("monitoring")
    landing = root / "landing"
    write_files(landing, LANDING)
    for rel, when in ARRIVED.items():
        t = datetime.fromisoformat(when).timestamp()
        os.utime(landing / rel, (t, t))
    db = root / "w.duckdb"
    report = run_load(landing, db)
    assert report.ok, report.failed
    with duckdb.connect(str(db)) as con:
        record_history(con, "run-1", datetime(2023, 3, 1, 2, 30))
    return db


def _q(db: Path, sql: str, params: dict | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def _indicator(db: Path, school: str, name: str) -> float | None:
    rows = _q(db, "select value from mart.indicators where geo_level = 'school' and geo_code = $s "
                  "and indicator = $i and school_year = $y", {"s": school, "i": name, "y": YEAR})
    return rows[0][0] if rows else None


def test_expected_received_and_on_time_per_school(db: Path):
    # A: students, 10 attendance months, Tayssir list, schoolbags, 10 canteen months
    assert [_indicator(db, SCHOOL_A, i) for i in ("files_expected", "files_received", "files_on_time")] == [23, 5, 3]
    # D opened in January: roster, Tayssir list, schoolbags and January..June attendance only;
    # its December attendance was not owed and does not count.
    assert [_indicator(db, SCHOOL_D, i) for i in ("files_expected", "files_received", "files_on_time")] == [9, 2, 0]
    # C was closed all year: nothing expected, so no rate at all rather than a rate above 100 %
    assert _indicator(db, SCHOOL_C, "files_expected") is None
    assert _indicator(db, SCHOOL_C, "files_received") is None
    over = _q(db, """select count(*) from mart.indicators r join mart.indicators e using (geo_level, geo_code, school_year)
                     where r.indicator = 'files_received' and e.indicator = 'files_expected' and r.value > e.value""")
    assert over == [(0,)]


def test_submission_rows_carry_deadline_and_arrival(db: Path):
    rows = {(rt, p): (exp, rec, str(dl), ot) for rt, p, exp, rec, dl, ot in _q(db, """
        select record_type, period, is_expected, is_received, deadline, is_on_time from core.fct_submission
        where school_code = $s""", {"s": SCHOOL_D})}
    assert rows[("attendance", "2022-12")] == (False, True, "2023-01-10", False)  # arrived with the file's own time
    assert rows[("attendance", "2023-01")] == (True, True, "2023-02-10", False)
    assert rows[("attendance", "2023-02")] == (True, False, "2023-03-10", None)
    assert ("attendance", "2022-11") not in rows  # before the school opened: not owed
    assert rows[("students", None)] == (True, True, "2022-10-15", False)


def test_history_counts_failing_out_of_examined(db: Path):
    rows = {(rt, rule): (f, e) for rt, rule, f, e in _q(db, """
        select record_type, rule, failing_count, examined_count from ops.quality_history
        where run_id = 'run-1' and school_code = $s""", {"s": SCHOOL_A})}
    assert rows[("students", "massar_code_format")] == (1, 5)
    assert rows[("students", "gender_unknown")] == (0, 5)   # applies, nothing failed: kept for trends
    assert rows[("attendance", "absence_days_range")] == (1, 4)
    assert rows[("attendance", "pupil_not_on_roster")] == (1, 4)
    assert rows[("attendance", "completeness")] == (9, 10)
    assert rows[("attendance", "timeliness")] == (1, 1)
    assert rows[("canteen_meals", "timeliness")] == (0, 1)
    assert ("students", "grant_without_facility") not in rows  # does not apply to rosters


def test_history_is_appended_never_overwritten(db: Path, tmp_path: Path):
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(db.read_bytes())
    with duckdb.connect(str(copy)) as con:
        first = con.execute("select count(*) from ops.quality_history").fetchall()[0][0]
        written = record_history(con, "run-2", datetime(2023, 4, 1, 2, 30))
        assert written == first
        assert con.execute("select count(distinct run_id) from ops.quality_history").fetchall() == [(2,)]


def test_quality_score_weights_validity_completeness_timeliness(db: Path):
    (v, c, t, score), = _q(db, """select validity, completeness, timeliness, score from mart.quality_score
                                 where geo_level = 'school' and geo_code = $s""", {"s": SCHOOL_A})
    assert c == pytest.approx(5 / 23) and t == pytest.approx(3 / 5)
    assert 0.9 < v < 1
    assert score == round(100 * (0.5 * v + 0.3 * c + 0.2 * t), 1)
    # the directorate's rates are ratios of its sums, not means of its schools' rates
    (pc,), = _q(db, "select completeness from mart.quality_score where geo_level = 'province' and geo_code = '110'")
    expected, received = _q(db, """select count(*) filter (is_expected), count(*) filter (is_expected and is_received)
                                  from core.fct_submission""")[0]
    assert pc == pytest.approx(received / expected)


def test_scorecard_prints_for_a_terminal(db: Path, capsys: pytest.CaptureFixture):
    assert main(["quality", "--warehouse", str(db), "--province", "110"]) == 0
    out = capsys.readouterr().out
    assert "Completeness and timeliness" in out and "massar_code_format" in out and "Code Massar invalide" in out
    assert SCHOOL_A in out  # among the worst schools of the run


def test_a_rescan_restores_arrival_times_an_older_daam_did_not_keep(db: Path, tmp_path: Path):
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(db.read_bytes())
    roster = f"{YEAR}/students/{SCHOOL_A}.csv"
    with duckdb.connect(str(copy)) as con:
        con.execute("update ops.file_manifest set received_at = null")
    assert run_load(db.parent / "landing", copy).ok
    with duckdb.connect(str(copy), read_only=True) as con:
        got = con.execute("select received_at from ops.file_manifest where file_path = $p", {"p": roster}).fetchall()
    assert got == [(datetime(2022, 10, 1, 9, 0),)]
