"""The whole chain on a hand-written landing zone: every count and indicator is known by hand."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from pipelines.load import run_load
from tests.conftest import ATTENDANCE_A, ROSTER_A, SCHOOL_A, SCHOOL_B, YEAR, fail_core, write_files


def _q(db: Path, sql: str, params: dict | None = None):
    with duckdb.connect(str(db)) as con:
        return con.execute(sql, params).fetchall()


def _indicator(db: Path, level: str, code: str, name: str, month: str | None = None) -> float | None:
    rows = _q(db, """select value from mart.indicators where geo_level = $l and geo_code = $c and indicator = $i
                     and school_year = $y and month is not distinct from $m""",
              {"l": level, "c": code, "i": name, "y": YEAR, "m": month})
    assert len(rows) <= 1
    return rows[0][0] if rows else None


@pytest.fixture
def loaded(small_landing: Path, tmp_path: Path) -> Path:
    db = tmp_path / "w.duckdb"
    report = run_load(small_landing, db)
    assert report.ok, report.failed
    assert report.partitions == [(YEAR, "110")]
    return db


def test_manifest_accounts_for_every_file(loaded: Path):
    rows = {p: (s, r, lo, q, w) for p, s, r, lo, q, w in _q(loaded, """
        select file_path, status, rows_read, rows_loaded, rows_quarantined, rows_warned from ops.file_manifest""")}
    assert len(rows) == 9
    assert rows[f"{YEAR}/students/{SCHOOL_A}.csv"] == ("loaded", 5, 4, 1, 2)
    assert rows[f"{YEAR}/attendance/2022-10/{SCHOOL_A}.csv"] == ("loaded", 4, 2, 2, 0)
    assert rows[f"{YEAR}/boarding_grants/{SCHOOL_B}.csv"] == ("loaded", 0, 0, 0, 0)
    assert rows[f"{YEAR}/schoolbags/{SCHOOL_A}.csv"] == ("loaded", 1, 1, 0, 1)
    assert rows[f"{YEAR}/students/99999Z.csv"][0] == "rejected"
    error = _q(loaded, "select error from ops.file_manifest where status = 'rejected'")[0][0]
    assert error.startswith("unknown school code 99999Z")


def test_row_issues_name_rule_row_and_value(loaded: Path):
    issues = set(_q(loaded, """select file_path, row_number, severity, rule, column_name, raw_value
                              from ops.row_issue where status = 'open'"""))
    roster, att = f"{YEAR}/students/{SCHOOL_A}.csv", f"{YEAR}/attendance/2022-10/{SCHOOL_A}.csv"
    assert issues == {
        (roster, 4, "error", "massar_code_format", "massar_code", "BAD"),
        (roster, 5, "warning", "age_level_mismatch", "birth_date", "2010-01-01"),
        (roster, 6, "warning", "duplicate_key_identical", "massar_code", "J130245872"),
        (att, 4, "error", "pupil_not_on_roster", "massar_code", "J999999999"),
        (att, 5, "error", "absence_days_range", "unjustified_absence_days", "30"),
        (f"{YEAR}/schoolbags/{SCHOOL_A}.csv", 2, "warning", "kits_requested_above_eligible", "kits_requested", "3"),
    }
    fr, ar = _q(loaded, "select message_fr, message_ar from ops.row_issue where rule = 'massar_code_format'")[0]
    assert "BAD" in fr and "BAD" in ar and "9 chiffres" in fr


def test_indicators_match_hand_computation(loaded: Path):
    assert _indicator(loaded, "school", SCHOOL_A, "enrolled_pupils") == 3  # BAD quarantined, duplicate once
    assert _indicator(loaded, "school", SCHOOL_A, "enrolled_girls") == 2
    assert _indicator(loaded, "school", SCHOOL_A, "tayssir_beneficiaries") == 2
    assert _indicator(loaded, "school", SCHOOL_A, "tayssir_compliant_pupils", "2022-10") == 1
    assert _indicator(loaded, "school", SCHOOL_A, "tayssir_entitlement_mad", "2022-10") == 60  # 2AP rate
    assert _indicator(loaded, "school", SCHOOL_A, "tayssir_compliant_pupils", "2022-11") is None  # not reported
    assert _indicator(loaded, "school", SCHOOL_A, "tayssir_paid_mad") == 180  # the unclaimed 160 is not paid
    assert _indicator(loaded, "school", SCHOOL_A, "canteen_meals_served", "2022-10") == 50
    assert _indicator(loaded, "school", SCHOOL_A, "canteen_cost_mad", "2022-10") == 100
    assert _indicator(loaded, "school", SCHOOL_A, "schoolbag_kits_requested") == 3
    assert _indicator(loaded, "school", SCHOOL_B, "boarding_grantees") == 0  # reported zero is zero
    assert _indicator(loaded, "school", SCHOOL_B, "enrolled_pupils") is None  # no roster sent
    # expected: A = roster + 10 attendance + Tayssir + schoolbags + 10 canteen; B = roster + 10 + Tayssir + bags + grants
    assert _indicator(loaded, "school", SCHOOL_A, "files_expected") == 23
    assert _indicator(loaded, "school", SCHOOL_A, "files_received") == 5
    assert _indicator(loaded, "school", SCHOOL_B, "files_expected") == 14
    assert _indicator(loaded, "school", SCHOOL_B, "files_received") == 1
    for level, code in (("province", "110"), ("region", "02"), ("national", "MA")):
        assert _indicator(loaded, level, code, "enrolled_pupils") == 3
        assert _indicator(loaded, level, code, "files_expected") == 37


def test_tayssir_months_say_why_not_paid(loaded: Path):
    reasons = dict(_q(loaded, """select reason_not_paid, count(*) from core.fct_tayssir_month
                                 group by all"""))
    # 2 beneficiaries x 10 months: one compliant month, one over threshold, 18 without attendance
    assert reasons == {None: 1, "over_threshold": 1, "no_attendance": 18}


def test_rerun_changes_nothing(loaded: Path, small_landing: Path):
    before = _q(loaded, "select * from mart.indicators order by all")
    manifest = _q(loaded, "select file_path, version, status, rows_read from ops.file_manifest order by all")
    issues = _q(loaded, "select count(*) from ops.row_issue")
    again = run_load(small_landing, loaded)
    assert again.ok and again.partitions == [] and again.unchanged == [(YEAR, "110")]  # nothing new: skipped
    assert _q(loaded, "select * from mart.indicators order by all") == before
    forced = run_load(small_landing, loaded, force=True)
    assert forced.ok and forced.partitions == [(YEAR, "110")]  # reloaded in full, to the same result
    assert _q(loaded, "select * from mart.indicators order by all") == before
    assert _q(loaded, "select file_path, version, status, rows_read from ops.file_manifest order by all") == manifest
    assert _q(loaded, "select count(*) from ops.row_issue") == issues


def test_a_rerun_with_nothing_new_leaves_every_table_as_it_was(loaded: Path, small_landing: Path):
    """Every table but the run log and the scan's own record (its time): the same rows, load ids and
    timestamps included; the file refused for its unknown school (99999Z) is not written again."""
    def everything() -> dict[str, list]:
        with duckdb.connect(str(loaded)) as con:
            tables = [t for (t,) in con.execute("""
                select table_schema || '.' || table_name from information_schema.tables
                where table_schema in ('raw', 'staging', 'core', 'mart', 'ops') and table_type = 'BASE TABLE'
                  and table_name not in ('load_log', 'landing_inventory') order by 1""").fetchall()]
            return {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables}

    before = everything()
    refused = [r for r in before["ops.file_manifest"] if r[0] == f"{YEAR}/students/99999Z.csv"]
    assert len(refused) == 1 and refused[0][8] == "rejected"
    assert run_load(small_landing, loaded).ok
    after = everything()
    assert {t for t in before if after[t] != before[t]} == set()
    assert len(before) > 40 and sum(map(len, before.values())) > 100


def test_correction_supersedes_and_resolves(loaded: Path, small_landing: Path):
    roster = f"{YEAR}/students/{SCHOOL_A}.csv"
    fixed = (small_landing / roster).read_text(encoding="utf-8").replace("BAD,x,y", "J130245874,x,y")
    (small_landing / roster).write_text(fixed, encoding="utf-8")
    assert run_load(small_landing, loaded).ok
    versions = _q(loaded, "select version, status, rows_quarantined from ops.file_manifest where file_path = $p "
                          "order by version", {"p": roster})
    assert versions == [(1, "superseded", 1), (2, "loaded", 0)]
    status = dict(_q(loaded, "select rule, status from ops.row_issue where rule = 'massar_code_format'"))
    assert status == {"massar_code_format": "resolved"}
    assert _indicator(loaded, "school", SCHOOL_A, "enrolled_pupils") == 4


def test_a_file_put_back_to_its_first_content_is_current_again(loaded: Path, small_landing: Path):
    """A correction, then the school sends its first file again: the landing zone holds the first
    content, so the warehouse must too (a new version, read again), not the correction."""
    attendance = f"{YEAR}/attendance/2022-10/{SCHOOL_A}.csv"

    def absences():
        return _q(loaded, "select sum(unjustified_absence_days) from core.fct_attendance where school_code = $s",
                  {"s": SCHOOL_A})[0][0]

    first = absences()
    write_files(small_landing, {attendance: ATTENDANCE_A.replace("J130245871,2,0", "J130245871,4,0")})
    assert run_load(small_landing, loaded).ok
    assert absences() == first + 2
    write_files(small_landing, {attendance: ATTENDANCE_A})
    assert run_load(small_landing, loaded).ok
    assert _q(loaded, "select version, status from ops.file_manifest where file_path = $p order by version",
              {"p": attendance}) == [(1, "superseded"), (2, "superseded"), (3, "loaded")]
    assert absences() == first
    assert _q(loaded, "select distinct file_version from staging.attendance") == [(3,)]
    assert run_load(small_landing, loaded).ok  # and nothing new the next time
    assert _q(loaded, "select max(version) from ops.file_manifest where file_path = $p", {"p": attendance}) == [(3,)]


def test_late_roster_readmits_rows(small_landing: Path, tmp_path: Path):
    db = tmp_path / "late.duckdb"
    grants = f"{YEAR}/boarding_grants/{SCHOOL_B}.csv"
    write_files(small_landing, {grants: "massar_code,grant_type,start_month,end_month\nK100000001,internat,2022-09,2022-11\n"})
    assert run_load(small_landing, db).ok
    assert _q(db, "select rows_quarantined from ops.file_manifest where file_path = $p", {"p": grants}) == [(1,)]
    write_files(small_landing, {f"{YEAR}/students/{SCHOOL_B}.csv":
                                "massar_code,last_name_ar,first_name_ar,gender,birth_date,level\n"
                                "K100000001,ب,ج,F,2010-03-01,1AC\n"})
    assert run_load(small_landing, db).ok
    # same version of the grants file, its counts changed in place, the issue resolved
    assert _q(db, "select version, rows_loaded, rows_quarantined from ops.file_manifest where file_path = $p",
              {"p": grants}) == [(1, 1, 0)]
    assert _q(db, "select status from ops.row_issue where file_path = $p", {"p": grants}) == [("resolved",)]
    assert _indicator(db, "school", SCHOOL_B, "boarding_grantees") == 1
    assert _indicator(db, "school", SCHOOL_B, "boarding_grant_mad") == 3 * 600  # Sept-Nov at 1800/3 a month


def test_same_bytes_at_another_path_is_a_duplicate(small_landing: Path, tmp_path: Path):
    src = small_landing / f"{YEAR}/canteen_meals/2022-10/{SCHOOL_A}.csv"
    write_files(small_landing, {f"{YEAR}/canteen_meals/2022-11/{SCHOOL_A}.csv": src.read_text(encoding="utf-8")})
    db = tmp_path / "dup.duckdb"
    assert run_load(small_landing, db).ok
    assert _q(db, "select status, duplicate_of from ops.file_manifest where period = '2022-11'") == [
        ("duplicate", f"{YEAR}/canteen_meals/2022-10/{SCHOOL_A}.csv")]
    assert _indicator(db, "school", SCHOOL_A, "canteen_meals_served", "2022-11") is None


def test_unknown_school_file_loads_once_the_referential_knows_it(small_landing: Path, tmp_path: Path):
    db = tmp_path / "ref.duckdb"
    roster = f"{YEAR}/students/16699A.csv"
    write_files(small_landing, {roster: "massar_code,last_name_ar,first_name_ar,gender,birth_date,level\n"
                                        "L100000001,ب,ج,M,2016-03-01,1AP\n"})
    assert run_load(small_landing, db).ok
    assert _q(db, "select status from ops.file_manifest where file_path = $p", {"p": roster}) == [("rejected",)]
    ref = small_landing / "reference/schools/2023-01-15.csv"
    ref.write_text((small_landing / "reference/schools/2022-09-01.csv").read_text(encoding="utf-8")
                   + "16699A,ECOLE C,مدرسة ج,110,1001,U,PRIMAIRE,Ecole Autonome,0,,0\n", encoding="utf-8")
    assert run_load(small_landing, db).ok
    assert _q(db, "select version, status from ops.file_manifest where file_path = $p", {"p": roster}) == [(1, "loaded")]
    assert _indicator(db, "school", "16699A", "enrolled_pupils") == 1
    # the referential is SCD2: school A kept one version, C appeared with the new snapshot
    assert _q(db, "select count(*) from core.dim_school where school_code = $c", {"c": SCHOOL_A}) == [(1,)]
    assert _q(db, "select valid_from::varchar from core.dim_school where school_code = '16699A'") == [("2023-01-15",)]


def test_every_step_is_logged_without_personal_data(loaded: Path):
    steps = _q(loaded, "select step, partition_key, detail from ops.load_log order by started_at")
    # then the publish job, over the whole warehouse: the drift of the signed units (none here), the
    # roster warnings across directorates (one directorate here: none to change)
    assert [s for s, _, _ in steps] == ["landing_inventory", "raw", "staging", "core", "mart", "approval_drift",
                                        "roster_twins"]
    assert all(p == "110|2022-2023" for s, p, _ in steps
               if s not in ("landing_inventory", "approval_drift", "roster_twins"))
    assert steps[-2][2] == "0 of 0 signed unit(s) drifting"
    assert steps[-1][2] == ("1 school year(s) reconciled (0 unchanged): 0 roster row(s) warned, 0 cleared, "
                            "in 0 directorate(s)")
    details = " ".join(d for _, _, d in steps)
    assert "students: 5 rows, 1 quarantined" in details and "published" in details
    assert "J130245871" not in details and "العلوي" not in details


def test_same_bytes_from_two_schools_both_load(small_landing: Path, tmp_path: Path):
    """A one-row canteen file can coincide byte for byte with another school's: not a resend."""
    write_files(small_landing, {
        "reference/schools/2022-09-01.csv": (small_landing / "reference/schools/2022-09-01.csv").read_text(
            encoding="utf-8") + "16699A,ECOLE C,مدرسة ج,110,1001,R,PRIMAIRE,Ecole Autonome,0,,1\n",
        f"{YEAR}/canteen_meals/2022-10/16699A.csv": "beneficiaries,meal_days,meals_served\n3,18,50\n"})
    db = tmp_path / "two.duckdb"
    assert run_load(small_landing, db).ok
    assert _q(db, "select count(*) from ops.file_manifest where period = '2022-10' and record_type = 'canteen_meals' "
                  "and status = 'loaded'") == [(2,)]
    assert _indicator(db, "province", "110", "canteen_meals_served", "2022-10") == 100


