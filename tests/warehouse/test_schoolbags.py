"""Schoolbag needs audit and next-year forecast: every expected row is computed here by hand."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from daam.config import load_settings
from warehouse.build import Scope, mart
from warehouse.build.landing import load_configuration
from warehouse.schema import ensure_schema

YEAR, NEXT = "2022-2023", "2023-2024"
PROVINCE = "110"
RURAL = "10001A"         # rural primary: 1AP, 2AP (2 repeaters), 3AP, 6AP; history of 1AP intake
URBAN = "10002B"         # urban primary: 1AP (2 repeaters), 3AP; declares nothing; one year of history
URBAN_COLLEGE = "10003C"  # urban collège: declares a 1AC kit the rules do not give
RURAL_COLLEGE = "10004D"  # rural collège: 1AC gets books and supplies; declares nothing
NO_ROSTER = "10005E"     # rural primary that declared needs but sent no (accepted) roster
OTHER = "20001A"         # another directorate: never touched by a build of 110
SCHOOLS = {RURAL: ("rural", "primaire", PROVINCE), URBAN: ("urbain", "primaire", PROVINCE),
           URBAN_COLLEGE: ("urbain", "college", PROVINCE), RURAL_COLLEGE: ("rural", "college", PROVINCE),
           NO_ROSTER: ("rural", "primaire", PROVINCE), OTHER: ("rural", "primaire", "111")}

# (school, year, level) -> (pupils, of whom repeating)
ROSTER = {
    (RURAL, "2019-2020", "1AP"): (100, 0),   # a fourth year back: outside the 3-year trend
    (RURAL, "2020-2021", "1AP"): (20, 0),
    (RURAL, "2021-2022", "1AP"): (24, 0),
    (RURAL, YEAR, "1AP"): (28, 0),
    (RURAL, YEAR, "2AP"): (10, 2),
    (RURAL, YEAR, "3AP"): (5, 0),
    (RURAL, YEAR, "6AP"): (4, 1),
    (URBAN, YEAR, "1AP"): (12, 2),
    (URBAN, YEAR, "3AP"): (6, 0),
    (URBAN_COLLEGE, YEAR, "1AC"): (7, 1),
    (URBAN_COLLEGE, YEAR, "2AC"): (5, 0),
    (URBAN_COLLEGE, YEAR, "3AC"): (4, 0),
    (RURAL_COLLEGE, YEAR, "1AC"): (4, 0),
    (OTHER, YEAR, "1AP"): (9, 0),
}
# (school, level) -> (enrolled, eligible, kit_type, requested, received, distributed, forecast_next_year)
DECLARED = {
    (RURAL, "1AP"): (28, 28, "full_kit", 28, 30, 28, 30),
    (RURAL, "2AP"): (10, 10, "books_supplies", 15, 10, 12, 26),   # over-declared, over-distributed
    (RURAL, "4AP"): (3, 3, "books_supplies", 3, None, None, None),  # a level with no pupil on the roster
    (URBAN_COLLEGE, "1AC"): (7, 7, "books_supplies", 7, 7, 7, 9),    # urban 1AC: no kit by the rules
    (NO_ROSTER, "1AP"): (5, 5, "full_kit", 5, 5, 5, 6),
    (OTHER, "1AP"): (9, 9, "full_kit", 9, 9, 9, 9),
}

NEEDS_COLUMNS = ("school_code", "level_code", "has_roster", "is_declared", "roster_pupils", "rule_kit_type",
                 "computed_eligible", "declared_enrolled", "declared_eligible", "declared_kit_type",
                 "kits_requested", "requested_gap", "eligible_gap", "over_declared", "kit_type_mismatch",
                 "kits_received", "kits_distributed", "kits_undistributed", "over_distributed")
FORECAST_COLUMNS = ("school_code", "level_code", "pupils_current", "repeaters_current", "repeaters_staying",
                    "promoted_in", "intake_forecast", "intake_years", "forecast_pupils", "kit_type_next",
                    "kits_needed", "declared_forecast", "forecast_gap")


def _enrolment_rows(roster: dict) -> list[tuple]:
    rows, key = [], 0
    for (school, year, level), (pupils, repeating) in roster.items():
        for i in range(pupils):
            key += 1
            rows.append((year, SCHOOLS[school][2], school, key, level, i < repeating))
    return rows


@pytest.fixture
def con():
    con = duckdb.connect()
    settings = load_settings()
    ensure_schema(con)
    load_configuration(con, settings)  # dim_level, dim_date, core.programme_rule... from configs/
    for code, (milieu, cycle, province) in SCHOOLS.items():
        con.execute("""insert into core.dim_school (school_key, school_code, province_code, milieu, cycle, valid_from,
                       is_current) values (hash($c) % 1000000, $c, $p, $m, $cy, '2019-09-01', true)""",
                    {"c": code, "p": province, "m": milieu, "cy": cycle})
    con.executemany("""insert into core.fct_enrolment (school_year, province_code, school_code, pupil_key, level_code,
                       is_repeating) values (?, ?, ?, ?, ?, ?)""", _enrolment_rows(ROSTER))
    con.executemany("""insert into core.fct_schoolbag (school_year, province_code, school_code, level_code, enrolled,
                       eligible, kit_type, kits_requested, kits_received, kits_distributed, forecast_next_year)
                       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [(YEAR, SCHOOLS[s][2], s, lv, *values) for (s, lv), values in DECLARED.items()])
    yield con
    con.close()


