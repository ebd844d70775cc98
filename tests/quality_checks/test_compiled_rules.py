"""The row rules compiled to DuckDB SQL (`quality_checks/compiled.py`) flag exactly the rows the GX
suites flag (`quality_checks/validate.py::run_suite`), rule for rule, with the same summaries:

* on every readable file of the hostile corpus (tests/corpus), read and prepared one by one, then
  put end to end per record type;
* on a generated school year with defects (`daam generate --scale tiny --defects 0.05`), prepared
  per record type in the shape staging reads from `raw.<record_type>`;
* on hand-made frames, one per expectation type, whose edge values (None / NaN / pd.NA, empty
  text, a value equal to a bound, a partial regex match, a trailing newline, a pair with one side
  missing) pin each compiled predicate: both engines must flag exactly the rows listed there.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from types import SimpleNamespace

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
import pytest

from daam.config import load_settings
from daam.demo.generator import generate
from daam.landing.inventory import classify, scan
from daam.landing.prepare import ROW_ID, prepare
from daam.landing.reader import read_file
from quality_checks import validate
from quality_checks.compiled import NotCompilable, python_regex_to_re2, run_expectations, run_rules
from quality_checks.suites import expectations_for
from quality_checks.types import ISSUE_COLUMNS, SuiteOutcome
from quality_checks.validate import run_suite
from tests.corpus import cases as C

S = load_settings()
YEAR = "2022-2023"
LINEAGE = ("file_path", "school_year", "province_code", "school_code", "period")


# --- helpers --------------------------------------------------------------------------------------


def issue_set(outcome: SuiteOutcome) -> set[tuple]:
    df = outcome.issues
    assert list(df.columns) == ISSUE_COLUMNS
    raw = [None if pd.isna(v) else str(v) for v in df["raw_value"]]
    return set(zip(df[ROW_ID].astype("int64").tolist(), df["rule"], df["severity"], df["column_name"], raw,
                   strict=True))


def keyed(summary: list[dict]) -> dict[tuple, dict]:
    out = {(s["rule"], s["column"]): s for s in summary}
    assert len(out) == len(summary), "two expectations of a suite share (rule, column)"
    return out


def sql_outcome(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, spec, year: str | None) -> SuiteOutcome:
    con.register("prepared", frame)
    try:
        return run_rules(con, "prepared", frame.columns, spec, S, year)
    finally:
        con.unregister("prepared")


def assert_same(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, spec, year: str | None,
                label: str) -> SuiteOutcome:
    """GX and SQL on one prepared frame: same issues, same summary in the same (suite) order."""
    ours = sql_outcome(con, frame, spec, year)
    theirs = run_suite(frame, spec, S, year)
    only_sql, only_gx = issue_set(ours) - issue_set(theirs), issue_set(theirs) - issue_set(ours)
    assert not only_sql and not only_gx, (label, sorted(only_sql)[:10], sorted(only_gx)[:10])
    # GX evaluates (and lists) expectations grouped by column; no two expectations of a catalogue
    # suite share a column, so its order is the suite's too, as the compiled summary's always is
    assert keyed(ours.summary) == keyed(theirs.summary), label
    assert [(s["rule"], s["column"]) for s in ours.summary] == [
        (e.meta["rule"], e.meta["column"]) for e in expectations_for(spec, S, year)], label
    # deterministic order: suite order, then row id
    order = {k: i for i, k in enumerate(keyed(ours.summary))}
    keys = [(order[(r, c)], i) for r, c, i in zip(ours.issues["rule"], ours.issues["column_name"],
                                                   ours.issues[ROW_ID], strict=True)]
    assert keys == sorted(keys), label
    return ours


def with_lineage(frame: pd.DataFrame, entry) -> pd.DataFrame:
    """The reader's frame with the lineage `warehouse/build/raw.py` adds (prepare needs the period)."""
    for col in LINEAGE:
        if col not in frame:
            frame[col] = getattr(entry, col)
    return frame


def rules_flagged(outcomes: list[SuiteOutcome]) -> Counter:
    return Counter(rule for o in outcomes for rule in o.issues["rule"])


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    yield c
    c.close()


