"""The blocking and warning checks of warehouse/sql/checks/, each made to fail on purpose on a copy of
a loaded warehouse, with the counts and examples it reports; and the mart's rollback when the levels
do not add up."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.load import run_load
from tests.conftest import FILES, SCHOOL_A, SCHOOL_B, YEAR, write_files
from warehouse.build import Scope, mart
from warehouse.checks import run_check, run_checks
from warehouse.registry import registry

PARTITION = {"year": YEAR, "province": "110"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("checks")
    write_files(root / "landing", FILES)
    db = root / "w.duckdb"
    assert run_load(root / "landing", db).ok
    return db


@pytest.fixture
def con(loaded: Path, tmp_path: Path):
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(loaded, copy)
    con = duckdb.connect(str(copy))
    yield con
    con.close()


def check(con, model: str, name: str, params: dict = PARTITION):
    m = registry()[model]
    return run_check(con, m, m.check(name), params)


def test_every_check_passes_on_the_loaded_warehouse(con):
    results = run_checks(con, [m for m in registry().models.values() if m.schema in ("core", "staging")], PARTITION)
    results += run_checks(con, [registry()["mart.indicators"]], {"year": YEAR})
    assert {r.name for r in results} >= {"referential_integrity", "reconciles_with_staging", "file_accounting",
                                          "no_pupil_in_two_schools_same_month", "levels_add_up", "one_row_per_pupil",
                                          "every_school_in_a_known_directorate"}
    assert [(r.model, r.name, r.outcome.metadata) for r in results if not r.passed] == []


def test_referential_integrity_finds_an_orphan_key(con):
    con.execute("update core.fct_enrolment set school_key = 999 where row_number = 2 and school_code = $s",
                {"s": SCHOOL_A})
    out = check(con, "core.fct_enrolment", "referential_integrity")
    assert not out.passed
    assert out.metadata["orphan_school_key"] == 1 and out.metadata["orphan_school_key_examples"] == "999"
    assert out.metadata["orphan_pupil_key"] == 0 and "orphan_pupil_key_examples" not in out.metadata


def test_an_orphan_pupil_key_is_shown_by_school_never_by_key(con):
    key = con.execute("select pupil_key from core.fct_enrolment where school_code = $s and row_number = 2",
                      {"s": SCHOOL_A}).fetchone()[0]
    con.execute("update core.fct_enrolment set pupil_key = 123456789 where pupil_key = $k", {"k": key})
    out = check(con, "core.fct_enrolment", "referential_integrity")
    assert not out.passed
    assert out.metadata["orphan_pupil_key"] == 1 and out.metadata["orphan_pupil_key_schools"] == SCHOOL_A
    assert "orphan_pupil_key_examples" not in out.metadata
    assert not any(k in str(v) for v in out.metadata.values() for k in ("123456789", str(key)) if isinstance(v, str))


def test_reconciliation_finds_a_missing_fact_row(con):
    before = check(con, "core.fct_attendance", "reconciles_with_staging").metadata
    con.execute("delete from core.fct_attendance where row_number = 2")
    out = check(con, "core.fct_attendance", "reconciles_with_staging")
    assert not out.passed
    assert out.metadata == {"fact_rows": before["fact_rows"] - 1, "accepted_staging_rows": before["accepted_staging_rows"]}


def test_beneficiary_months_reconcile_ten_months_per_beneficiary(con):
    ok = check(con, "core.fct_tayssir_month", "reconciles_with_staging")
    assert ok.passed and ok.metadata["fact_rows"] == 2 * 10  # two accepted beneficiaries, ten months each
    con.execute("delete from core.fct_tayssir_month where month = '2023-06' and school_code = $s", {"s": SCHOOL_A})
    out = check(con, "core.fct_tayssir_month", "reconciles_with_staging")
    assert not out.passed and out.metadata == {"fact_rows": 18, "accepted_staging_rows": 20}


def test_one_row_per_pupil_finds_a_pupil_with_two_rows(con):
    """The pupil dimension has no index on its key: the check is what keeps it unique."""
    assert check(con, "core.dim_pupil", "one_row_per_pupil").metadata == {"pupils_with_two_rows": 0}
    assert con.execute("select count(*) from duckdb_constraints() where table_name = 'dim_pupil' "
                       "and constraint_type = 'PRIMARY KEY'").fetchone()[0] == 0
    con.execute("insert into core.dim_pupil select * from core.dim_pupil limit 1")
    out = check(con, "core.dim_pupil", "one_row_per_pupil")
    assert not out.passed and out.metadata == {"pupils_with_two_rows": 1}
    assert registry()["core.dim_pupil"].check("one_row_per_pupil").check.blocking is True


def test_file_accounting_finds_an_unbalanced_file(con):
    path = f"{YEAR}/students/{SCHOOL_A}.csv"
    con.execute("update ops.file_manifest set rows_loaded = rows_loaded - 1 where file_path = $p", {"p": path})
    out = check(con, "staging.students", "file_accounting")
    assert not out.passed and out.metadata == {"files_unbalanced": 1, "examples": path}


def test_levels_add_up_finds_a_directorate_that_is_not_the_sum_of_its_schools(con):
    con.execute("""update mart.indicators set value = value + 1
                   where geo_level = 'school' and geo_code = $s and indicator = 'enrolled_pupils'""", {"s": SCHOOL_A})
    out = check(con, "mart.indicators", "levels_add_up", {"year": YEAR})
    assert not out.passed
    assert out.metadata == {"mismatches": 1, "examples": "province 110 enrolled_pupils"}


def test_pupil_in_two_schools_names_schools_and_months_never_a_pupil(con):
    con.execute("""insert into core.fct_attendance (school_year, province_code, school_code, month, pupil_key)
                   select school_year, province_code, $b, month, pupil_key from core.fct_attendance
                   where school_code = $a and row_number = 2""", {"a": SCHOOL_A, "b": SCHOOL_B})
    out = check(con, "core.fct_attendance", "no_pupil_in_two_schools_same_month")
    assert not out.passed
    assert out.metadata == {"pupil_months_in_two_schools": 1, "pupils": 1,
                            "examples": f"{SCHOOL_A}+{SCHOOL_B} 2022-10"}
    assert registry()["core.fct_attendance"].check("no_pupil_in_two_schools_same_month").check.blocking is False


def test_every_school_in_a_known_directorate(con):
    con.execute("""insert into core.dim_school (school_key, school_code, province_code, valid_from, is_current)
                   values (7, '99998X', '999', date '2022-09-01', true)""")
    out = check(con, "core.dim_school", "every_school_in_a_known_directorate", {})
    assert not out.passed and out.metadata == {"schools_without_directorate": 1}


def _enrolled(con) -> float:
    return con.execute("""select value from mart.indicators where geo_level = 'province' and geo_code = '110'
                          and indicator = 'enrolled_pupils' and school_year = $y""", {"y": YEAR}).fetchone()[0]


def test_the_mart_is_rolled_back_when_the_levels_do_not_add_up(con):
    before = _enrolled(con)
    loaded_by = con.execute("select run_id from ops.partition_load").fetchall()
    # a directorate's row that no school explains (another partition's, untouched by this build)
    con.execute("""insert into mart.indicators values ('province', '111', 'X', 'X', $y, null, 'enrolled_pupils', 5)""",
                {"y": YEAR})
    con.execute("delete from core.fct_enrolment where school_code = $s and row_number = 2", {"s": SCHOOL_A})
    built = mart.build(con, Scope(YEAR, "110"), "rollback-test")
    assert not built.committed
    levels = next(c for c in built.checks if c.name == "levels_add_up")
    assert not levels.passed and levels.outcome.metadata["examples"] == "province 111 enrolled_pupils"
    assert _enrolled(con) == before  # the rebuilt (smaller) enrolment was not published
    assert con.execute("select run_id from ops.partition_load").fetchall() == loaded_by
    assert con.execute("select detail from ops.load_log where load_id = 'rollback-test'").fetchone()[0].startswith(
        "not published, levels do not add up")
    # once the stray row is gone, the same build publishes
    con.execute("delete from mart.indicators where geo_code = '111'")
    assert mart.build(con, Scope(YEAR, "110"), "after").committed
    assert _enrolled(con) == before - 1


def test_a_failing_statement_rolls_the_whole_mart_back(con, monkeypatch):
    before = con.execute("select * from mart.indicators order by all").fetchall()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(mart, "roll_up", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        mart.build(con, Scope(YEAR, "110"), "crash")
    assert con.execute("select * from mart.indicators order by all").fetchall() == before
