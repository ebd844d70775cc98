"""De-duplication on a hand-built warehouse: every expected row is computed by hand below."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from daam.arabic import normalise_name
from pipelines.load import run_load
from tests.conftest import write_files
from warehouse.build.ops import build_dedup
from warehouse.follow_up import set_review
from warehouse.schema import ensure_schema

YEAR = "2022-2023"
MONTHS = ["2022-09", "2022-10", "2022-11", "2022-12", "2023-01", "2023-02", "2023-03", "2023-04", "2023-05",
          "2023-06"]
# school -> (directorate, commune, when its roster arrived)
SCHOOLS = {
    "10001A": ("110", "C1", datetime(2022, 9, 20)),
    "10002B": ("110", "C1", datetime(2022, 9, 10)),
    "20003C": ("220", "C2", datetime(2023, 1, 15)),
    "20004D": ("220", "C2", datetime(2022, 9, 12)),
}
S1, S2, S3, S4 = SCHOOLS
# massar code -> (last name, first name, birth date, birth place, guardian CIN, gender, rosters)
PUPILS = {
    "J100000001": ("التازي", "ياسين", date(2015, 3, 1), None, "K999001", "M", [S1, S3]),  # transfer, 2 directorates
    "J100000002": ("بنعلي", "مريم", date(2014, 6, 1), None, "K999002", "F", [S1, S2]),  # Tayssir at both
    "J100000003": ("الحسني", "أيوب", date(2016, 1, 10), None, "AB12345", "M", [S1]),  # siblings ...
    "J100000004": ("الحسني", "هبة", date(2012, 2, 20), None, "AB12345", "F", [S3]),  # ... in two directorates
    "J100000005": ("الإدريسي", "فاطمة الزهراء", date(2014, 5, 3), "الناظور", "C100005", "F", [S1]),  # fuzzy:
    "J100000006": ("الادريسي", "فاطمه الزهراء", date(2014, 5, 3), "النّاظور", "C100006", "F", [S2]),  # ة / ه
    "J100000007": ("العلوي", "عبد الله", date(2015, 2, 1), None, "D100007", "M", [S3]),  # fuzzy: عبد الله
    "J100000008": ("العلوي", "عبدالله", date(2015, 2, 1), None, "D100007", "M", [S4]),  # / عبدالله
    "J100000009": ("أمزيان", "إبراهيم", date(2013, 1, 1), None, None, "M", [S1]),  # fuzzy: alef hamza
    "J100000010": ("امزيان", "ابراهيم", date(2013, 1, 1), None, None, "M", [S2]),
    "J100000011": ("بناني", "سلمى", date(2014, 1, 1), None, "E1", "F", [S1]),  # same name, other birth date
    "J100000012": ("بناني", "سلمى", date(2014, 1, 2), None, "E2", "F", [S2]),
    "J100000013": ("الشرقاوي", "يوسف", date(2012, 3, 3), None, None, "M", [S1]),  # same name, other commune
    "J100000014": ("الشرقاوي", "يوسف", date(2012, 3, 3), None, None, "M", [S3]),
}
# (massar code, school, month) of attendance rows
ATTENDANCE = [("J100000001", S1, "2022-10"), ("J100000001", S1, "2022-11"), ("J100000001", S3, "2023-02"),
              ("J100000001", S1, "2023-03"), ("J100000001", S3, "2023-03"), ("J100000002", S2, "2022-10")]
# (massar code, school, month, is_active)
TAYSSIR = [("J100000002", S1, "2022-09", True), ("J100000002", S1, "2022-10", True),
           ("J100000002", S1, "2022-11", True), ("J100000002", S2, "2022-09", False),
           ("J100000002", S2, "2022-10", True), ("J100000002", S2, "2022-11", True),
           ("J100000003", S1, "2022-10", True), ("J100000004", S3, "2022-10", False)]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    con.register("rows_frame", frame)
    con.execute(f"insert into {table} by name select * from rows_frame")
    con.unregister("rows_frame")


def _identity_rows(code: str, school: str) -> dict:
    last, first, born, place, cin, _, _ = PUPILS[code]
    return {"massar_code": code, "last_name_ar": last, "first_name_ar": first, "birth_date": born,
            "birth_place": place, "guardian_cin": cin, "school_year": YEAR, "province_code": SCHOOLS[school][0],
            "school_code": school}


def add_identity(con: duckdb.DuckDBPyConnection, code: str, school: str) -> None:
    _insert(con, "core.pupil_identity", [_identity_rows(code, school)])
    con.execute("update core.pupil_identity set pupil_key = core.pupil_key(massar_code) where pupil_key is null")


@pytest.fixture
def con():
    con = duckdb.connect()
    ensure_schema(con)
    _insert(con, "core.dim_date", [{"date_key": 20220901, "date": date(2022, 9, 1), "month": "2022-09",
                                    "school_year": YEAR, "school_month_rank": 1}])
    _insert(con, "core.dim_school", [
        {"school_key": i, "school_code": s, "province_code": p, "commune_code": c, "valid_from": date(2022, 9, 1),
         "is_current": True} for i, (s, (p, c, _)) in enumerate(SCHOOLS.items())])
    _insert(con, "ops.file_manifest", [
        {"file_path": f"{YEAR}/students/{s}.csv", "record_type": "students", "school_year": YEAR, "school_code": s,
         "province_code": p, "content_sha256": s, "version": 1, "status": "loaded", "received_at": at,
         "loaded_at": datetime(2023, 6, 30)} for s, (p, _, at) in SCHOOLS.items()])
    enrolment, identity = [], []
    for code, (*_, gender, rosters) in PUPILS.items():
        for school in rosters:
            enrolment.append({"school_year": YEAR, "province_code": SCHOOLS[school][0], "school_code": school,
                              "massar_code": code, "gender": gender, "file_path": f"{YEAR}/students/{school}.csv",
                              "file_version": 1})
            identity.append(_identity_rows(code, school))
    con.register("enrolment_frame", pd.DataFrame(enrolment))
    con.execute("""insert into core.fct_enrolment by name
                   select * exclude (massar_code), core.pupil_key(massar_code) as pupil_key from enrolment_frame""")
    # the accepted roster rows those facts come from: where core.pupil_listing sees rosters
    con.execute("""insert into staging.students by name
                   select school_year, province_code, school_code, massar_code, false as is_quarantined,
                          false as is_duplicate_copy from enrolment_frame""")
    con.execute("""insert into core.dim_pupil by name
                   select distinct core.pupil_key(massar_code) as pupil_key, gender from enrolment_frame""")
    _insert(con, "core.pupil_identity", identity)
    con.execute("update core.pupil_identity set pupil_key = core.pupil_key(massar_code)")
    con.register("attendance_frame", pd.DataFrame(ATTENDANCE, columns=["massar_code", "school_code", "month"]))
    con.execute("""insert into core.fct_attendance by name
                   select $y as school_year, core.pupil_key(massar_code) as pupil_key, school_code, month
                   from attendance_frame""", {"y": YEAR})
    con.register("tayssir_frame", pd.DataFrame(TAYSSIR, columns=["massar_code", "school_code", "month", "is_active"]))
    con.execute("""insert into core.fct_tayssir_month by name
                   select $y as school_year, core.pupil_key(massar_code) as pupil_key, school_code, month, is_active
                   from tayssir_frame""", {"y": YEAR})
    con.execute("update core.fct_tayssir_month t set province_code = s.province_code from core.dim_school s "
                "where s.school_code = t.school_code")
    yield con
    con.close()


def key(con: duckdb.DuckDBPyConnection, code: str) -> int:
    return con.execute("select core.pupil_key($c)", {"c": code}).fetchone()[0]


def guardian(con: duckdb.DuckDBPyConnection, cin: str) -> int:
    return con.execute("select core.guardian_key($c)", {"c": cin}).fetchone()[0]


def candidates(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, int], tuple]:
    rows = con.execute("""select pupil_key_a, pupil_key_b, school_year, school_code_a, school_code_b, commune_code,
                                 evidence, state, resolved_at is not null from ops.duplicate_candidate""").fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def pair(con: duckdb.DuckDBPyConnection, one: str, other: str, commune: str, evidence: str,
         state: str = "needs_review", resolved: bool = False) -> tuple[tuple[int, int], tuple]:
    """The expected candidate row of two pupils (ordered by pupil key)."""
    (ka, a), (kb, b) = sorted([(key(con, one), one), (key(con, other), other)])
    return (ka, kb), (YEAR, PUPILS[a][6][0], PUPILS[b][6][0], commune, evidence, state, resolved)


def test_pupil_in_two_schools_with_holding_school(con):
    counts = build_dedup(con, YEAR)
    rows = con.execute("""select kind, month, pupil_key, schools, school_codes, province_codes, crosses_directorates,
                                 attendance_schools, holding_school_code, holding_province_code, holding_basis
                          from mart.pupil_in_two_schools where school_year = $y order by all""", {"y": YEAR}).fetchall()
    p1, p2 = key(con, "J100000001"), key(con, "J100000002")
    # P1 moved from S1 (directorate 110) to S3 (220); S3's roster arrived last (January)
    holder_p1 = {"2022-10": (1, S1, "attendance"), "2022-11": (1, S1, "attendance"),
                 "2023-02": (1, S3, "attendance"), "2023-03": (2, S3, "attendance+latest_roster")}
    # P2 on S1 and S2 (both 110); S1's roster arrived after S2's
    holder_p2 = {"2022-10": (1, S2, "attendance")}
    expected = []
    for month in MONTHS:
        n, school, basis = holder_p1.get(month, (0, S3, "latest_roster"))
        expected.append(("roster", month, p1, 2, [S1, S3], ["110", "220"], True, n, school,
                         SCHOOLS[school][0], basis))
        n, school, basis = holder_p2.get(month, (0, S1, "latest_roster"))
        expected.append(("roster", month, p2, 2, [S1, S2], ["110", "110"], False, n, school, "110", basis))
    # Tayssir: active at both schools in October and November only (S2 from October)
    expected.append(("tayssir", "2022-10", p2, 2, [S1, S2], ["110", "110"], False, 1, S2, "110", "attendance"))
    expected.append(("tayssir", "2022-11", p2, 2, [S1, S2], ["110", "110"], False, 0, S1, "110", "latest_roster"))
    assert rows == sorted(expected)
    assert counts["pupils_on_two_rosters"] == 2
    assert counts["pupil_months_on_two_tayssir_lists"] == 2 and counts["pupils_on_two_tayssir_lists"] == 1
    assert counts["pupils_across_directorates"] == 1


def test_households_by_hashed_guardian_cin(con):
    counts = build_dedup(con, YEAR)
    rows = con.execute("""select guardian_key, children, schools, directorates, tayssir_beneficiaries
                          from mart.household where school_year = $y""", {"y": YEAR}).fetchall()
    assert {r[0]: r[1:] for r in rows} == {
        guardian(con, "AB12345"): (2, 2, 2, 1),  # siblings at S1 and S3, the younger on Tayssir
        guardian(con, "D100007"): (2, 2, 1, 0),  # at S3 and S4
        guardian(con, "K999001"): (1, 2, 2, 0),  # one child on two rosters
        guardian(con, "K999002"): (1, 2, 1, 1),
        guardian(con, "C100005"): (1, 1, 1, 0),
        guardian(con, "C100006"): (1, 1, 1, 0),
        guardian(con, "E1"): (1, 1, 1, 0),
        guardian(con, "E2"): (1, 1, 1, 0),
    }  # no household for the pupils without a CIN
    members = con.execute("""select pupil_key, school_code, province_code, is_tayssir_beneficiary
                             from mart.household_member where guardian_key = $g order by school_code""",
                          {"g": guardian(con, "AB12345")}).fetchall()
    assert members == [(key(con, "J100000003"), S1, "110", True), (key(con, "J100000004"), S3, "220", False)]
    assert counts["households"] == 8 and counts["households_across_schools"] == 4
    assert counts["households_across_directorates"] == 2
    # the key ignores spaces and case, as a CIN is sometimes typed
    assert guardian(con, " ab 12345") == guardian(con, "AB12345") != guardian(con, "AB12346")


def test_fuzzy_candidates_and_review_kept(con):
    counts = build_dedup(con, YEAR)
    expected = dict([
        pair(con, "J100000005", "J100000006", "C1", "name, birth_date, commune, gender, birth_place"),
        pair(con, "J100000007", "J100000008", "C2", "name, birth_date, commune, gender, guardian_cin"),
        pair(con, "J100000009", "J100000010", "C1", "name, birth_date, commune, gender"),
    ])
    assert candidates(con) == expected  # not 11/12 (birth dates differ), not 13/14 (communes differ)
    assert counts["candidates_open"] == counts["candidates_new"] == counts["candidates_needs_review"] == 3

    # a reviewer decides; the next computation keeps the decision
    (a, b), _ = pair(con, "J100000007", "J100000008", "C2", "")
    assert set_review(con, YEAR, b, a, "unique", "reviewer@dp110", "twins? no: checked birth certificates")
    again = build_dedup(con, YEAR)
    expected[(a, b)] = (*expected[(a, b)][:5], "unique", False)
    assert candidates(con) == expected
    assert again["candidates_new"] == 0 and again["candidates_resolved"] == 0
    assert again["candidates_needs_review"] == 2
    reviewed = con.execute("select reviewed_by, note from ops.duplicate_candidate where pupil_key_a = $a",
                           {"a": a}).fetchone()
    assert reviewed == ("reviewer@dp110", "twins? no: checked birth certificates")
    with pytest.raises(ValueError):
        set_review(con, YEAR, a, b, "maybe", "x")
    with pytest.raises(duckdb.ConstraintException):
        con.execute("update ops.duplicate_candidate set state = 'maybe'")

    # pupil 10 leaves the rosters (its pair is resolved, never deleted) and a corrected birth date makes
    # pupils 11 and 12 alike (a new pair)
    con.execute("delete from core.pupil_identity where massar_code = 'J100000010'")
    con.execute("update core.pupil_identity set birth_date = '2014-01-01' where massar_code = 'J100000012'")
    third = build_dedup(con, YEAR)
    nine_ten, row = pair(con, "J100000009", "J100000010", "C1", "name, birth_date, commune, gender")
    expected[nine_ten] = (*row[:6], True)
    expected.update([pair(con, "J100000011", "J100000012", "C1", "name, birth_date, commune, name_as_written, gender")])
    assert candidates(con) == expected
    assert third["candidates_new"] == 1 and third["candidates_resolved"] == 1 and third["candidates_open"] == 3

    # back again: no longer resolved, the same row
    add_identity(con, "J100000010", S2)
    build_dedup(con, YEAR)
    expected[nine_ten] = (*row[:6], False)
    assert candidates(con) == expected
    assert con.execute("select count(*) from ops.duplicate_candidate").fetchone()[0] == 4


def test_rerun_is_idempotent(con):
    build_dedup(con)  # every school year in core
    tables = ("mart.pupil_in_two_schools", "mart.household", "mart.household_member")
    before = {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables}
    pairs = con.execute("select * exclude (last_seen_at) from ops.duplicate_candidate order by all").fetchall()
    build_dedup(con, YEAR)
    assert {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables} == before
    assert con.execute("select * exclude (last_seen_at) from ops.duplicate_candidate order by all").fetchall() == pairs


def test_no_personal_data_in_dedup_tables(con):
    build_dedup(con, YEAR)
    secrets = set()
    for code, (last, first, born, place, cin, *_) in PUPILS.items():
        secrets |= {code, last, first, normalise_name(last), normalise_name(first), born.isoformat()}
        secrets |= {s for s in (place, cin) if s}
    for table in ("mart.pupil_in_two_schools", "mart.household", "mart.household_member", "ops.duplicate_candidate"):
        assert con.execute(f"select count(*) from {table}").fetchone()[0] > 0
        for row in con.execute(f"select * from {table}").fetchall():
            text = " ".join(map(str, row))
            assert not [s for s in secrets if s in text], table
    assert con.execute("""select count(*) from duckdb_tables()
                          where temporary and table_name like 'dedup_%'""").fetchone()[0] == 0


# --- the same on a warehouse loaded from files -------------------------------------------------

REFERENTIAL = (
    "CD_ETAB,NOM_ETABL,NOM_ETABA,CD_PROV,cd_com,CD_MIL,LL_CYCLE\n"
    "16698Z,ECOLE A,مدرسة أ,110,1001,R,PRIMAIRE\n"
    "16699A,ECOLE C,مدرسة ج,110,1001,R,PRIMAIRE\n"
)
HEADER = "massar_code,last_name_ar,first_name_ar,gender,birth_date,level,guardian_cin\n"
LANDING = {
    "reference/schools/2022-09-01.csv": REFERENTIAL,
    f"{YEAR}/students/16698Z.csv": HEADER + "J130245871,العلوي,محمد,M,2015-02-01,2AP,S123456\n"
                                            "J130245872,الإدريسي,فاطمة الزهراء,F,2014-05-03,3AP,S123456\n",
    f"{YEAR}/students/16699A.csv": HEADER + "J130245871,العلوي,محمد,M,2015-02-01,2AP,S123456\n"
                                            "J130245879,الادريسي,فاطمه الزهراء,F,2014-05-03,3AP,AB12345\n",
    f"{YEAR}/tayssir_beneficiaries/16698Z.csv": "massar_code,guardian_cin\nJ130245871,S123456\n",
    f"{YEAR}/tayssir_beneficiaries/16699A.csv": "massar_code,guardian_cin\nJ130245871,S123456\n",
    f"{YEAR}/attendance/2022-10/16699A.csv": "massar_code,unjustified_absence_days\nJ130245871,1\n",
}


def test_on_a_loaded_warehouse(tmp_path: Path):
    write_files(tmp_path / "landing", LANDING)
    db = tmp_path / "w.duckdb"
    assert run_load(tmp_path / "landing", db).ok
    with duckdb.connect(str(db)) as con:
        ensure_schema(con)  # binds the pseudonym secret: the dedup computes guardian keys
        counts = build_dedup(con)
        assert counts["school_years"] == 1 and counts["pupils_on_two_rosters"] == 1
        assert counts["pupil_months_on_two_tayssir_lists"] == 10  # active at both schools all year
        october = con.execute("""select kind, holding_school_code, holding_basis from mart.pupil_in_two_schools
                                 where month = '2022-10' order by kind""").fetchall()
        assert october == [("roster", "16699A", "attendance"), ("tayssir", "16699A", "attendance")]
        # J130245871 (on both rosters) and J130245872 share a guardian
        assert con.execute("select children, schools from mart.household where children > 1").fetchall() == [(2, 2)]
        assert con.execute("select evidence, state from ops.duplicate_candidate").fetchall() == [
            ("name, birth_date, commune, gender", "needs_review")]


# The one definition of a pupil at two schools, on the listing's pupil keys: what
# core.pupils_at_two_schools must return (rosters are matched there on the Massar code instead).
LISTING_DEFINITION = """
    with mine as (
        select distinct pupil_key, coalesce(month, '') as month_key from core.pupil_listing
        where school_year = $y and source = $s and ($p is null or province_code = $p)
    ), listed as (
        select l.* from core.pupil_listing l
        semi join mine m on m.pupil_key = l.pupil_key and m.month_key = coalesce(l.month, '')
        where l.school_year = $y and l.source = $s
    )
    select school_year, source, month, pupil_key, count(distinct school_code) as schools,
           list(distinct school_code order by school_code) as school_codes
    from listed group by all having count(distinct school_code) > 1 order by all"""


def test_pupils_at_two_schools_equals_the_listing_definition(con):
    # rows that must not count: quarantined, a duplicate copy, another year
    con.execute("""insert into staging.students by name
        select * from (values ($y, '110', '10002B', 'J100000003', true, false),
                              ($y, '220', '20004D', 'J100000003', false, true),
                              ('2021-2022', '110', '10002B', 'J100000005', false, false))
          t(school_year, province_code, school_code, massar_code, is_quarantined, is_duplicate_copy)""",
                {"y": YEAR})
    # P3 attended S1 (110) in October, then both schools of 220 in December: a pupil at two schools
    # for 220, not for 110, which does not list P3 that month
    con.execute("insert into core.fct_attendance by name select $y as school_year, core.pupil_key(c) as pupil_key, "
                "s as school_code, m as month from (values ('J100000003', $s1, '2022-10'), "
                "('J100000003', $s3, '2022-12'), ('J100000003', $s4, '2022-12')) t(c, s, m)",
                {"y": YEAR, "s1": S1, "s3": S3, "s4": S4})
    con.execute("update core.fct_attendance a set province_code = s.province_code from core.dim_school s "
                "where s.school_code = a.school_code")
    seen = {}
    for source in ("roster", "attendance", "tayssir"):
        for province in (None, "110", "220"):
            params = {"y": YEAR, "s": source, "p": province}
            got = con.execute("select * from core.pupils_at_two_schools($y, $s, $p) order by all", params).fetchall()
            assert got == con.execute(LISTING_DEFINITION, params).fetchall(), (source, province)
            seen[source, province] = len(got)
    p1, p2 = key(con, "J100000001"), key(con, "J100000002")
    assert con.execute("select pupil_key, school_codes from core.pupils_at_two_schools($y, 'roster', '220')",
                       {"y": YEAR}).fetchall() == [(p1, [S1, S3])]
    assert sorted(con.execute("select pupil_key from core.pupils_at_two_schools($y, 'roster', null)",
                              {"y": YEAR}).fetchall()) == sorted([(p1,), (p2,)])
    # P1 on S1 and S3 (110, 220), P2 on S1 and S2 (110); P1 attended S1 and S3 in 2023-03, P3 S3 and S4
    # in 2022-12 (220 only); P2 active on both Tayssir lists of 110 in October and November
    assert seen == {("roster", None): 2, ("roster", "110"): 2, ("roster", "220"): 1,
                    ("attendance", None): 2, ("attendance", "110"): 1, ("attendance", "220"): 2,
                    ("tayssir", None): 2, ("tayssir", "110"): 2, ("tayssir", "220"): 0}