# --- (a) the hostile corpus -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, str | None, pd.DataFrame]]:
    """Every corpus file (cases and the clean files they refer to) that the reader reads, prepared
    on its own as the reader gives it (columns absent from the file stay absent before `prepare`),
    then the prepared frames of a record type put end to end (one GX run per record type, not per
    file: GX costs ~0.4 s a run)."""
    tmp = tmp_path_factory.mktemp("corpus")
    root, outside = tmp / "landing", tmp / "outside"
    root.mkdir()
    outside.mkdir()
    C.write_landing(root, outside)
    paths = [c.path for c in C.CASES if c.setup is None and c.kind is None and not c.unread] + list(C.SUPPORT)
    prepared: dict[tuple[str, str | None], list[pd.DataFrame]] = {}
    for rel in paths:
        entry = classify(rel, S)
        if entry.refusal or entry.record_type is None:
            continue
        spec = S.record_types[entry.record_type]
        read = read_file(root / rel, spec, S)
        if read.error:
            continue
        frame = prepare(with_lineage(read.frame, entry), spec, S, entry.school_year)
        prepared.setdefault((entry.record_type, entry.school_year), []).append(frame)
    assert len({name for name, _ in prepared}) == len(prepared), "one school year per record type"
    assert sum(len(frames) for frames in prepared.values()) >= 60
    out = {}
    for (name, year), frames in prepared.items():
        frame = pd.concat(frames, ignore_index=True)
        frame[ROW_ID] = frame.index.astype("int64")
        out[name] = (S.record_types[name], year, frame)
    return out


def test_corpus_same_rows_rule_for_rule(con, corpus_frames):
    assert set(corpus_frames) == set(S.record_types)
    outcomes = [assert_same(con, frame, spec, year, name) for name, (spec, year, frame) in corpus_frames.items()]
    flagged = rules_flagged(outcomes)
    for rule in ("required_value_missing", "massar_code_format", "school_code_check_letter", "school_code_format",
                 "province_code_format", "commune_code_format", "referential_value_unknown", "date_invalid",
                 "number_invalid", "level_unknown", "gender_unknown"):
        assert flagged[rule] > 0, rule


# --- (b) generated data with defects --------------------------------------------------------------


def _production_shape(frames: list[pd.DataFrame], spec) -> pd.DataFrame:
    """Files of one record type as staging reads them from raw.<record_type>: every canonical
    column present, all text (warehouse/build/raw.py::_raw_rows)."""
    raw = pd.concat(frames, ignore_index=True)
    raw = raw.reindex(columns=list(dict.fromkeys([*LINEAGE, *spec.columns, *raw.columns])))
    return raw.astype({c: "string" for c in raw.columns if c not in ("file_version", "row_number")})


@pytest.fixture(scope="module")
def generated_frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, str | None, pd.DataFrame]]:
    root = tmp_path_factory.mktemp("generated") / "landing"
    generate(root, scale="tiny", seed=0, years=[YEAR], defects=0.05, truth=False)
    files: dict[str, list[pd.DataFrame]] = {}
    years: dict[str, str | None] = {}
    for entry in scan(root, S):
        if entry.refusal or entry.record_type is None:
            continue
        read = read_file(root / entry.file_path, S.record_types[entry.record_type], S)
        if read.error:
            continue  # the generator's file defects
        files.setdefault(entry.record_type, []).append(with_lineage(read.frame, entry))
        years[entry.record_type] = entry.school_year
    out = {}
    for record_type, frames in files.items():
        spec = S.record_types[record_type]
        out[record_type] = (spec, years[record_type], prepare(_production_shape(frames, spec), spec, S,
                                                              years[record_type]))
    return out


def test_generated_same_rows_rule_for_rule(con, generated_frames):
    assert set(generated_frames) == set(S.record_types)
    outcomes = [assert_same(con, frame, spec, year, name) for name, (spec, year, frame) in generated_frames.items()]
    flagged = rules_flagged(outcomes)
    for rule in ("absence_days_range", "age_level_mismatch", "date_invalid", "gender_unknown",
                 "kits_requested_above_eligible", "level_unknown", "massar_code_format", "number_negative",
                 "required_value_missing"):
        assert flagged[rule] > 0, rule