def test_reading_in_batches_gives_the_same_result(small_landing: Path, tmp_path: Path, monkeypatch):
    from warehouse.build import raw

    whole = tmp_path / "whole.duckdb"
    assert run_load(small_landing, whole).ok
    monkeypatch.setattr(raw, "READ_BATCH_FILES", 2)  # one insert every two files
    monkeypatch.setattr(raw, "READ_CHUNK_FILES", 1)
    write_files(small_landing, {f"{YEAR}/attendance/2022-11/{SCHOOL_A}.csv": ATTENDANCE_B})
    batched = tmp_path / "batched.duckdb"
    assert run_load(small_landing, batched).ok
    issues = "select file_path, row_number, rule from ops.row_issue where file_path not like '%2022-11%' order by all"
    assert _q(batched, issues) == _q(whole, issues)
    assert _q(batched, "select count(*) from ops.row_issue where file_path like '%2022-11%'") == [(1,)]
    assert _indicator(batched, "school", SCHOOL_A, "tayssir_compliant_pupils", "2022-11") == 2


def test_a_readers_rows_are_written_as_text_even_in_a_column_empty_in_the_batch(tmp_path: Path):
    """The readers hand their rows over as Parquet: a column with no value in a batch (a file
    without it) is still text there, never a type DuckDB guessed from the batch; each row carries
    the number of its file in the batch (`_file`)."""
    from warehouse.build import raw

    parts = [{"sheet": [None, None], "row_number": [2, 3], "massar_code": [None, None], "school_days": ["20", None]},
             {"sheet": [None], "row_number": [2], "massar_code": [None], "school_days": ["٢١"]}]
    target = tmp_path / "batch.parquet"
    with duckdb.connect() as con:
        raw.write_parquet(con, parts, target)
        types = dict(con.execute(f"select name, type from parquet_schema('{target}') where num_children is null")
                     .fetchall())
        rows = con.execute(f"select * from '{target}'").fetchall()
    assert types == {"_file": "INT32", "sheet": "BYTE_ARRAY", "row_number": "INT64",
                     "massar_code": "BYTE_ARRAY", "school_days": "BYTE_ARRAY"}
    assert rows == [(0, None, 2, None, "20"), (0, None, 3, None, None), (1, None, 2, None, "٢١")]


