"""`prepare_sql` (DuckDB) gives exactly the prepared rows of `prepare` (pandas): value for value (a
missing value as missing, floats to the sign of zero, text to the character), column for column
(same names and order), with the DuckDB types of the pandas frame, `_content` partitioning the rows
alike, and the compiled row rules and the duplicate-key rule flagging the same rows. On:

* the hostile corpus (tests/corpus), each file as the reader gives it (columns it lacks absent);
* a generated school year with defects, in the shape staging reads from raw.<record_type>;
* hand-picked edge values of every column kind, and pandas' batch-wide behaviours (the integer
  path of pd.to_numeric, the format pd.to_datetime guesses from the first date);
* Hypothesis batches of hostile text for every record type and column kind.

A mutation of prepare_sql (a digit table cut short, serial 60 read as a date, no leap year in
2000, the `+` parser read as the correctly rounded one) fails here within seconds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daam.config import load_settings
from daam.demo.generator import generate
from daam.landing import normalise as nz
from daam.landing.inventory import classify, scan
from daam.landing.prepare import ROW_ID, prepare
from daam.landing.prepare_sql import prepare_sql
from daam.landing.reader import read_file
from quality_checks import sql_rules
from quality_checks.compiled import run_rules
from tests.corpus import cases as C
from tests.quality_checks.test_compiled_rules import _production_shape, issue_set, with_lineage

S = load_settings()
YEAR = "2022-2023"
_names = itertools.count()


# --- comparing both ---------------------------------------------------------------------------------


def _missing(v) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def _same(a, b) -> bool:
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    if isinstance(a, float | np.floating) or isinstance(b, float):
        return float(a) == float(b) and math.copysign(1.0, a) == math.copysign(1.0, b)
    return type(a) is type(b) and a == b


def _partition(values: list) -> list[list[int]]:
    groups: dict = {}
    for i, v in enumerate(values):
        groups.setdefault(v, []).append(i)
    return sorted(groups.values())


def _types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def _duplicates(con: duckdb.DuckDBPyConnection, spec) -> set[tuple]:
    found = sql_rules.duplicate_keys(con, spec)
    if found.empty:
        return set()
    return {(int(r), rule, sev, col, None if _missing(raw) else raw) for r, rule, sev, col, raw in
            found[[ROW_ID, "rule", "severity", "column_name", "raw_value"]].itertuples(index=False)}


def assert_equivalent(con: duckdb.DuckDBPyConnection, raw: pd.DataFrame, spec, year: str | None,
                      label: str = "") -> pd.DataFrame:
    """Both implementations on `raw` (numbered `_row_id` as staging does): same frame, same rules' issues."""
    raw = raw.reset_index(drop=True).copy()
    # the lineage the duplicate-key rule reads
    if "file_path" not in raw:
        raw["file_path"] = pd.Series("f.csv", index=raw.index, dtype="string")
    if "file_version" not in raw:
        raw["file_version"] = pd.Series(1, index=raw.index, dtype="int64")
    raw[ROW_ID] = np.arange(len(raw), dtype="int64")
    expected = prepare(raw, spec, S, year)
    n = next(_names)
    source, target = f"raw_{n}", f"prepared_{n}"
    con.register(source, raw)
    try:
        columns = prepare_sql(con, source, spec, S, year, target)
    finally:
        con.unregister(source)
    assert columns == list(expected.columns), label
    con.register("expected_frame", expected)
    try:
        assert _types(con, target) == _types(con, "expected_frame"), label
    finally:
        con.unregister("expected_frame")

    cursor = con.execute(f"SELECT * FROM {target} ORDER BY {ROW_ID}")
    names = [d[0] for d in cursor.description]
    got = dict(zip(names, zip(*cursor.fetchall(), strict=True), strict=True)) if len(raw) else {c: () for c in names}
    assert list(got[ROW_ID]) == list(range(len(raw))), label
    for c in columns:
        if c == "_content":
            assert _partition(list(got[c])) == _partition(expected[c].tolist()), (label, c)
            continue
        want = expected[c].tolist()
        wrong = [(i, raw.at[i, c.split("__")[0]] if c.split("__")[0] in raw else None, want[i], got[c][i])
                 for i in range(len(raw)) if not _same(want[i], got[c][i])]
        assert not wrong, (label, c, wrong[:5])

    assert _frame_issues(con, expected, spec, year) == _table_issues(con, target, columns, spec, year), label
    con.execute(f"DROP TABLE {target}")
    return expected