def test_empty_frame_like_run_suite(con, generated_frames):
    spec, year, frame = generated_frames["students"]
    empty = frame.iloc[:0]
    ours, theirs = sql_outcome(con, empty, spec, year), run_suite(empty, spec, S, year)
    assert ours.summary == theirs.summary == []
    assert ours.issues.empty and theirs.issues.empty and list(ours.issues.columns) == ISSUE_COLUMNS


def test_a_missing_column_is_skipped_as_gx_does(con, generated_frames):
    """GX does not run an expectation whose column is not in the frame: success False, no row,
    no element count (it lists such results first; the compiled summary keeps suite order)."""
    spec, year, frame = generated_frames["attendance"]
    frame = frame.drop(columns=["justified_absence_days__check", "absence_days_total", "justified_absence_days__raw",
                                "massar_code__raw"])
    ours, theirs = sql_outcome(con, frame, spec, year), run_suite(frame, spec, S, year)
    assert issue_set(ours) == issue_set(theirs)
    assert keyed(ours.summary) == keyed(theirs.summary)
    skipped = [s for s in ours.summary if s["element_count"] is None]
    assert {(s["rule"], s["column"]) for s in skipped} == {
        ("number_invalid", "justified_absence_days"), ("absence_days_range", "unjustified_absence_days"),
        ("required_value_missing", "massar_code")}
    assert all(s["success"] is False and s["unexpected_count"] == 0 for s in skipped)
    # the rules that still run keep their rows, with no raw value to show
    negative = ours.issues[(ours.issues["rule"] == "number_negative")
                           & (ours.issues["column_name"] == "justified_absence_days")]
    assert len(negative) and negative["raw_value"].isna().all()


# --- (c) hand-made edge values, one frame per expectation type --------------------------------------

_ids = itertools.count()


def gx_outcome(frame: pd.DataFrame, expectations: list, monkeypatch: pytest.MonkeyPatch) -> SuiteOutcome:
    """`run_suite` (its whole result handling) on an ad-hoc suite instead of a record type's."""
    ctx = validate._context()
    name = f"handmade.{next(_ids)}"
    batch = ctx.data_sources.add_pandas(name).add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
    suite = ctx.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    definition = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"validate.{name}", data=batch,
                                                                        suite=suite))
    monkeypatch.setattr(validate, "_validation", lambda *_: definition)
    return validate.run_suite(frame, SimpleNamespace(name=name), S, None)


def meta(rule: str, column: str, value_column: str | None = None) -> dict:
    return {"rule": rule, "severity": "error", "column": column, "value_column": value_column or column}


NA, NAN = pd.NA, np.nan
NFD_E = unicodedata.normalize("NFD", "é")

