"""Programme logic on a hand-written landing zone: Tayssir compliance at the thresholds, payment
reconciliation with an unclaimed instalment carried over, targeting, boarding capacity. Every
expected value is worked out by hand in the comments."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.load import run_load
from tests.conftest import write_files
from warehouse.pseudonyms import bind_secret

YEAR = "2022-2023"
RURAL_PRIMARY, RURAL_COLLEGE, URBAN_PRIMARY, URBAN_LYCEE = "16698Z", "16701C", "16704F", "16705G"
REFERENTIAL = (
    "CD_ETAB,NOM_ETABL,NOM_ETABA,CD_PROV,cd_com,CD_MIL,LL_CYCLE,NetabFr,has_boarding,boarding_capacity,has_canteen\n"
    f"{RURAL_PRIMARY},ECOLE R,مدرسة ر,110,1001,R,PRIMAIRE,Ecole Autonome,0,,1\n"
    f"{RURAL_COLLEGE},COLLEGE C,إعدادية ج,110,1001,R,SECONDAIRE-COLLEGIAL,Collège Enseignement Général,1,1,0\n"
    f"{URBAN_PRIMARY},ECOLE U,مدرسة ح,110,1002,U,PRIMAIRE,Ecole Autonome,0,,0\n"
    f"{URBAN_LYCEE},LYCEE L,ثانوية ل,110,1002,U,SECONDAIRE-QUALIFIANT,Lycée Qualifiant,0,,0\n"
)
HEADER = "massar_code,last_name_ar,first_name_ar,gender,birth_date,level\n"
P1, P2, P3, P4 = "J000000001", "J000000002", "J000000003", "J000000004"  # rural primary
P5, P6, P7 = "J000000005", "J000000006", "J000000007"                   # rural collège
P8, P9 = "J000000008", "J000000009"                                    # urban primary, urban lycée
ATTENDANCE_HEADER = "massar_code,unjustified_absence_days,justified_absence_days\n"


def attendance(rows: dict[str, int]) -> str:
    return ATTENDANCE_HEADER + "".join(f"{code},{days},0\n" for code, days in rows.items())


FILES = {
    "reference/schools/2022-09-01.csv": REFERENTIAL,
    f"{YEAR}/students/{RURAL_PRIMARY}.csv": HEADER + "".join(
        f"{code},ا,ب,F,{born},{level}\n"
        for code, born, level in [(P1, "2015-03-01", "2AP"), (P2, "2014-03-01", "3AP"), (P3, "2016-03-01", "1AP"),
                                  (P4, "2015-04-01", "2AP")]),
    f"{YEAR}/students/{RURAL_COLLEGE}.csv": HEADER + "".join(
        f"{code},ا,ب,M,2010-05-05,1AC\n" for code in (P5, P6, P7)),
    f"{YEAR}/students/{URBAN_PRIMARY}.csv": HEADER + f"{P8},ا,ب,F,2015-03-01,2AP\n",
    f"{YEAR}/students/{URBAN_LYCEE}.csv": HEADER + f"{P9},ا,ب,M,2007-01-01,TC\n",
    # P4 is on the roster but not on the list (an exclusion candidate)
    f"{YEAR}/tayssir_beneficiaries/{RURAL_PRIMARY}.csv": "massar_code,guardian_cin,status\n"
        + "".join(f"{c},S1{i},active\n" for i, c in enumerate((P1, P2, P3))),
    f"{YEAR}/tayssir_beneficiaries/{RURAL_COLLEGE}.csv": "massar_code,guardian_cin,status\n"
        f"{P5},S21,active\n{P6},S22,active\n",
    # P8: urban primary, not eligible (inclusion error); P9: TC, level outside the programme
    f"{YEAR}/tayssir_beneficiaries/{URBAN_PRIMARY}.csv": f"massar_code,guardian_cin,status\n{P8},S31,active\n",
    f"{YEAR}/tayssir_beneficiaries/{URBAN_LYCEE}.csv": f"massar_code,guardian_cin,status\n{P9},S41,active\n",
    # primary threshold 4 unjustified days, collège 6
    f"{YEAR}/attendance/2022-09/{RURAL_PRIMARY}.csv": attendance({P1: 0, P2: 1, P3: 4, P4: 0}),
    f"{YEAR}/attendance/2022-10/{RURAL_PRIMARY}.csv": attendance({P1: 2, P2: 0, P3: 5, P4: 0}),
    f"{YEAR}/attendance/2022-11/{RURAL_PRIMARY}.csv": attendance({P1: 0, P2: 3, P3: 0, P4: 0}),
    f"{YEAR}/attendance/2022-12/{RURAL_PRIMARY}.csv": attendance({P1: 0, P2: 0, P3: 0, P4: 0}),
    f"{YEAR}/attendance/2022-10/{RURAL_COLLEGE}.csv": attendance({P5: 6, P6: 7, P7: 0}),
    f"{YEAR}/boarding_grants/{RURAL_COLLEGE}.csv": "massar_code,grant_type,start_month\n"
        f"{P5},internat,2022-09\n{P7},internat,2022-09\n",
    # instalment 1 (Sep-Nov): P1 180 paid; P2 240 unclaimed; P3 180 paid; P4 (not a beneficiary) 60 paid
    f"{YEAR}/tayssir_payments/110_1.csv": "payment_ref,guardian_cin,massar_code,period_from,period_to,amount_mad,status\n"
        f"R1,S10,{P1},2022-09,2022-11,180,paid\nR2,S11,{P2},2022-09,2022-11,240,unclaimed\n"
        f"R3,S12,{P3},2022-09,2022-11,180,paid\nR4,S99,{P4},2022-09,2022-11,60,paid\n",
    # instalment 2 (Dec-Mar): P2 gets December's 80 plus the 240 carried over
    f"{YEAR}/tayssir_payments/110_2.csv": "payment_ref,guardian_cin,massar_code,period_from,period_to,amount_mad,status\n"
        f"R5,S11,{P2},2022-12,2023-03,320,paid\nR6,S10,{P1},2022-12,2023-03,60,paid\n",
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("programmes")
    write_files(root / "landing", FILES)
    db = root / "w.duckdb"
    report = run_load(root / "landing", db)
    assert report.ok, report.failed
    return db


def _q(db: Path, sql: str, params: dict | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        bind_secret(con)  # the queries find pupils by core.pupil_key(massar code)
        return con.execute(sql, params).fetchall()


def _month(db: Path, code: str, month: str) -> tuple:
    return _q(db, """select is_compliant, entitlement_mad::double, reason_not_paid from core.fct_tayssir_month
                     where pupil_key = core.pupil_key($c) and month = $m""", {"c": code, "m": month})[0]


def test_compliance_at_the_thresholds(db: Path):
    assert _month(db, P3, "2022-09") == (True, 60.0, None)              # 4 days in primary: paid (1AP 60)
    assert _month(db, P3, "2022-10") == (False, 0.0, "over_threshold")  # 5 days: not
    assert _month(db, P5, "2022-10") == (True, 140.0, None)             # 6 days in collège: paid (1AC 140)
    assert _month(db, P6, "2022-10") == (False, 0.0, "over_threshold")  # 7 days: not
    assert _month(db, P6, "2022-11") == (False, 0.0, "no_attendance")   # no file for November
    assert _month(db, P9, "2022-10") == (False, 0.0, "level_not_covered")
    assert _q(db, "select count(*) from core.fct_tayssir_month where pupil_key = core.pupil_key($c)",
              {"c": P4}) == [(0,)]  # not a beneficiary: no month at all


def _recon(db: Path, code: str) -> dict[int, tuple]:
    return {i: tuple(r) for i, *r in _q(db, """
        select instalment, entitlement_mad::double, carried_over_mad::double, due_mad::double, paid_mad::double,
               class from mart.tayssir_reconciliation where pupil_key = core.pupil_key($c)""", {"c": code})}


def test_reconciliation_classes_and_carry_over(db: Path):
    # P1 (2AP, 60): Sep-Nov compliant = 180, paid 180; December compliant = 60, paid 60
    assert _recon(db, P1)[1] == (180.0, 0.0, 180.0, 180.0, "paid_as_due")
    assert _recon(db, P1)[2] == (60.0, 0.0, 60.0, 60.0, "paid_as_due")
    # P2 (3AP, 80): 240 due, line unclaimed -> unpaid; carried into instalment 2: 80 + 240 = 320, paid
    assert _recon(db, P2)[1] == (240.0, 0.0, 240.0, 0.0, "unpaid_due")
    assert _recon(db, P2)[2] == (80.0, 240.0, 320.0, 320.0, "paid_as_due")
    # P3 (1AP, 60): September (4 days) and November due, October (5 days) not: 120 due, 180 paid
    assert _recon(db, P3)[1] == (120.0, 0.0, 120.0, 180.0, "amount_mismatch")
    # P4: on the roster, not a beneficiary, paid 60
    assert _recon(db, P4)[1] == (0.0, 0.0, 0.0, 60.0, "paid_not_due")
    assert _recon(db, P3)[2] == (60.0, 0.0, 60.0, 0.0, "unpaid_due")  # December due, no line issued
    # instalment 3: nothing reported, nothing paid
    assert _recon(db, P1)[3] == (0.0, 0.0, 0.0, 0.0, "nothing_due")


def test_reconciliation_indicators_add_up(db: Path):
    rows = dict(_q(db, """select indicator, value from mart.indicators
                          where geo_level = 'school' and geo_code = $s and indicator like 'tayssir_%'""",
                   {"s": RURAL_PRIMARY}))
    assert rows["tayssir_paid_as_due_mad"] == 180 + 60 + 320 and rows["tayssir_paid_as_due_count"] == 3
    # P2's unclaimed instalment 1 (240) and P3's December (60), for which no line was issued
    assert rows["tayssir_unpaid_due_mad"] == 240 + 60 and rows["tayssir_unpaid_due_count"] == 2
    assert rows["tayssir_paid_not_due_mad"] == 60 and rows["tayssir_paid_not_due_count"] == 1
    assert rows["tayssir_amount_mismatch_mad"] == 60 and rows["tayssir_amount_mismatch_count"] == 1
    national = dict(_q(db, "select indicator, value from mart.indicators where geo_level = 'national' "
                           "and indicator = 'tayssir_unpaid_due_mad'"))
    assert national == {"tayssir_unpaid_due_mad": 300 + 140}  # + P5's October at the collège, never paid


def test_targeting_inclusion_and_exclusion(db: Path):
    rows = {s: list(r) for s, *r in _q(db, """
        select school_code, commune_code, enrolled_pupils, eligible_pupils, beneficiaries, covered_eligible,
               inclusion_errors, inclusion_level_not_covered, inclusion_milieu, exclusion_candidates
        from mart.tayssir_targeting""")}
    assert rows[RURAL_PRIMARY] == ["1001", 4, 4, 3, 3, 0, 0, 0, 1]   # P4 eligible, not listed
    assert rows[RURAL_COLLEGE] == ["1001", 3, 3, 2, 2, 0, 0, 0, 1]   # P7 eligible, not listed
    assert rows[URBAN_PRIMARY] == ["1002", 1, 0, 1, 0, 1, 0, 1, 0]   # urban primary: milieu
    assert rows[URBAN_LYCEE] == ["1002", 1, 0, 1, 0, 1, 1, 0, 0]     # TC: level outside the programme


def test_targeting_by_commune_sums_its_schools(db: Path):
    rows = {c: r for c, *r in _q(db, """select commune_code, schools, eligible_pupils, covered_eligible,
                                        inclusion_errors, exclusion_candidates from mart.tayssir_targeting_by_commune""")}
    assert rows == {"1001": [2, 7, 5, 0, 2], "1002": [2, 0, 0, 2, 0]}


def test_boarding_grantees_against_capacity(db: Path):
    assert _q(db, """select school_code, boarding_capacity, internat_grantees, over_capacity
                     from mart.boarding_capacity""") == [(RURAL_COLLEGE, 1, 2, True)]


def test_targeting_and_forecast_reach_the_indicators(db: Path):
    """What the region and the nation see of targeting and of next year's kits: mart.indicators."""
    names = ("tayssir_eligible_pupils", "tayssir_exclusion_candidates", "schoolbag_kits_needed_next_year")
    rows = {(code, name): value for code, name, value in _q(db, """
        select geo_code, indicator, value from mart.indicators
        where school_year = $y and geo_level in ('school', 'national') and list_contains($n, indicator)""",
        {"y": YEAR, "n": list(names)})}
    # eligible and exclusion candidates as in test_targeting_inclusion_and_exclusion. Kits for
    # 2023-24 (no repeaters; one year of history, so intake = this year's new 1AP / 1AC / TC pupils):
    # rural primary 1AP 1 (intake) + 2AP 1 (P3) + 3AP 2 (P1, P4) + 4AP 1 (P2) = 5; rural collège
    # 1AC 3 (intake), its 3 in 2AC get no kit; urban primary 3AP 1 (P8), 1AP intake 0; lycée: no kit
    assert {code: [rows[(code, n)] for n in names] for code in (RURAL_PRIMARY, RURAL_COLLEGE, URBAN_PRIMARY,
                                                                   URBAN_LYCEE, "MA")} == {
        RURAL_PRIMARY: [4, 1, 5], RURAL_COLLEGE: [3, 1, 3], URBAN_PRIMARY: [0, 0, 1], URBAN_LYCEE: [0, 0, 0],
        "MA": [7, 2, 9]}
    kits = dict(_q(db, "select school_code, sum(kits_needed) from mart.schoolbag_forecast group by 1"))
    assert kits == {code: rows[(code, names[2])] for code in kits}
