"""Data Docs of the small hand-written landing zone: a site, idempotent, known failures, no personal data."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.load import run_load
from quality_checks import data_docs
from quality_checks.data_docs import build_data_docs, gx_root
from tests.conftest import FILES, YEAR, write_files
from warehouse.build.ops import data_docs_batches

# Values of the fixture's pupils (names, birth dates, Massar codes including the malformed one,
# guardians' CIN) that no generated file may hold.
PERSONAL = ["العلوي", "محمد", "الإدريسي", "فاطمة", "01/02/2015", "2014-05-03", "2010-01-01",
            "J130245871", "J130245872", "J130245873", "J999999999", '"BAD"', ">BAD<", "S123456", "AB12345"]
SUITES = {"daam.schools", f"daam.students.{YEAR}", f"daam.tayssir_beneficiaries.{YEAR}", f"daam.attendance.{YEAR}",
          f"daam.schoolbags.{YEAR}", f"daam.canteen_meals.{YEAR}", f"daam.tayssir_payments.{YEAR}"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `small_landing` zone of tests/conftest.py, loaded once for the module (the fixture
    itself is per test; loading it three times would triple this module's run time)."""
    tmp = tmp_path_factory.mktemp("data_docs")
    write_files(tmp / "landing", FILES)
    db = tmp / "w.duckdb"
    assert run_load(tmp / "landing", db).ok
    return db