def test_each_row_gets_its_own_files_lineage_and_a_duplicates_rows_stay_out(tmp_path: Path):
    """The parent adds what is the same for all of a file's rows (path, version, school, period,
    content hash) by the row's Parquet file and its number there (`_file`): the rows of two chunks
    of files, read as the readers read them, land under their own file, a canteen file among the
    attendance files included; the rows of a file whose bytes were already loaded from another
    path do not load."""
    import hashlib

    from daam.config import load_settings
    from warehouse.build import raw
    from warehouse.schema import ensure_schema

    def attendance(codes: list[str]) -> str:
        return "massar_code,unjustified_absence_days\n" + "".join(f"{c},0\n" for c in codes)

    october = [("attendance", "A1", attendance(["J1"])),
               ("canteen_meals", "A1", "beneficiaries,meal_days,meals_served\n3,18,50\n"),
               ("attendance", "A2", attendance(["J2a", "J2b"])),
               ("attendance", "A3", attendance(["J3a", "J3b", "J3c"]))]
    november = [("attendance", "B1", attendance(["K1"])),
                ("attendance", "A2", attendance(["J2a", "J2b"])),  # A2's October bytes sent again
                ("attendance", "B3", attendance(["K3a", "K3b", "K3c"]))]
    root, folder = tmp_path / "landing", tmp_path / "parquet"
    folder.mkdir()

    def chunk(month: str, files: list[tuple[str, str, str]]) -> tuple[raw.ChunkRead, list[dict]]:
        jobs = []
        for record_type, school, text in files:
            path = f"{YEAR}/{record_type}/{month}/{school}.csv"
            write_files(root, {path: text})
            jobs.append({"file_path": path, "record_type": record_type, "school_year": YEAR, "period": month,
                         "school_code": school, "province_code": "110", "version": 1,
                         "content_sha256": hashlib.sha256(text.encode()).hexdigest()})
        return raw._read_chunk(str(root), str(folder), jobs), jobs

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_schema(con)
        batch, hashes, manifest = raw._Batch(), {}, []
        for month, files in (("2022-10", october), ("2022-11", november)):
            read, jobs = chunk(month, files)
            batch.add(read, iter(jobs), hashes, manifest)
        batch.insert(con, "load-1", load_settings())
        rows = con.execute("""select file_path, school_code, period, file_version, content_sha256,
                                     list(massar_code order by row_number), any_value(load_id)
                              from raw.attendance group by all order by all""").fetchall()
        canteen = con.execute("select file_path, school_code, meals_served from raw.canteen_meals").fetchall()
    assert [m["status"] for m in manifest] == ["loaded"] * 5 + ["duplicate", "loaded"]
    assert rows == [(f"{YEAR}/attendance/{month}/{school}.csv", school, month, 1,
                     hashlib.sha256(attendance(codes).encode()).hexdigest(), codes, "load-1")
                    for month, school, codes in [("2022-10", "A1", ["J1"]), ("2022-10", "A2", ["J2a", "J2b"]),
                                                 ("2022-10", "A3", ["J3a", "J3b", "J3c"]),
                                                 ("2022-11", "B1", ["K1"]), ("2022-11", "B3", ["K3a", "K3b", "K3c"])]]
    assert canteen == [(f"{YEAR}/canteen_meals/2022-10/A1.csv", "A1", "50")]
    assert not list(folder.iterdir())  # the Parquet files are removed once inserted


