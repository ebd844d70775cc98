"""Each rule of the catalogue, on rows built to break it (and rows built not to)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from daam.config import load_settings
from quality_checks.catalogue import rules
from quality_checks.suites import build_suite
from warehouse.build.staging import evaluate, stage_batch
from warehouse.schema import ensure_schema

S = load_settings()
YEAR, PROVINCE, SCHOOL = "2022-2023", "110", "16698Z"


@pytest.fixture
def con():
    c = duckdb.connect()
    ensure_schema(c, S)
    c.execute("""insert into core.dim_school (school_key, school_code, province_code, has_boarding, has_canteen,
                 valid_from, is_current) values (1, '16698Z', '110', false, true, date '2022-09-01', true)""")
    c.execute("""insert into staging.students (school_year, province_code, school_code, massar_code,
                 is_quarantined, is_warned, is_duplicate_copy)
                 values ('2022-2023', '110', '16698Z', 'J100000001', false, false, false),
                        ('2022-2023', '110', '16698Z', 'J100000009', true, false, false),
                        ('2022-2023', '111', '16701C', 'J100000002', false, false, false),
                        -- a stale row of the partition being re-staged: must not count as a second roster
                        ('2022-2023', '110', '16699A', 'J100000001', false, false, false)""")
    yield c
    c.close()


def raw(rows: list[dict], period: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(rows).astype("string")
    frame["file_path"] = "f.csv"
    frame["file_version"] = 1
    frame["sheet"] = None
    frame["row_number"] = range(2, len(rows) + 2)
    lineage = {"school_year": YEAR, "province_code": PROVINCE, "school_code": SCHOOL, "period": period}
    for col, value in lineage.items():
        if col not in frame:  # the referential's own columns are content, not lineage
            frame[col] = value
    return frame


def issues_of(con, record_type: str, rows: list[dict], period: str | None = None) -> dict[int, set[str]]:
    """The rules the rows break, staged as one batch of the partition (a roster replaces the
    partition's staged roster rows, as re-staging does)."""
    if record_type == "schools":
        issues = evaluate(con, record_type, raw(rows, period), S, None, None)
    else:
        if record_type == "students":
            con.execute("delete from staging.students where school_year = $y and province_code = $p",
                        {"y": YEAR, "p": PROVINCE})
        issues = stage_batch(con, record_type, raw(rows, period), S, YEAR, PROVINCE)
    out: dict[int, set[str]] = {}
    for row_id, rule in zip(issues["_row_id"], issues["rule"]):
        out.setdefault(int(row_id) + 2, set()).add(rule)  # back to the CSV line number
    return out


STUDENT = {"massar_code": "J100000001", "last_name_ar": "العلوي", "first_name_ar": "محمد", "gender": "ذكر",
           "birth_date": "01/02/2015", "level": "2AP"}


def test_students_rules(con):
    rows = [
        STUDENT,                                                        # 2: clean
        {**STUDENT, "massar_code": "J10000002"},                        # 3: 9 characters
        {**STUDENT, "massar_code": "J100000003", "gender": "X"},        # 4
        {**STUDENT, "massar_code": "J100000004", "level": "7AP"},       # 5
        {**STUDENT, "massar_code": "J100000005", "birth_date": "31/02/2015"},  # 6
        {**STUDENT, "massar_code": "J100000006", "first_name_ar": " "},        # 7
        {**STUDENT, "massar_code": "J100000007", "birth_date": "2003-01-01"},  # 8: 19 years old in 2AP
        {**STUDENT, "massar_code": "J100000008", "repeating": "peut-être"},    # 9
        {**STUDENT, "massar_code": "J10000001١", "level": "1APIC-3", "birth_date": "2010-05-05",
         "guardian_cin": "1234"},                                       # 10: Arabic-Indic digit ok, CIN bad
        {**STUDENT, "massar_code": "J100000002"},                       # 11: also on school 16701C's roster
        {**STUDENT, "massar_code": "J100000012", "birth_date": "2014-13-45"},  # 12: ISO-shaped, no such date
    ]
    got = issues_of(con, "students", rows)
    assert got == {
        3: {"massar_code_format"}, 4: {"gender_unknown"}, 5: {"level_unknown"}, 6: {"date_invalid"},
        7: {"required_value_missing"}, 8: {"age_level_mismatch"}, 9: {"vocabulary_unknown"},
        10: {"cin_format"}, 11: {"pupil_on_two_rosters"}, 12: {"date_invalid"},
    }


def test_duplicate_keys(con):
    rows = [STUDENT, STUDENT, {**STUDENT, "massar_code": "J100000002"},
            {**STUDENT, "massar_code": "J100000002", "gender": "F"}]
    got = issues_of(con, "students", rows)
    assert got[3] == {"duplicate_key_identical"}  # the copy; the first row stays clean
    assert 2 not in got
    assert got[4] == {"duplicate_key_conflict"} and got[5] == {"duplicate_key_conflict"}


def test_attendance_rules(con):
    rows = [
        {"massar_code": "J100000001", "unjustified_absence_days": "3", "justified_absence_days": "1"},   # 2 clean
        {"massar_code": "J100000001", "unjustified_absence_days": "15", "justified_absence_days": "5"},  # 3
        {"massar_code": "J100000002", "unjustified_absence_days": "0"},                                  # 4
        {"massar_code": "J100000009", "unjustified_absence_days": "-1"},                                 # 5
        {"massar_code": "J100000001", "unjustified_absence_days": "trois"},                              # 6
        {"massar_code": "J100000001", "unjustified_absence_days": "٢", "school_days": "1"},              # 7
    ]
    got = issues_of(con, "attendance", rows, period="2022-10")
    assert got == {
        2: {"duplicate_key_conflict"}, 3: {"duplicate_key_conflict", "absence_days_range"},
        4: {"pupil_not_on_roster"},      # on another school's roster only
        5: {"pupil_not_on_roster", "number_negative"},  # its roster row is quarantined
        6: {"number_invalid", "duplicate_key_conflict"},
        7: {"absence_days_range", "duplicate_key_conflict"},
    }


def test_schoolbags_and_grants(con):
    bags = issues_of(con, "schoolbags", [
        {"level": "1AP", "enrolled": "30", "eligible": "30", "kit_type": "محفظة كاملة", "kits_requested": "31"},
        {"level": "2AP", "enrolled": "30", "eligible": "30", "kit_type": "sac", "kits_requested": "30"},
    ])
    assert bags == {2: {"kits_requested_above_eligible"}, 3: {"vocabulary_unknown"}}
    grants = issues_of(con, "boarding_grants", [
        {"massar_code": "J100000001", "grant_type": "منحة كاملة", "start_month": "2022-09"},
        {"massar_code": "J100000001", "grant_type": "cantine", "start_month": "2023-07"},
    ])
    assert grants == {2: {"grant_without_facility", "duplicate_key_conflict"},
                      3: {"month_outside_school_year", "duplicate_key_conflict"}}


def test_payments_month_and_amount(con):
    got = issues_of(con, "tayssir_payments", [
        {"payment_ref": "P1", "guardian_cin": "S123456", "massar_code": "J100000002", "period_from": "شتنبر 2022",
         "period_to": "2022-11", "amount_mad": "180,50", "status": "صرف"},
        {"payment_ref": "P2", "guardian_cin": "S123456", "massar_code": "J100000001", "period_from": "soon",
         "period_to": "2022-11", "amount_mad": "180", "status": "paid"},
    ])
    # J100000002 is on a roster of province 111 only, not 110
    assert got == {2: {"pupil_not_on_roster"}, 3: {"month_invalid"}}


def test_referential_rules(con):
    base = {"school_code": "16698Z", "name_fr": "E", "name_ar": "م", "province_code": "110", "commune_code": "1",
            "milieu": "R", "cycle": "PRIMAIRE"}
    got = issues_of(con, "schools", [base, {**base, "school_code": "16698A"}, {**base, "school_code": "16697Y",
                                                                               "nature": "Ecole pilote"},
                                     {**base, "school_code": "16696X", "province_code": "999"}])
    assert got == {3: {"school_code_check_letter"}, 4: {"referential_value_unknown"}, 5: {"province_code_format"}}


def test_every_catalogue_rule_has_an_enforcer():
    """Every rule id is enforced by a suite expectation or an SQL rule, and nothing else is."""
    gx_rules = {
        exp.meta["rule"]
        for rt in S.record_types.values()
        for exp in build_suite(rt, S, YEAR).expectations
    }
    sql_rules = {r for r, rule in rules().items() if rule.kind == "sql"}
    assert gx_rules | sql_rules == set(rules())
    assert {r for r, rule in rules().items() if rule.kind == "gx"} == gx_rules