# id -> (columns, expectations, the rows each rule must flag)
HANDMADE = {
    "not_null": (
        {"txt": pd.Series(["a", None, NAN, "", " "], dtype="str"),
         "nstr": pd.Series(["a", NA, "", "x", None], dtype="string"),
         "obj": pd.Series(["a", None, NAN, "", "b"], dtype="object"),
         "flt": pd.Series([0.0, NAN, 1.0, -0.0, np.inf], dtype="float64"),
         "nflt": pd.Series([0.0, NA, 1.0, 2.0, NA], dtype="Float64")},
        [gxe.ExpectColumnValuesToNotBeNull(column=c, meta=meta(f"nn_{c}", c)) for c in
         ("txt", "nstr", "obj", "flt", "nflt")],
        {"nn_txt": {1, 2}, "nn_nstr": {1, 4}, "nn_obj": {1, 2}, "nn_flt": {1}, "nn_nflt": {1, 4}},
    ),
    "regex": (
        {"month": pd.Series(["2022-10", "2022-10\n", "2022-10\n\n", "x2022-10", "2022-100", "", None,
                             "٢٠٢٢-10", "2022-1O", NAN, " 2022-10"], dtype="str"),
         "code": pd.Series(["abc", "a\nc", "d\n", "d", "ad", "aéc", "ABC", None, "d\r\n", "abc", "a c"],
                           dtype="string"),
         "money": pd.Series(["$1.50", "$1234.50", "$12.5", "$12.50\n", "1.50", None, "$.50", "$1.505",
                             "x$1.50", "$1,50", "$12.50"], dtype="str"),
         "latin": pd.Series(["abc", "محمد", "abم", "", "abc\n", None, "a-b", "]", "^", "\\", "é"], dtype="str")},
        [gxe.ExpectColumnValuesToMatchRegex(column="month", regex=r"^[0-9]{4}-[0-9]{2}$", meta=meta("iso_month", "month")),
         gxe.ExpectColumnValuesToMatchRegex(column="month", regex=r"[0-9]-1", meta=meta("partial", "month")),
         gxe.ExpectColumnValuesToMatchRegex(column="code", regex=r"^(?:a.c|d)$", meta=meta("dot_branch", "code")),
         gxe.ExpectColumnValuesToMatchRegex(column="money", regex=r"^\$[0-9]{1,3}?\.[0-9]{2}\Z",
                                            meta=meta("escapes_lazy", "money")),
         gxe.ExpectColumnValuesToMatchRegex(column="latin", regex=r"^[^\u0600-\u06FF\]^\\]+$",
                                            meta=meta("negated_class", "latin"))],
        {"iso_month": {2, 3, 4, 5, 7, 8, 10},  # "2022-10\n" passes: Python's $ before a final newline
         "partial": {5, 7},  # partial match anywhere; Arabic-Indic digits are not [0-9]
         "dot_branch": {1, 4, 6, 8},  # . is not a newline; "d\r\n": \r is no newline
         "escapes_lazy": {1, 2, 3, 4, 6, 7, 8, 9},  # \Z: the very end
         "negated_class": {1, 2, 3, 7, 8, 9}},  # "" has no character; "abc\n": [^...] takes the newline
    ),
    "in_set": (
        {"word": pd.Series(["a", "A", "b", "B", " a", "", None, NAN, "a ", NFD_E, "é"], dtype="str"),
         "num": pd.Series([1.0, 2.5, 3.0, NAN, -0.0, 0.0, 1e-300, 2.5000001, np.inf, 1.0, 0.0], dtype="float64")},
        [gxe.ExpectColumnValuesToBeInSet(column="word", value_set=["a", "B", "é", "it's"], meta=meta("words", "word")),
         gxe.ExpectColumnValuesToBeInSet(column="num", value_set=[1, 2.5, 0], meta=meta("numbers", "num"))],
        {"words": {1, 2, 4, 5, 8, 9}, "numbers": {2, 6, 7, 8}},
    ),
    "between": (
        {"f": pd.Series([0.0, -0.0, -1e-12, NAN, np.inf, -np.inf, 3.0], dtype="float64"),
         "g": pd.Series([-1, 5, 5.0000001, -2, NA, -1.0000001, 0], dtype="Float64"),
         "i": pd.Series([0, -1, 10, 11, 5, 9, 12], dtype="int64")},
        [gxe.ExpectColumnValuesToBeBetween(column="f", min_value=0, meta=meta("min_only", "f")),
         gxe.ExpectColumnValuesToBeBetween(column="g", min_value=-1, max_value=5, meta=meta("min_max", "g")),
         gxe.ExpectColumnValuesToBeBetween(column="g", min_value=-1, max_value=5, strict_min=True, strict_max=True,
                                           meta=meta("strict", "g")),
         gxe.ExpectColumnValuesToBeBetween(column="i", max_value=10, meta=meta("max_only", "i")),
         gxe.ExpectColumnValuesToBeBetween(column="f", max_value=0, strict_max=True, meta=meta("strict_max", "f")),
         gxe.ExpectColumnValuesToBeBetween(column="i", min_value=0.5, max_value=10.5, meta=meta("float_bounds", "i"))],
        {"min_only": {2, 5}, "min_max": {2, 3, 5}, "strict": {0, 1, 2, 3, 5}, "max_only": {3, 6},
         "strict_max": {0, 1, 4, 6}, "float_bounds": {0, 1, 3, 6}},
    ),
    "pair_greater": (
        {"a": pd.Series([5, 4, NA, 5, NA, np.inf, -0.0, 0.0, 3], dtype="Float64"),
         "b": pd.Series([5, 5, 5, NAN, NAN, np.inf, 0.0, 1e-300, -3], dtype="float64"),
         "a_raw": pd.Series(["5", "4", None, "5", None, "inf", "-0", "0", "3"], dtype="str")},
        [gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="a", column_B="b", or_equal=True,
                                                     ignore_row_if="either_value_is_missing",
                                                     meta=meta("a_ge_b", "a", "a_raw")),
         gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="a", column_B="b", or_equal=False,
                                                     ignore_row_if="either_value_is_missing",
                                                     meta=meta("a_gt_b", "b", "a_raw"))],
        {"a_ge_b": {1, 7}, "a_gt_b": {0, 1, 5, 6, 7}},
    ),
    "pair_equal": (
        {"code": pd.Series(["12345A", "12345a", None, "x", "", "é", "1", NAN], dtype="str"),
         "expected": pd.Series(["12345A", "12345A", "x", NA, "", NFD_E, "1 ", "y"], dtype="string"),
         "x": pd.Series([1.0, 1.0, NAN, 2.0, 0.0, -0.0, 7.0, 8.0], dtype="float64"),
         "y": pd.Series([1, 2, 3, 2, 0, 0, 7, 9], dtype="int64")},
        [gxe.ExpectColumnPairValuesToBeEqual(column_A="code", column_B="expected",
                                             ignore_row_if="either_value_is_missing", meta=meta("same_text", "code")),
         gxe.ExpectColumnPairValuesToBeEqual(column_A="x", column_B="y", ignore_row_if="either_value_is_missing",
                                             meta=meta("same_number", "x", "absent_column"))],
        {"same_text": {1, 5, 6}, "same_number": {1, 7}},
    ),
}