ATTENDANCE_B = "massar_code,unjustified_absence_days\nJ130245871,0\nJ130245872,4\nJ888888888,0\n"


def test_the_next_partition_read_ahead_loads_the_same_rows(small_landing: Path, tmp_path: Path, monkeypatch):
    """The second partition's files, read while the first one is staged, load exactly the rows
    they would have loaded read in their turn, under the id of the run that loads them."""
    from warehouse.build import raw, read_ahead, workers

    later = "2023-2024"
    write_files(small_landing, {
        f"{later}/students/{SCHOOL_A}.csv": ROSTER_A_LATER,
        f"{later}/attendance/2023-10/{SCHOOL_A}.csv": ATTENDANCE_A.replace("J130245871,2,0", "J130245871,1,0"),
        f"{later}/attendance/2023-11/{SCHOOL_A}.csv": ATTENDANCE_B,
        f"{later}/canteen_meals/2023-10/{SCHOOL_A}.csv": "beneficiaries,meal_days,meals_served\n3,18,50\n",
    })
    monkeypatch.setattr(workers, "PARALLEL_THRESHOLD", 1)  # the reader processes, even for a few files
    monkeypatch.setattr(raw, "READ_CHUNK_FILES", 1)
    read_ahead.counts.clear()
    ahead = tmp_path / "ahead.duckdb"
    report = run_load(small_landing, ahead)
    assert report.ok, report.failed
    assert report.partitions == [(YEAR, "110"), (later, "110")]
    assert read_ahead.counts == {"submitted": 4, "taken": 4}  # one chunk per file of 2023-2024
    assert not list(tmp_path.glob(".daam-ahead-*"))

    monkeypatch.setattr(read_ahead, "next_after", lambda scope: None)
    read_ahead.counts.clear()
    alone = tmp_path / "alone.duckdb"
    assert run_load(small_landing, alone).ok
    assert read_ahead.counts == {}
    for table in ("raw.students", "raw.attendance", "raw.canteen_meals"):
        rows = f"select * exclude (load_id) from {table} order by all"
        assert _q(ahead, rows) == _q(alone, rows), table
    assert _staged(ahead) == _staged(alone)
    assert len(_q(ahead, f"select * from raw.attendance where school_year = '{later}'")) == 7
    # each partition's rows carry the id of the run that loaded that partition
    assert _q(ahead, """select distinct r.school_year, l.partition_key from raw.attendance r
                        join ops.load_log l on l.load_id = r.load_id and l.step = 'raw' order by all""") == [
        (YEAR, f"110|{YEAR}"), (later, f"110|{later}")]
    assert _indicator(ahead, "school", SCHOOL_A, "enrolled_pupils") == 3