def _frame_issues(con, frame: pd.DataFrame, spec, year: str | None) -> tuple[set, set]:
    """The compiled row rules' issues and the duplicate-key rule's on the pandas frame."""
    con.register("prepared", frame)
    try:
        return issue_set(run_rules(con, "prepared", frame.columns, spec, S, year)), _duplicates(con, spec)
    finally:
        con.unregister("prepared")


def _table_issues(con, table: str, columns: list[str], spec, year: str | None) -> tuple[set, set]:
    """The same on prepare_sql's table (`columns`: what it returned)."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW prepared AS SELECT * FROM {table}")
    try:
        return issue_set(run_rules(con, table, columns, spec, S, year)), _duplicates(con, spec)
    finally:
        con.execute("DROP VIEW prepared")


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    yield c
    c.close()


# --- (a) the hostile corpus -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_raw(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple, tuple]:
    """The raw rows of every corpus file the reader reads, with their lineage, put end to end per
    record type and set of columns (a column a file lacks stays absent)."""
    tmp = tmp_path_factory.mktemp("corpus")
    root, outside = tmp / "landing", tmp / "outside"
    root.mkdir()
    outside.mkdir()
    C.write_landing(root, outside)
    paths = [c.path for c in C.CASES if c.setup is None and c.kind is None and not c.unread] + list(C.SUPPORT)
    groups: dict[tuple, list[pd.DataFrame]] = {}
    years = {}
    for rel in paths:
        entry = classify(rel, S)
        if entry.refusal or entry.record_type is None:
            continue
        read = read_file(root / rel, S.record_types[entry.record_type], S)
        if read.error:
            continue
        frame = with_lineage(read.frame, entry)
        groups.setdefault((entry.record_type, tuple(frame.columns)), []).append(frame)
        years[entry.record_type] = entry.school_year
    assert sum(len(frames) for frames in groups.values()) >= 60
    return {key: (years[key[0]], pd.concat(frames, ignore_index=True)) for key, frames in groups.items()}


def test_corpus(con, corpus_raw):
    assert {name for name, _ in corpus_raw} == set(S.record_types)
    for (name, columns), (year, raw) in corpus_raw.items():
        assert_equivalent(con, raw, S.record_types[name], year, f"{name} {columns}")


# --- (b) generated data with defects ----------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_raw(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    root = tmp_path_factory.mktemp("generated") / "landing"
    generate(root, scale="tiny", seed=0, years=[YEAR], defects=0.05, truth=False)
    files: dict[str, list[pd.DataFrame]] = {}
    years = {}
    for entry in scan(root, S):
        if entry.refusal or entry.record_type is None:
            continue
        read = read_file(root / entry.file_path, S.record_types[entry.record_type], S)
        if not read.error:
            files.setdefault(entry.record_type, []).append(with_lineage(read.frame, entry))
            years[entry.record_type] = entry.school_year
    return {name: (years[name], _production_shape(frames, S.record_types[name])) for name, frames in files.items()}


def test_generated(con, generated_raw):
    assert set(generated_raw) == set(S.record_types)
    for name, (year, raw) in generated_raw.items():
        assert_equivalent(con, raw, S.record_types[name], year, name)


def test_an_empty_batch(con, generated_raw):
    for name, (year, raw) in generated_raw.items():
        assert_equivalent(con, raw.iloc[:0], S.record_types[name], year, name)


def test_a_present_yes_no_column_reads_empty_as_false_an_absent_one_missing(con):
    spec = S.record_types["students"]
    raw = pd.DataFrame({"massar_code": ["J130245871", "J130245872"], "repeating": ["x", None],
                        "level": ["2AP", "2AP"], "birth_date": ["2014-05-03", None]}, dtype="string")
    prepared = assert_equivalent(con, raw, spec, YEAR)
    assert prepared["repeating"].tolist()[1] == "false" and prepared["disability"].isna().all()


def test_the_age_reads_birth_dates_as_pandas_does(con):
    """pd.to_datetime guesses its format from the first date of the batch: a first date whose year
    is in other digits (which parse_dates keeps as written) must not change how the others read."""
    spec = S.record_types["students"]
    for first in ("２０１４-05-03", "2014-05-03", None):
        dates = [first, "0000-02-29", "0001-01-01", "0099-12-31", "2014-09-02", "2014-09-01", "20١4-10-2５", "9999-12-31"]
        raw = pd.DataFrame({"massar_code": [f"J{i:09d}" for i in range(len(dates))], "birth_date": dates,
                            "level": "1AP"}, dtype="string")
        prepared = assert_equivalent(con, raw, spec, YEAR, str(first))
        assert prepared["age_at_sept"].notna().sum() >= 6


def test_the_integer_path_of_to_numeric_is_per_batch(con):
    """`-0` is 0.0 when every number of the batch is an integer text and none is missing, else -0.0."""
    spec = S.record_types["canteen_meals"]
    for values, check in ((["-0", "5"], "0.0"), (["-0", "5.5"], "-0.0"), (["-0", None], "-0.0"),
                          (["-0", "18446744073709551615"], "0.0"), (["-0", "-1", "18446744073709551615"], "-0.0"),
                          (["-0", "1" * 25], "-0.0"), (["-0", "1" * 4301], "-0.0")):
        raw = pd.DataFrame({"beneficiaries": values, "meal_days": "1", "meals_served": "1"}, dtype="string")
        prepared = assert_equivalent(con, raw.assign(period="2022-10"), spec, YEAR, str(values))
        assert prepared["beneficiaries__check"].iloc[0] == check, values


# --- (c) hand-picked edges, then Hypothesis: hostile text per column kind ----------------------------

EDGE_VALUES = {
    "number": ["5", "-0", "+0", "0", "12,5", "1 400,50", "1\u00a0400,50", "1\u202f400", "1.400,50", "1,400.50",
               "1'400.50", "1٬400٫50", "٣٫٥", "۱۲", "１２", "1५", "nan", "inf", "-inf", "1e5", "5.", ".5", "+5",
               "+10E24", "+0000000000000000000012345.5", "+1e400", "+1e-330", "1e400", "-1e400", "1e-400", "9" * 400,
               "1" * 4301, "0.125", "2.5", "3.5", "-2.5", "0.135", "-0.4", "1e", "", " ", None, "abc", "1,2,3",
               "1.2.3", "+.5e-3", "12 000", "1\u3000000", "\u200f15\u200e", "-٣"],
    "date": ["31/02/2013", "29/02/2012", "29/02/1900", "0000-02-29", "0000-01-01", "1900-02-29", "2000-02-29",
             "2100-02-29", "60", "59", "61", "1", "0", "80000", "80001", "2013", "1999", "2100", "44805", "44805.0",
             "44805.٥", "44805.५", "2022-10-01T08:30:00", "2022-10-01 08:00", "2022-10-01 25:99",
             "2022-10-01 １２:00", "1/1/2014", "2014/1/1", "01.09.2022", "٢٠١٤/٠٥/٠٣", "۰۳/۰۵/۲۰۱۴", "２０２２-10-01",
             "2022-10-2５", "2022-1０-01", "００００-01-01", "20２2-10-01", "9999-12-31", "10000-01-01",
             "octobre 2022", "", None, "\u200f01/09/2022\u200e", "2022-10-01\u3000"],
    "month": ["2022-10", "10/2022", "2022/1", "13/2022", "0/2022", "2022-1५", "Octobre 2022", "أكتوبر 2022",
              "كانون الثاني 2023", "2022 octobre", "oct. 2022", "Sept-2022", "٢٠٢٢-١٠", "２０２２-10", "2022-１０",
              "0000-01", "2022-10-15", "44805", "60", "2023", "", None],
    "code": ["j 130 245 871", "J130245871", "Ｊ１３０２４５８７１", "J١٣٠٢٤٥٨٧١", "J13024\u200b5871", "ﬁ123", "ß12", "İ1",
             "16698z", "16698Z", "16698A", "00000Z", "\u00a0", "\x1c1\x1f", "a\u3000b", "1\u00852", None, ""],
    "text": ["nan", "None", " x ", "\u00a0x\u202f", "\u2067x\u2069", "a\u2028b", "\x85x\x85", "", "   ", None,
             "\u200b", "x\u00a0y"],
}


def _edge_kind(col) -> str:
    if col.kind in ("int", "decimal"):
        return "number"
    if col.kind in ("date", "month"):
        return col.kind
    return "code" if col.kind in ("massar_code", "school_code", "province_code", "commune_code", "cin") else "text"


@pytest.mark.parametrize("name", list(S.record_types))
def test_edges(con, name):
    """Every edge value of its kind in each column, the columns shifted against each other."""
    spec = S.record_types[name]
    n = max(len(v) for v in EDGE_VALUES.values())
    frame = {}
    for k, col in enumerate(spec.columns.values()):
        if col.vocabulary:
            values = [*S.vocabularies[col.vocabulary], "X", "ذكر", " F ", "1APIC-3", "TCSF-2", "Oui", "", None]
        else:
            values = EDGE_VALUES[_edge_kind(col)]
        frame[col.name] = [values[(i + k) % len(values)] for i in range(n)]
    frame["period"] = [[*S.months_of(YEAR), None][i % 11] for i in range(n)]
    assert_equivalent(con, pd.DataFrame(frame, dtype="string"), spec, None if name == "schools" else YEAR, name)


# Python's \s: what RE2's \s does not take is the point (NBSPs, the U+2000 spaces, U+3000, FS..US, NEL, LS)
SPACES = "".join(re.findall(r"\s", "".join(map(chr, range(0x3001)))))
EDGES = SPACES + nz._INVISIBLE
DIGIT_FAMILIES = ["0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "０１２３４５６７８９", "०१२३४५६७८९", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"]
HOSTILE = SPACES + nz._INVISIBLE + "".join(DIGIT_FAMILIES) + "\u0640ـًٌٍَُِّْٰ،٫٬'’.,-/:_+eE" \
    + "ＡＢＣｊｋﬁßİıſ" + "AaBbJjKkZz" + "محمدأإآةىیک" + "éÉçÇ\u0301\u0308" + "\t\n\r\x00\x7f"


def _digits(text: str, family: str, mask: int) -> str:
    """`text` with its ASCII digits written in `family` where `mask` has a bit set."""
    out = []
    for i, ch in enumerate(text):
        out.append(family[int(ch)] if ch.isascii() and ch.isdigit() and (mask >> (i % 30)) & 1 else ch)
    return "".join(out)


@st.composite
def hostile(draw, core: st.SearchStrategy[str]) -> str | None:
    """A value of `core` in other digits, padded with edge spaces and marks; or missing, empty, blank."""
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return None
    if kind == 1:
        return draw(st.sampled_from(["", " ", "\u00a0", "\u200f", " \u3000\t", "\u2028"]))
    if kind == 2:
        return draw(st.text(alphabet=HOSTILE, max_size=8))
    text = draw(core)
    if draw(st.booleans()):
        text = _digits(text, draw(st.sampled_from(DIGIT_FAMILIES[1:])), draw(st.integers(0, 2**30 - 1)))
    pad = st.text(alphabet=EDGES, max_size=2)
    return draw(pad) + text + draw(pad)


NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.integers(-(2**65), 2**65).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.from_regex(r"[+-]?[0-9]{0,5}(?:[.,][0-9]{0,4}){0,3}(?:[eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.from_regex(r"[+-]?[0-9]{1,3}(?:[ \u00a0\u202f\u2007\u2009'٬.,][0-9]{3}){0,3}(?:[.,٫][0-9]{1,2})?",
                  fullmatch=True),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e5", "5.", ".5", "+5", "-0", "+0", "-0.0", "00012",
                     "1e400", "-1e400", "1e-400", "1e-320", "9" * 400, "9" * 400 + ".5", "1" * 4301, "1 400,50",
                     "1.400,50", "1,400.50", "1'400.50", "1٬400٫50", "12,5", "1,2,3", "1.2.3", "0x10", "1_000",
                     "٣٫٥", "-.5e-3", "1e", "e5", ".", "-", "+", "0.5", "1.5", "2.5", "-2.5", "0.125", "0.135"]),
)


def _date_text(d: dt.date, fmt: int, time: str) -> str:
    y, m, dd = f"{d.year:04d}", str(d.month), str(d.day)
    if fmt % 2:
        m, dd = m.zfill(2), dd.zfill(2)
    sep = "-/."[fmt % 3]
    return (f"{y}{sep}{m}{sep}{dd}" if fmt < 3 else f"{dd}{sep}{m}{sep}{y}") + time


DATES = st.one_of(
    st.builds(_date_text, st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)), st.integers(0, 5),
              st.sampled_from(["", " 00:00:00", "T12:30", " 1:05:09.123", "T25:99", " 12:3"])),
    st.builds(_date_text, st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)), st.integers(0, 5), st.just("")),
    st.from_regex(r"[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}", fullmatch=True),
    st.integers(-3, 90000).map(str),
    st.builds(lambda n, frac: f"{n}{frac}", st.integers(0, 81000), st.sampled_from([".0", ".5", ".", ".٥", ".५", "0"])),
    st.sampled_from(["31/02/2013", "29/02/2012", "29/02/1900", "0000-02-29", "0000-01-01", "60", "59", "61", "1",
                     "80000", "80001", "2013", "1999", "2100", "44805", "44805.0", "2022-10-01T00:00:00",
                     "2022-10-01 08:00", "1/1/2014", "2014/1/1", "01.09.2022", "2262-04-12", "1677-09-20",
                     "٢٠١٤/٠٥/٠٣", "２０２２-10-01", "2022-10-2５", "2022-1０-01", "00000", "099999"]),
)

MONTH_NAMES = ["Octobre", "octobre", "OCT", "oct.", "Sept", "juillet", "Août", "aout", "Février", "december",
               "أكتوبر", "اكتوبر", "كانون الثاني", "تشرين الأول", "غشت", "يوليوز", "جانفي", "ماي", "mai"]
MONTHS = st.one_of(
    DATES,
    st.from_regex(r"[0-9]{1,4}[-/.][0-9]{1,4}", fullmatch=True),
    st.builds(lambda y, m, f: [f"{y}-{m:02d}", f"{m}/{y}", f"{y}/{m}", f"{m:02d}-{y}", f"{y}.{m}"][f],
              st.integers(0, 9999), st.integers(0, 14), st.integers(0, 4)),
    st.builds(lambda name, y, sep, first: f"{y}{sep}{name}" if first else f"{name}{sep}{y}",
              st.sampled_from(MONTH_NAMES), st.integers(1990, 2030), st.sampled_from([" ", "-", "/", ", ", ". ", ""]),
              st.booleans()),
)

CODES = st.one_of(
    st.from_regex(r"[A-Za-z][0-9]{9}", fullmatch=True),
    st.from_regex(r"[0-9]{5}[A-Za-z]", fullmatch=True),
    st.from_regex(r"[A-Za-z]{1,2} ?[0-9]{1,6}", fullmatch=True),
    st.text(alphabet=HOSTILE, min_size=1, max_size=12),
    st.builds(lambda a, b, c: a + b + c, st.from_regex(r"[A-Za-z][0-9]{4}", fullmatch=True),
              st.sampled_from(["", " ", "\u200b", "\u00a0", "\u3000", "\x1c", "ﬁ", "ß", "Ｊ", "١", "\u0301", "İ"]),
              st.from_regex(r"[0-9]{5}", fullmatch=True)),
)

TEXTS = st.one_of(st.text(alphabet=HOSTILE, max_size=12), st.sampled_from(["nan", "None", "NA", "-", "0", "x"]))


def vocabulary_values(name: str) -> st.SearchStrategy[str]:
    spellings = [s for canonical, accepted in S.vocabularies[name].items() for s in [canonical, *accepted]]
    if name == "level":
        spellings += [s for code, lv in S.levels.items() for s in (code, lv.label_fr, lv.label_ar)]
        spellings += ["1APIC-3", "2AP-1", "TCSF-2", "2BACSPF-1", "3APIC", "9AP-1", "1apic-3", "TC-1", "x-1"]
    return st.one_of(
        st.sampled_from(spellings),
        st.builds(lambda s, up, tatweel: (s.upper() if up else s.lower()).replace("ا", "ا\u0640" if tatweel else "ا"),
                  st.sampled_from(spellings), st.booleans(), st.booleans()),
        TEXTS,
    )


def column_values(col) -> st.SearchStrategy[str | None]:
    if col.kind in ("int", "decimal"):
        core = NUMBERS
    elif col.kind == "date":
        core = DATES
    elif col.kind == "month":
        core = MONTHS
    elif col.vocabulary:
        core = vocabulary_values(col.vocabulary)
    elif col.kind in ("massar_code", "school_code", "province_code", "commune_code", "cin"):
        core = CODES
    else:
        core = TEXTS
    return hostile(core)


@st.composite
def raw_batches(draw, name: str) -> pd.DataFrame:
    """A batch of raw rows of a record type: hostile values, a column sometimes absent, and key
    values from a small pool so that keys repeat."""
    spec = S.record_types[name]
    n = draw(st.integers(1, 12))
    frame = {}
    for col in spec.columns.values():
        if not col.required and draw(st.integers(0, 4)) == 0:
            continue  # the file has no such column
        values = column_values(col)
        if col.name in spec.key:
            pool = draw(st.lists(values, min_size=1, max_size=4))
            values = st.sampled_from(pool)
        frame[col.name] = draw(st.lists(values, min_size=n, max_size=n))
    frame["period"] = draw(st.lists(st.sampled_from([*S.months_of(YEAR), "2023-07", None]), min_size=n, max_size=n))
    frame["file_path"] = draw(st.lists(st.sampled_from(["a.csv", "b.csv"]), min_size=n, max_size=n))
    raw = pd.DataFrame(frame, dtype="string")
    raw["file_version"] = pd.Series([1] * n, dtype="int64")
    return raw


HYPOTHESIS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                              HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("name", list(S.record_types))
@HYPOTHESIS
@given(data=st.data())
def test_hostile_values(con, name, data):
    raw = data.draw(raw_batches(name))
    year = None if name == "schools" else YEAR
    assert_equivalent(con, raw, S.record_types[name], year, name)