@pytest.mark.parametrize("case", list(HANDMADE))
def test_handmade_edges(con, case, monkeypatch):
    columns, expectations, expected = HANDMADE[case]
    frame = pd.DataFrame(columns)
    frame[ROW_ID] = frame.index.astype("int64")
    theirs = gx_outcome(frame, list(expectations), monkeypatch)
    con.register("handmade", frame)
    try:
        ours = run_expectations(con, "handmade", expectations, frame.columns)
    finally:
        con.unregister("handmade")
    assert issue_set(ours) == issue_set(theirs)
    assert keyed(ours.summary) == keyed(theirs.summary)
    assert [s["rule"] for s in ours.summary] == [e.meta["rule"] for e in expectations]
    got = {rule: set() for rule in expected}
    for rule, row in zip(ours.issues["rule"], ours.issues[ROW_ID], strict=True):
        got[rule].add(int(row))
    assert got == expected
    for s in ours.summary:
        assert s["element_count"] == len(frame) and s["success"] == (not expected[s["rule"]])


def test_a_nan_stored_in_duckdb_is_null_as_for_gx(con, monkeypatch):
    """DuckDB 2 reads a NaN of a float64 frame as NULL, but a DuckDB table (or an older DuckDB)
    keeps NaN, which pandas, hence GX, calls null: the compiled rules skip it as GX does."""
    frame = pd.DataFrame({"f": [NAN, -1.0, 2.0, NAN, 3.0], "g": [1.0, NAN, 5.0, NAN, 1.0],
                          "txt": pd.Series(["x", "y", "z", "w", "v"], dtype="str")})
    frame[ROW_ID] = frame.index.astype("int64")
    expectations = [
        gxe.ExpectColumnValuesToNotBeNull(column="f", meta=meta("not_null", "f", "txt")),
        gxe.ExpectColumnValuesToBeBetween(column="f", min_value=0, meta=meta("min", "f", "txt")),
        gxe.ExpectColumnValuesToBeInSet(column="g", value_set=[1], meta=meta("set", "g", "txt")),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="f", column_B="g", or_equal=True,
                                                     ignore_row_if="either_value_is_missing", meta=meta("pair", "f", "txt")),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="g", column_B="f", ignore_row_if="either_value_is_missing",
                                             meta=meta("equal", "g", "txt")),
    ]
    theirs = gx_outcome(frame, list(expectations), monkeypatch)
    con.register("with_nan", frame)
    try:
        con.execute("""create or replace temp table nan_table as select _row_id, txt,
                       coalesce(f, 'NaN'::double) as f, coalesce(g, 'NaN'::double) as g from with_nan""")
    finally:
        con.unregister("with_nan")
    assert con.execute("select count(*) from nan_table where isnan(f)").fetchall() == [(2,)]
    ours = run_expectations(con, "nan_table", expectations)
    assert issue_set(ours) == issue_set(theirs)
    assert keyed(ours.summary) == keyed(theirs.summary)
    assert {(r, i) for i, r, *_ in issue_set(ours)} == {
        ("not_null", 0), ("not_null", 3), ("min", 1), ("set", 2), ("pair", 2), ("equal", 2), ("equal", 4)}