ROSTER_A_LATER = ROSTER_A.replace("2AP", "3AP")


def test_backfill_reloads_a_directorate_year_even_unchanged(loaded: Path, small_landing: Path, capsys):
    from pipelines.cli import main

    before = _q(loaded, "select run_id from ops.partition_load")
    assert main(["backfill", "--school-year", YEAR, "--province", "110", "--landing", str(small_landing),
                 "--warehouse", str(loaded)]) == 0
    assert "loaded 1 partition(s)" in capsys.readouterr().out
    after = _q(loaded, "select run_id from ops.partition_load")
    assert len(after) == 1 and after != before  # loaded again, by a new run
    assert _indicator(loaded, "school", SCHOOL_A, "enrolled_pupils") == 3
    assert main(["backfill", "--school-year", "2031-2032", "--landing", str(small_landing),
                 "--warehouse", str(loaded)]) == 2
    assert "2031-2032" in capsys.readouterr().err


def _staged(db: Path) -> dict[str, list]:
    """Everything staging decides, table by table: the staged rows and the open issues."""
    from daam.config import PERIOD_RECORD_TYPES

    out = {rt: _q(db, f"select * from staging.{rt} order by all") for rt in PERIOD_RECORD_TYPES}
    out["issues"] = _q(db, "select file_path, file_version, row_number, rule, raw_value, status from ops.row_issue "
                           "order by all")
    out["manifest"] = _q(db, "select file_path, version, status, rows_read, rows_loaded, rows_quarantined, "
                             "rows_warned from ops.file_manifest order by all")
    return out


