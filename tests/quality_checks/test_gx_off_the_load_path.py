"""`daam load` never imports Great Expectations (about three seconds of every command): staging
runs the suites' rules compiled to SQL from their declarations (quality_checks/expectations.py),
and the declarations are what the GX suites are built from, attribute for attribute."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from daam.config import RECORD_TYPES, load_settings
from quality_checks.compiled import class_name, compile_expectations
from quality_checks.expectations import GX_DEFAULTS, Expectation, declarations_for
from quality_checks.suites import expectations_for

ROOT = Path(__file__).resolve().parents[2]
S = load_settings()
YEARS = [None, *S.school_years]

# Run `daam load` in a fresh interpreter, then say which GX modules it imported and what it loaded.
LOAD = """
import json, sys
from pipelines.cli import main
main(["load", "--landing", sys.argv[1], "--warehouse", sys.argv[2]])
import duckdb
with duckdb.connect(sys.argv[2], read_only=True) as con:
    staged = con.execute("select count(*) from staging.students").fetchall()[0][0]
    issues = con.execute("select count(*) from ops.row_issue where rule = 'massar_code_format'").fetchall()[0][0]
print(json.dumps({"staged": staged, "massar_code_format": issues,
                  "gx": sorted(m for m in sys.modules if m.split(".")[0] == "great_expectations")[:5]}))
"""


def test_a_load_imports_no_great_expectations(small_landing, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", LOAD, str(small_landing), str(tmp_path / "wh.duckdb")],
                          check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # the rules did run (the fixture's roster has a malformed Massar code), and without GX
    assert out["staged"] > 0 and out["massar_code_format"] >= 1
    assert out["gx"] == [], f"daam load imported Great Expectations: {out['gx']}"


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_each_declaration_reads_as_its_gx_expectation(record_type):
    spec = S.record_types[record_type]
    for year in YEARS:
        declared, built = declarations_for(spec, S, year), expectations_for(spec, S, year)
        assert len(declared) == len(built) > 0
        for d, g in zip(declared, built, strict=True):
            assert class_name(d) == class_name(g) == type(g).__name__
            for attribute in GX_DEFAULTS:
                if hasattr(g, attribute):  # what the compiler reads, defaults included
                    ours, gx = getattr(d, attribute), getattr(g, attribute)
                    assert (ours, type(ours)) == (gx, type(gx)), (record_type, year, d.gx_class, attribute)


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_declarations_and_gx_objects_compile_to_the_same_sql(record_type):
    spec = S.record_types[record_type]
    for year in YEARS:
        declared = declarations_for(spec, S, year)
        # every column an expectation reads, as text, except the numeric ones the ranges read
        numeric = {e.column for e in declared if e.gx_class == "ExpectColumnValuesToBeBetween"}
        numeric |= {c for e in declared if e.gx_class == "ExpectColumnPairValuesAToBeGreaterThanB"
                    for c in (e.column_A, e.column_B)}
        columns = {c: ("DOUBLE" if c in numeric else "VARCHAR") for e in declared
                   for c in (e.column, e.column_A, e.column_B) if c}
        assert compile_expectations(declared, columns) == compile_expectations(expectations_for(spec, S, year), columns)


def test_a_declaration_refuses_what_gx_would_not_have():
    declared = Expectation("ExpectColumnValuesToBeInSet", {"column": "level", "value_set": ["1AP"]})
    assert declared.mostly == 1 and declared.row_condition is None and declared.strict_min is False
    with pytest.raises(AttributeError, match="declares no 'colum'"):
        declared.colum  # noqa: B018  (a misspelt argument is an error, not a silent None)