def _build(con, year: str = YEAR, province: str = PROVINCE) -> dict:
    """The partition's mart build; the schoolbag marts' counts of its metadata."""
    built = mart.build(con, Scope(year, province), "test")
    assert built.committed
    return {**built.metadata["mart.schoolbag_needs"], **built.metadata["mart.schoolbag_forecast"]}


def _rows(con, table: str, columns: tuple[str, ...], year: str = YEAR, province: str = PROVINCE) -> dict:
    found = con.execute(f"select {', '.join(columns)} from {table} where school_year = $y and province_code = $p",
                        {"y": year, "p": province}).fetchall()
    rows = {(r[0], r[1]): r[2:] for r in found}
    assert len(rows) == len(found), "one row per school x level"
    return rows


def test_needs_rows_are_the_hand_computed_ones(con):
    counts = _build(con)
    needs = _rows(con, "mart.schoolbag_needs", NEEDS_COLUMNS)
    T, F, N = True, False, None
    assert needs == {
        # rural 1AP: full kit; declared as computed; 2 kits received but not distributed
        (RURAL, "1AP"): (T, T, 28, "full_kit", 28, 28, 28, "full_kit", 28, 0, 0, F, F, 30, 28, 2, F),
        # 10 eligible, 15 requested: over-declared; 12 distributed of 10 received: flagged
        (RURAL, "2AP"): (T, T, 10, "books_supplies", 10, 10, 10, "books_supplies", 15, 5, 0, T, F, 10, 12, -2, T),
        # rural 3AP: books and supplies; not declared, so the declared columns are null, not 0
        (RURAL, "3AP"): (T, F, 5, "books_supplies", 5, N, N, N, N, N, N, N, N, N, N, N, N),
        # declared, but no pupil of 4AP on the roster
        (RURAL, "4AP"): (T, T, 0, "books_supplies", 0, 3, 3, "books_supplies", 3, 3, 3, T, F, N, N, N, N),
        # rural 6AP: books and supplies
        (RURAL, "6AP"): (T, F, 4, "books_supplies", 4, N, N, N, N, N, N, N, N, N, N, N, N),
        # urban: 1AP full kit, 3AP books only; the school declared nothing
        (URBAN, "1AP"): (T, F, 12, "full_kit", 12, N, N, N, N, N, N, N, N, N, N, N, N),
        (URBAN, "3AP"): (T, F, 6, "books_only", 6, N, N, N, N, N, N, N, N, N, N, N, N),
        # urban 1AC gets no kit: the declared row is a kit type mismatch and all 7 kits are over-declared
        (URBAN_COLLEGE, "1AC"): (T, T, 7, N, 0, 7, 7, "books_supplies", 7, 7, 7, T, T, 7, 7, 0, F),
        # rural 1AC: books and supplies; 2AC/3AC (and urban 2AC/3AC) have no kit and no declaration: no row
        (RURAL_COLLEGE, "1AC"): (T, F, 4, "books_supplies", 4, N, N, N, N, N, N, N, N, N, N, N, N),
        # a declaration without an accepted roster: computed columns unknown (null), so are the gaps
        (NO_ROSTER, "1AP"): (F, T, N, "full_kit", N, 5, 5, "full_kit", 5, N, N, N, F, 5, 5, 0, F),
    }
    assert counts == {
        "needs_rows": 10, "schools": 5, "levels_declared": 5, "levels_eligible_not_declared": 5,
        "over_declared": 3, "kit_type_mismatch": 1, "over_distributed": 1,
        "computed_eligible": 28 + 10 + 5 + 0 + 4 + 12 + 6 + 0 + 4, "kits_requested": 28 + 15 + 3 + 7 + 5,
        "forecast_rows": 15, "forecast_pupils": 76 + 28 + 18 + 8, "kits_needed_next_year": 32 + 30 + 8 + 5 + 1 + 12 + 10 + 6 + 4,
        "declared_forecast": 30 + 26 + 9 + 6,
    }