def test_a_corrected_file_is_staged_alone_and_equals_a_whole_restage(loaded: Path, small_landing: Path,
                                                                      tmp_path: Path):
    import shutil

    attendance = f"{YEAR}/attendance/2022-10/{SCHOOL_A}.csv"
    write_files(small_landing, {attendance: ATTENDANCE_A.replace("J130245873,30,0", "J130245873,3,0")})
    assert run_load(small_landing, loaded).ok
    detail = _q(loaded, "select detail from ops.load_log where step = 'staging' order by finished_at desc limit 1")[0][0]
    assert "attendance: 4 rows, 1 quarantined (staged: 1 file(s))" in detail  # only the corrected file
    assert "students: 5 rows, 1 quarantined (staged: 0 file(s))" in detail  # nothing else touched
    assert _q(loaded, "select status from ops.row_issue where rule = 'absence_days_range'") == [("resolved",)]
    assert _q(loaded, "select file_version, count(*) from staging.attendance group by all") == [(2, 4)]
    # the same landing staged whole from nothing says exactly the same
    whole = tmp_path / "whole.duckdb"
    shutil.copy(loaded, whole)
    assert run_load(small_landing, whole, force=True).ok
    detail = _q(whole, "select detail from ops.load_log where step = 'staging' order by finished_at desc limit 1")[0][0]
    assert "attendance: 4 rows, 1 quarantined (staged: whole)" in detail
    incremental, restaged = _staged(loaded), _staged(whole)
    for table, rows in incremental.items():
        assert rows == restaged[table], table
    assert _q(loaded, "select version, rows_loaded, rows_quarantined from ops.file_manifest where file_path = $p "
                      "and status = 'loaded'", {"p": attendance}) == [(2, 3, 1)]