def _results(root: Path, suite_dir: str) -> list[dict]:
    files = sorted((root / "gx" / "uncommitted" / "validations").glob(f"{suite_dir}/**/*.json"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def _by_rule(result: dict) -> dict[str, dict]:
    return {r["expectation_config"]["meta"]["rule"] + ":" + r["expectation_config"]["meta"]["column"]: r
            for r in result["results"]}


def test_site_built_twice_with_known_failures_and_no_personal_data(warehouse: Path, tmp_path: Path):
    root = tmp_path / "gxroot"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        first = build_data_docs(data_docs_batches(con), root)
        second = build_data_docs(data_docs_batches(con), root)  # idempotent: suites, definitions, checkpoints updated in place

    assert first.index_html == second.index_html == root / "gx/uncommitted/data_docs/local_site/index.html"
    assert second.index_html.is_file()
    assert first.suites == second.suites and not second.sampled
    assert {s.suite for s in second.suites} == SUITES  # boarding_grants: a header-only file, no rows
    students = next(s for s in second.suites if s.record_type == "students")
    assert (students.rows_validated, students.success) == (5, False)
    assert students.failed_rules == ["age_level_mismatch", "massar_code_format"]
    outcome = {s.record_type: s.failed_rules for s in second.suites}
    assert outcome["attendance"] == ["absence_days_range"]
    assert outcome["schoolbags"] == ["kits_requested_above_eligible"]
    assert outcome["schools"] == outcome["tayssir_payments"] == outcome["canteen_meals"] == []

    # one suite, one validation definition and one checkpoint per suite; one stored result per run
    for folder in ("expectations", "validation_definitions", "checkpoints"):
        assert len(list((root / "gx" / folder).rglob("*.json"))) == len(SUITES), folder
    stored = _results(root, "daam/students")
    assert len(stored) == 2
    rules = _by_rule(stored[-1])
    massar = rules["massar_code_format:massar_code"]
    assert massar["success"] is False
    assert massar["result"]["unexpected_count"] == 1 and massar["result"]["element_count"] == 5
    assert rules["age_level_mismatch:birth_date"]["result"]["unexpected_count"] == 1
    assert all(r["success"] for k, r in rules.items() if k.split(":")[0] not in students.failed_rules)
    # SUMMARY without values: counts only
    assert not any(key in r["result"] for r in stored[-1]["results"]
                   for key in ("partial_unexpected_list", "partial_unexpected_counts", "unexpected_list",
                               "partial_unexpected_index_list", "unexpected_rows"))

    index = second.index_html.read_text(encoding="utf-8")
    assert all(name in index for name in SUITES)
    page = next((second.index_html.parent / "validations/daam/students").rglob("*.html")).read_text(encoding="utf-8")
    assert "massar_code" in page and "1 unexpected" in page

    generated = [f for f in root.rglob("*") if f.is_file() and "static" not in f.relative_to(root).parts]
    assert any(f.suffix == ".html" for f in generated) and any(f.suffix == ".json" for f in generated)
    for f in generated:
        text = f.read_bytes().decode("utf-8", errors="replace")
        leaked = [v for v in PERSONAL if v in text]
        assert not leaked, f"{f.relative_to(root)} holds {leaked}"


def test_scrub_result_drops_values_and_exception_text():
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult

    leaky = ExpectationValidationResult(
        success=False,
        result={"element_count": 5, "unexpected_count": 1, "unexpected_percent": 20.0,
                "partial_unexpected_list": ["BAD"], "partial_unexpected_counts": [{"value": "BAD", "count": 1}],
                "unexpected_list": ["BAD"], "unexpected_index_list": [2], "observed_value": "2010-01-01"},
        exception_info={"raised_exception": True, "exception_message": "could not convert 'J130245871'",
                        "exception_traceback": "Traceback ...\nValueError: could not convert 'J130245871'\n"})
    nested = ExpectationValidationResult(success=False, result={"observed_value": 3},
                                         exception_info={"metric-id": {"exception_message": "AB12345"}})
    fine = ExpectationValidationResult(success=True, result={"element_count": 5, "unexpected_count": 0})
    outcome = ExpectationSuiteValidationResult(success=False, results=[leaky, nested, fine], suite_name="s")
    raised = data_docs.scrub_result(outcome)
    assert [line.endswith(" raised ValueError") for line in raised] == [True, False]  # the type, not the message
    assert not any("J130245871" in line or "AB12345" in line for line in raised)
    text = json.dumps(outcome.to_json_dict())
    assert not any(v in text for v in ("BAD", "J130245871", "AB12345", "2010-01-01")), text
    assert leaky.result == {"element_count": 5, "unexpected_count": 1, "unexpected_percent": 20.0}
    assert leaky.exception_info["raised_exception"] and nested.exception_info["raised_exception"]
    assert nested.result == {"observed_value": 3}  # a number observed is a count or a rate: kept
    assert fine.exception_info["raised_exception"] is False and fine.result["unexpected_count"] == 0


def _students(con, province: str | None, max_rows: int):
    return next(b.raw for b in data_docs_batches(con, YEAR, province, max_rows) if b.record_type == "students")


def test_sampling_is_bounded_deterministic_and_reported(warehouse: Path, tmp_path: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        result = build_data_docs(data_docs_batches(con, max_rows=2), tmp_path / "gxroot")
        sample = _students(con, None, max_rows=2)
        again = _students(con, "110", max_rows=2)
        whole = _students(con, None, max_rows=5)
        with pytest.raises(ValueError, match="max_rows"):
            list(data_docs_batches(con, max_rows=0))
    assert result.sampled
    sizes = {s.record_type: (s.rows_validated, s.rows_in_scope, s.sampled) for s in result.suites}
    assert sizes["students"] == (2, 5, True)
    assert sizes["attendance"] == (2, 4, True)
    assert sizes["schools"] == (2, 2, False)
    assert sizes["schoolbags"] == (1, 1, False)
    assert all(s.rows_validated <= 2 for s in result.suites)
    # the same rows every time, in file order, drawn from the whole
    key = ["file_path", "sheet", "row_number"]
    assert len(sample) == 2 and sample[key].equals(again[key])
    assert sample["row_number"].is_monotonic_increasing
    assert set(sample["row_number"]) <= set(whole["row_number"]) and len(whole) == 5
    # the site says which runs were sampled
    runs = {r["meta"]["run_id"]["run_name"] for r in _results(tmp_path / "gxroot", "daam/students")}
    assert runs == {"daam-all-sample-2-of-5"}


def test_scope_filters_and_root_override(warehouse: Path, tmp_path: Path, monkeypatch):
    monkeypatch.delenv(data_docs.GX_ROOT_ENV, raising=False)
    assert gx_root() == Path(data_docs.__file__).resolve().parent  # quality_checks/gx/ by default
    monkeypatch.setenv(data_docs.GX_ROOT_ENV, str(tmp_path / "env_root"))
    assert gx_root() == (tmp_path / "env_root").resolve()
    assert gx_root(tmp_path / "arg") == (tmp_path / "arg").resolve()  # the argument wins
    with duckdb.connect(str(warehouse), read_only=True) as con:
        other_year = build_data_docs(data_docs_batches(con, school_year="2021-2022", province="110"))
    # no rows that year: only the referential, which belongs to every year
    assert [s.suite for s in other_year.suites] == ["daam.schools"]
    assert other_year.index_html.is_relative_to((tmp_path / "env_root").resolve())
    assert other_year.index_html.is_file()