def test_forecast_rows_are_the_hand_computed_ones(con):
    _build(con)
    forecast = _rows(con, "mart.schoolbag_forecast", FORECAST_COLUMNS)
    N = None
    assert forecast == {
        # 1AP intake: new entrants 20, 24, 28 (2020-2022; 2019's 100 is a 4th year back) -> 32; declared 30
        (RURAL, "1AP"): (28, 0, 0, 0, 32, 3, 32, "full_kit", 32, 30, -2),
        # 2AP: its 2 repeaters stay, the 28 of 1AP come up; declared 26
        (RURAL, "2AP"): (10, 2, 2, 28, N, N, 30, "books_supplies", 30, 26, -4),
        # 3AP: the 8 of 2AP not repeating
        (RURAL, "3AP"): (5, 0, 0, 8, N, N, 8, "books_supplies", 8, N, N),
        # 4AP: the 5 of 3AP (and the declared row of 4AP had no forecast)
        (RURAL, "4AP"): (0, 0, 0, 5, N, N, 5, "books_supplies", 5, N, N),
        # 6AP: its repeater stays; the other 3 leave the primary cycle (no 1AC row)
        (RURAL, "6AP"): (4, 1, 1, 0, N, N, 1, "books_supplies", 1, N, N),
        # one year of history: intake = that year's 10 new entrants, plus the 2 repeaters
        (URBAN, "1AP"): (12, 2, 2, 0, 10, 1, 12, "full_kit", 12, N, N),
        (URBAN, "2AP"): (0, 0, 0, 10, N, N, 10, "books_only", 10, N, N),
        (URBAN, "3AP"): (6, 0, 0, 0, N, N, 0, "books_only", 0, N, N),
        (URBAN, "4AP"): (0, 0, 0, 6, N, N, 6, "books_only", 6, N, N),
        # collège: the entry level is 1AC; the 3AC pupils leave; urban collège levels get no kit
        (URBAN_COLLEGE, "1AC"): (7, 1, 1, 0, 6, 1, 7, N, 0, 9, 2),
        (URBAN_COLLEGE, "2AC"): (5, 0, 0, 6, N, N, 6, N, 0, N, N),
        (URBAN_COLLEGE, "3AC"): (4, 0, 0, 5, N, N, 5, N, 0, N, N),
        (RURAL_COLLEGE, "1AC"): (4, 0, 0, 0, 4, 1, 4, "books_supplies", 4, N, N),
        (RURAL_COLLEGE, "2AC"): (0, 0, 0, 4, N, N, 4, N, 0, N, N),
        # no roster: nothing to forecast from; the declared forecast stays, the gap is unknown
        (NO_ROSTER, "1AP"): (N, N, N, N, N, N, N, "full_kit", N, 6, N),
    }
    assert set(con.execute("select distinct forecast_year, rules_year from mart.schoolbag_forecast").fetchall()) == {
        (NEXT, NEXT)}
    rate = con.execute("select repetition_rate from mart.schoolbag_forecast where school_code = $s and level_code = "
                       "'2AP'", {"s": RURAL}).fetchone()[0]
    assert rate == pytest.approx(0.2)  # 2 of 10: 0.2 x 10 stay, 0.8 x 10 promoted


def test_next_year_rules_apply_when_configured_else_this_years(con):
    def urban_2ap():
        return con.execute("""select kit_type_next, kits_needed, rules_year from mart.schoolbag_forecast
                              where school_code = $s and level_code = '2AP'""", {"s": URBAN}).fetchall()

    # Y+1 configured with another rule: urban 2AP now gets books and supplies
    con.execute("""update core.programme_rule set value_text = 'books_supplies'
                   where school_year = $n and programme = 'schoolbags' and rule_key = 'urbain|2AP'""", {"n": NEXT})
    _build(con)
    assert urban_2ap() == [("books_supplies", 10, NEXT)]
    # Y+1 not configured: Y's rules (urban 2AP: books only)
    con.execute("delete from core.programme_rule where school_year = $n and programme = 'schoolbags'", {"n": NEXT})
    _build(con)
    assert urban_2ap() == [("books_only", 10, YEAR)]