def test_a_rescan_reads_only_new_or_changed_files(loaded: Path, small_landing: Path, monkeypatch):
    from daam.landing import inventory

    read = []
    real = inventory.sha256_of
    monkeypatch.setattr(inventory, "sha256_of", lambda path, *a: read.append(path.name) or real(path, *a))
    assert run_load(small_landing, loaded).ok
    assert read == []  # nothing changed: size and time say so, no file is read again
    write_files(small_landing, {f"{YEAR}/canteen_meals/2022-11/{SCHOOL_A}.csv":
                                "beneficiaries,meal_days,meals_served\n3,18,51\n"})
    assert run_load(small_landing, loaded).ok
    assert read == [f"{SCHOOL_A}.csv"]
    assert _indicator(loaded, "school", SCHOOL_A, "canteen_meals_served", "2022-11") == 51
    # same size, its old modification time put back (a copy that keeps times): read again all the same
    october = small_landing / f"{YEAR}/canteen_meals/2022-10/{SCHOOL_A}.csv"
    before = october.stat()
    october.write_text(october.read_text(encoding="utf-8").replace("3,18,50", "3,18,40"), encoding="utf-8")
    os.utime(october, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert october.stat().st_size == before.st_size and october.stat().st_mtime_ns == before.st_mtime_ns
    read.clear()
    assert run_load(small_landing, loaded).ok
    assert read == [f"{SCHOOL_A}.csv"]
    assert _indicator(loaded, "school", SCHOOL_A, "canteen_meals_served", "2022-10") == 40


def test_a_rescan_writes_only_the_inventory_rows_of_files_that_changed(loaded: Path, small_landing: Path,
                                                                        tmp_path: Path):
    """ops.landing_inventory is written as a difference (a nation's 200,000 rows rewritten at every
    scan made its commit checkpoint the warehouse): a file unchanged keeps its row, time of first
    sighting included; a changed, new or removed file's row follows the landing zone; and the
    result equals the inventory of a warehouse that scanned the same zone from nothing."""
    inventory = "select * from ops.landing_inventory order by file_path"
    first = _q(loaded, inventory)
    assert run_load(small_landing, loaded).ok
    assert _q(loaded, inventory) == first  # scanned_at included: nothing was rewritten

    changed, added = f"{YEAR}/canteen_meals/2022-10/{SCHOOL_A}.csv", f"{YEAR}/canteen_meals/2022-11/{SCHOOL_A}.csv"
    removed = f"{YEAR}/boarding_grants/{SCHOOL_B}.csv"
    assert changed in {r[0] for r in first} and removed in {r[0] for r in first}
    write_files(small_landing, {changed: "beneficiaries,meal_days,meals_served\n3,18,41\n",
                                added: "beneficiaries,meal_days,meals_served\n3,17,48\n"})
    (small_landing / removed).unlink()
    assert run_load(small_landing, loaded).ok
    after = {r[0]: r for r in _q(loaded, inventory)}
    before = {r[0]: r for r in first}
    assert set(after) == set(before) - {removed} | {added}
    assert {path for path in after if path in before and after[path] != before[path]} == {changed}
    scanned = [c for (c,) in _q(loaded, "select column_name from information_schema.columns where "
                                        "table_name = 'landing_inventory' order by ordinal_position")].index("scanned_at")
    assert after[changed][scanned] > before[changed][scanned]

    fresh = tmp_path / "fresh.duckdb"
    assert run_load(small_landing, fresh).ok
    without_time = "select * exclude (scanned_at) from ops.landing_inventory order by file_path"
    assert _q(loaded, without_time) == _q(fresh, without_time)
    assert len(after) == len(first) > 5


def test_readers_folder_is_the_warehouses_own_and_goes_away(tmp_path: Path):
    from warehouse.build.raw import chunk_folder

    db = tmp_path / "w.duckdb"
    stale, other = tmp_path / ".daam-raw-w.duckdb-killed", tmp_path / ".daam-raw-x.duckdb-running"
    stale.mkdir()
    other.mkdir()
    with duckdb.connect(str(db)) as con, chunk_folder(con) as folder:
        assert folder.parent == tmp_path and folder.name.startswith(".daam-raw-w.duckdb-")
        assert (folder.stat().st_mode & 0o777) == 0o700
        assert not stale.exists() and other.exists()  # a killed load of this warehouse, not another's
    assert not folder.exists()


def test_the_partition_runs_share_one_connection_and_a_failed_step_opens_a_new_one(
        small_landing: Path, tmp_path: Path, monkeypatch):
    """The steps of a load's partition runs share one connection to the warehouse (no open and
    checkpoint per step); a step that fails closes it, its partition is reported, and the next
    partition opens the file again and loads. The write-ahead log, which holds the committed steps
    until DuckDB checkpoints it, is private like the warehouse."""
    from assets import resources
    from warehouse.build import mart

    later = "2023-2024"
    write_files(small_landing, {f"{later}/students/{SCHOOL_A}.csv": ROSTER_A_LATER,
                                f"{later}/attendance/2023-10/{SCHOOL_A}.csv": ATTENDANCE_B})
    db = tmp_path / "w.duckdb"
    opened_held, wal_modes = [], []
    real_open, real_mart = resources._open, mart.build

    def counting_open(*args, **kwargs):
        if resources._held:  # inside the partition loop
            opened_held.append(args[0])
        return real_open(*args, **kwargs)

    def mart_then_look_at_the_log(con, scope, run_id):
        built = real_mart(con, scope, run_id)
        wal = Path(f"{db}.wal")
        wal_modes.append(wal.stat().st_mode & 0o777 if wal.exists() else None)
        return built

    monkeypatch.setattr(resources, "_open", counting_open)
    fail_core(monkeypatch, lambda scope: scope.school_year == YEAR)
    monkeypatch.setattr(mart, "build", mart_then_look_at_the_log)
    report = run_load(small_landing, db)
    assert report.partitions == [(YEAR, "110"), (later, "110")]
    assert len(report.failed) == 1 and report.failed[0].startswith(f"{YEAR}/110: core_facts")
    # one opening for the first partition's raw and staging, one after core failed for the second
    # partition's four steps (a step each: 8 openings)
    assert opened_held == [str(db), str(db)]
    assert wal_modes == [0o600]  # the second partition's commits, not yet checkpointed
    assert not Path(f"{db}.wal").exists()  # checkpointed as the load ended
    assert _q(db, "select step, partition_key from ops.load_log where partition_key is not null "
                  "order by started_at") == [("raw", f"110|{YEAR}"), ("staging", f"110|{YEAR}"),
                                            ("raw", f"110|{later}"), ("staging", f"110|{later}"),
                                            ("core", f"110|{later}"), ("mart", f"110|{later}")]
    assert _indicator(db, "school", SCHOOL_A, "enrolled_pupils") is None  # 2022-2023: no facts, no mart
    assert _q(db, "select count(*) from core.fct_attendance where school_year = $y", {"y": later}) == [(2,)]