# --- compile-time refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [r"^\d+$", r"\bx", r"(?i)^a$", r"a(?=b)", r"(a)\1", r"a$b", r"[\w-]",
                                     r"(?s).*", r"x{1001}", r"(?a:x)", r"^\s"])
def test_regex_without_exact_re2_equivalent_is_refused(pattern):
    with pytest.raises(NotCompilable):
        python_regex_to_re2(pattern)


REGEX_PROBES = ["", "a", "ab", "a\n", "a\n\n", "\n", "ba", "A1", "aa", "aab", "aaab", "a.b", "a-b", "é", "\u0645a",
                "x{1}", "a\r", "a b", "\t", "$", "^a", "1234567890", "J123456789", "J123456789\n", "12345Z", "AB123"]


@pytest.mark.parametrize("pattern", [r"^[A-Z][0-9]{9}$", r"^[0-9]{5}[A-Z]$", r"^[A-Z]{1,2}[0-9]{1,6}$", r"a", r"a$",
                                     r"^a", r"a+?b", r"a{2}", r"(?:a|b)c?$", r"[^a]", r".", r"^.$", r"\.", r"\$",
                                     r"[\^a]", r"\u0645", r"a*$", r"^(a|ab)(c|bcd)?$", r"\Aa\Z", r"[a-c]{0,2}\n?$"])
def test_regex_translation_matches_python_search(con, pattern):
    re2 = python_regex_to_re2(pattern)
    for text in REGEX_PROBES:
        [(ours,)] = con.execute("select regexp_matches($t, $p)", {"t": text, "p": re2}).fetchall()
        assert ours == (re.search(pattern, text) is not None), (pattern, re2, text)


@pytest.mark.parametrize("expectation", [
    gxe.ExpectColumnValuesToBeUnique(column="txt", meta=meta("r", "txt")),
    gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="f", column_B="g", meta=meta("r", "f")),  # ignore_row_if
    gxe.ExpectColumnValuesToBeBetween(column="txt", min_value=0, meta=meta("r", "txt")),
    gxe.ExpectColumnValuesToBeInSet(column="f", value_set=["1"], meta=meta("r", "f")),
    gxe.ExpectColumnValuesToMatchRegex(column="f", regex="1", meta=meta("r", "f")),
    gxe.ExpectColumnValuesToNotBeNull(column="txt", mostly=0.9, meta=meta("r", "txt")),
    gxe.ExpectColumnValuesToNotBeNull(column="txt", row_condition='col("f") > 0', condition_parser="great_expectations",
                                      meta=meta("r", "txt")),
])
def test_what_is_not_compiled_is_refused(con, expectation):
    frame = pd.DataFrame({"txt": pd.Series(["a"], dtype="str"), "f": [1.0], "g": [2.0], ROW_ID: [0]})
    con.register("refused", frame)
    try:
        with pytest.raises(NotCompilable):
            run_expectations(con, "refused", [expectation])
    finally:
        con.unregister("refused")


def test_every_suite_compiles(con):
    """Every record type's suite compiles (for a year; the referential for none): a regex or an
    expectation type added to the catalogue that SQL cannot reproduce exactly fails here, loudly."""
    for name, spec in S.record_types.items():
        year = None if name == "schools" else YEAR
        raw = pd.DataFrame({c: [None] for c in [*spec.columns, "period"]}, dtype="string").assign(period="2022-10")
        frame = prepare(raw, spec, S, year)
        con.register("one_row", frame)
        try:
            summary = run_rules(con, "one_row", frame.columns, spec, S, year).summary
        finally:
            con.unregister("one_row")
        assert len(summary) == len(expectations_for(spec, S, year)) and all(s["element_count"] == 1 for s in summary)