def test_intake_trend_is_floored_at_zero(con):
    # the urban school's new entrants: 10 in 2022, 1 in 2023; the line gives 5.5 - 9 x 1.5 = -8 in 2024
    con.execute("""insert into core.fct_enrolment (school_year, province_code, school_code, pupil_key, level_code,
                   is_repeating) values ($y, $p, $s, 100000, '1AP', false)""", {"y": NEXT, "p": PROVINCE, "s": URBAN})
    _build(con, NEXT)
    assert con.execute("""select forecast_year, level_code, intake_forecast, intake_years, forecast_pupils, kits_needed
                          from mart.schoolbag_forecast where school_year = $y order by level_code""",
                       {"y": NEXT}).fetchall() == [
        ("2024-2025", "1AP", 0, 2, 0, 0),
        ("2024-2025", "2AP", None, None, 1, 1),
    ]


def test_rebuild_is_idempotent_and_touches_only_its_partition(con):
    _build(con, YEAR, "111")
    other = con.execute("select * from mart.schoolbag_needs where province_code = '111' order by all").fetchall()
    assert [r[3] for r in other] == [OTHER]
    first = _build(con)
    needs = con.execute("select * from mart.schoolbag_needs order by all").fetchall()
    forecast = con.execute("select * from mart.schoolbag_forecast order by all").fetchall()
    assert _build(con) == first
    assert con.execute("select * from mart.schoolbag_needs order by all").fetchall() == needs
    assert con.execute("select * from mart.schoolbag_forecast order by all").fetchall() == forecast
    assert con.execute("select count(*) from mart.schoolbag_needs where province_code = '111'").fetchone()[0] == 1
    # a corrected declaration replaces the partition's rows
    con.execute("update core.fct_schoolbag set kits_requested = 10 where school_code = $s and level_code = '2AP'",
                {"s": RURAL})
    _build(con)
    assert con.execute("select requested_gap, over_declared from mart.schoolbag_needs where school_code = $s "
                       "and level_code = '2AP'", {"s": RURAL}).fetchall() == [(0, False)]


def test_tables_hold_no_personal_data(con):
    columns = {c for (c,) in con.execute("""select column_name from information_schema.columns
                                            where table_schema = 'mart' and table_name like 'schoolbag_%'""").fetchall()}
    assert not columns & {"pupil_key", "massar_code", "last_name_ar", "first_name_ar", "birth_date", "guardian_cin"}


def test_on_a_loaded_warehouse(small_landing: Path, tmp_path: Path):
    """The audit on the hand-written landing zone of conftest, loaded by the real chain: school A
    (rural) has one accepted pupil in each of 1AP, 2AP, 3AP and declared 3 kits for 2AP."""
    from pipelines.load import run_load
    from tests.conftest import SCHOOL_A

    db = tmp_path / "w.duckdb"
    assert run_load(small_landing, db).ok
    with duckdb.connect(str(db)) as con:
        _build(con, YEAR, PROVINCE)
        needs = _rows(con, "mart.schoolbag_needs", NEEDS_COLUMNS)
        T, F, N = True, False, None
        assert needs == {
            (SCHOOL_A, "1AP"): (T, F, 1, "full_kit", 1, N, N, N, N, N, N, N, N, N, N, N, N),
            (SCHOOL_A, "2AP"): (T, T, 1, "books_supplies", 1, 1, 1, "books_supplies", 3, 2, 0, T, F, N, N, N, N),
            (SCHOOL_A, "3AP"): (T, F, 1, "books_supplies", 1, N, N, N, N, N, N, N, N, N, N, N, N),
        }
        forecast = {k: (v[6], v[8]) for k, v in _rows(con, "mart.schoolbag_forecast", FORECAST_COLUMNS).items()}
        # no repeating column: nobody repeats; 1 new entrant in 1AP, one year of history
        assert forecast == {(SCHOOL_A, "1AP"): (1, 1), (SCHOOL_A, "2AP"): (1, 1), (SCHOOL_A, "3AP"): (1, 1),
                            (SCHOOL_A, "4AP"): (1, 1)}
