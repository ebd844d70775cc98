r"""`prepare` (daam/landing/prepare.py) in DuckDB SQL: raw rows (all text) → the prepared rows the
quality rules check, value for value, column for column, with the DuckDB types of its frame.

Staging can so prepare a batch inside DuckDB's own threads, with no pandas frame of the rows and
nothing pickled between processes. `tests/landing/test_prepare_sql.py` proves it equal to `prepare`
on the hostile corpus, on generated data with defects, on hand-picked edges and on Hypothesis'
hostile values, the compiled rules' issues included.

How the work is split:

* Free text and identifiers hardly repeat (names, Massar codes): they are worked row by row in SQL.
  An identifier that is not pure ASCII (NFKC, Unicode upper case) goes to
  `normalise.normalise_code`, once per distinct value.
* Numbers, dates, months and vocabularies repeat (a few dozen absence counts per million rows): each
  is worked once per distinct raw value into a small mapping table, joined back. There, the ASCII
  shapes are read in SQL; what needs Unicode folding or Python's own parsers (vocabularies, levels,
  month names, dates with digits other than ASCII and Arabic-Indic) is read by the pandas
  normalisers themselves, on those distinct values only.
* Python's `\s` and `\d` are Unicode, RE2's are ASCII. Python's whitespace is spelled out as a
  class from Python's own `\s`. A regex of normalise.py is reused with `\d` as `[0-9]` only where
  the value is known to be ASCII, or where a non-ASCII digit makes pandas give up anyway: for
  numbers, `pd.to_numeric` reads ASCII digits only, so a value that Python's `\d` lets through with
  another digit ends missing either way.

What pandas does that is mirrored on purpose:

* `pd.to_numeric` returns integers when every value of the column (the whole batch) is an integer
  text within int64 or uint64 and none is missing: a `-0` is then 0.0, otherwise -0.0, which shows
  in the `__check` text. An integer text of more than 4300 digits is missing (Python's int limit).
  A text with a leading `+` is read by pandas' older, not correctly rounded parser (`_plus_number`).
* `Series.round` rounds half to even, and `round(2)` is numpy's `rint(x * 100) / 100`
  (`round_even`); a float prints as Python's `repr`, which is DuckDB's own double → text.
* `pd.to_datetime(format="%Y-%m-%d")` accepts any ASCII calendar date of years 0000-9999.
* A NaN of a nullable Float64 column is missing (`inf - inf` in `absence_days_total`).

The rows come in no particular order (`_row_id` orders them).
"""

from __future__ import annotations

import re
import sys
import uuid
import warnings
from collections.abc import Callable
from functools import cache

import duckdb
import pandas as pd

from daam import codes
from daam.config import RecordTypeSpec, Settings
from daam.landing import normalise as nz
from daam.landing.prepare import ROW_ID, UNREAD
from daam.sqlfiles import quote_identifier, quote_relation, quote_text

__all__ = ["frame_columns", "prepare_sql"]

CODE_KINDS = ("massar_code", "school_code", "province_code", "commune_code", "cin")
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


# --- character classes and literals ------------------------------------------------------------


@cache
def _python_class(pattern: str) -> str:
    """Every character Python's `re` matches with `pattern` (`\\s`, `\\d`), in code point order."""
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    return "".join(re.findall(pattern, everything))


def _spaces() -> str:
    return _python_class(r"\s")


def _re2_class(chars: str) -> str:
    """An RE2 character class of `chars`, code points as `\\x{..}`, runs as ranges."""
    points = sorted({ord(c) for c in chars})
    parts, i = [], 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        parts.append(f"\\x{{{points[i]:X}}}" + (f"-\\x{{{points[j]:X}}}" if j > i else ""))
        i = j + 1
    return "[" + "".join(parts) + "]"


def _extract(x: str, pattern: str) -> str:
    """`regexp_extract` of the named groups of a regex of normalise.py (ASCII `x`), as a struct
    ('' fields when it does not match). DuckDB names the groups by position."""
    compiled = re.compile(pattern)
    names = sorted(compiled.groupindex, key=compiled.groupindex.get)
    assert compiled.groups == len(names), f"{pattern}: every group is named"
    return f"regexp_extract({x}, '{_ascii_re(pattern)}', [{', '.join(quote_text(n) for n in names)}])"


def _ascii_re(pattern: str) -> str:
    """A regex of normalise.py for RE2, on values known to be ASCII, with no final newline (clean
    text has none): there `\\d` is `[0-9]` and Python's `$` RE2's."""
    return pattern.replace(r"\d", "[0-9]")


_DIGITS_FROM = "".join(map(chr, nz._DIGITS))
_DIGITS_TO = "".join(map(chr, nz._DIGITS.values()))
_NBSP = "\u00a0\u202f\u2007"  # what normalise._clean_text turns into plain spaces


def _is_ascii(x: str) -> str:
    return f"(strlen({x}) = length({x}))"


def _spaced(x: str) -> str:
    """normalise._clean_text's first step: NBSPs to plain spaces."""
    has = " OR ".join(f"contains({x}, {quote_text(ch)})" for ch in _NBSP)
    replaced = x
    for ch in _NBSP:
        replaced = f"replace({replaced}, {quote_text(ch)}, ' ')"
    return f"CASE WHEN {has} THEN {replaced} ELSE {x} END"


def _trimmed(x: str) -> str:
    """normalise._clean_text's second step, trimmed of Python's whitespace and the invisible marks
    (normalise._EDGE_RE), then '' → NULL (clean_text). DuckDB's trim(x, characters) is some 20
    times slower than RE2 here; most values have nothing to trim."""
    edge = _re2_class(_spaces() + nz._INVISIBLE)
    return (f"nullif(CASE WHEN regexp_matches({x}, '^{edge}|{edge}$') "
            f"THEN regexp_replace({x}, '^{edge}+|{edge}+$', '', 'g') ELSE {x} END, '')")


def _clean(x: str) -> str:
    """normalise.clean_text."""
    return _trimmed(_spaced(x))


def _western(x: str) -> str:
    """normalise.western_digits."""
    return f"translate({x}, {quote_text(_DIGITS_FROM)}, {quote_text(_DIGITS_TO)})"


# --- numbers ------------------------------------------------------------------------------------


def _number_stages() -> list[str]:
    """normalise._number_text, then pd.to_numeric, on western-digit clean text `x`, `\\d` as [0-9]
    (see the module doc), as the successive columns of a mapping table."""
    number, comma = _ascii_re(nz._NUMBER_RE), _ascii_re(nz._DECIMAL_COMMA_RE)
    # what normalise._grouped_number_text drops: Python's whitespace, NBSPs, thin space, ', ٬
    separators = _re2_class(_spaces() + "\u00a0\u202f\u2007\u2009'\u066c")

    def count(c: str) -> str:
        return f"(length(g) - length(replace(g, '{c}', '')))"

    return [
        (f"regexp_full_match(x, '{number}') AS plain, regexp_full_match(x, '{comma}') AS comma, "
         f"replace(regexp_replace(x, '{separators}', '', 'g'), '\u066b', ',') AS g"),
        # both separators: the last one is the decimal point; one only: once decimal, repeated grouping
        ("CASE WHEN contains(g, ',') AND contains(g, '.') THEN "
         "CASE WHEN regexp_matches(g, ',[^.]*$') THEN replace(replace(g, '.', ''), ',', '.') "
         "ELSE replace(g, ',', '') END "
         f"WHEN contains(g, ',') THEN "
         f"CASE WHEN {count(',')} = 1 THEN replace(g, ',', '.') ELSE replace(g, ',', '') END "
         f"WHEN {count('.')} > 1 THEN replace(g, '.', '') ELSE g END AS grouped"),
        (f"CASE WHEN plain THEN x WHEN comma THEN replace(x, ',', '.') "
         f"WHEN regexp_full_match(grouped, '{number}') THEN grouped END AS n_text"),
        ("regexp_full_match(n_text, '[+-]?[0-9]+') AS int_like, CASE WHEN starts_with(n_text, '+') THEN "
         "regexp_extract(n_text, '^[+]([0-9]*)(?:[.]([0-9]*))?(?:[eE]([+-]?[0-9]+))?$', "
         "['whole', 'fraction', 'exponent']) END AS plus"),
        # Python's int() refuses longer digit strings: pd.to_numeric makes them missing
        (f"CASE WHEN int_like AND length(ltrim(n_text, '+-')) > {_python_int_digits()} THEN NULL "
         "ELSE TRY_CAST(n_text AS DOUBLE) END AS exact, "
         "CASE WHEN int_like THEN TRY_CAST(n_text AS HUGEINT) END AS int_value"),
        *_plus_number("plus", "exact", "num"),
    ]


def _plus_number(parts: str, exact: str, out: str) -> list[str]:
    """Mapping-table stages giving `out`: `exact` but for a number text with a leading `+`, which
    pandas' correctly rounded parser (fast_float) refuses and its older `precise_xstrtod` reads: up
    to 17 significant digits (leading zeros not counted) make an integer mantissa, scaled by the
    power of ten of the exponent left, each power the double nearest to it (`+10E24` is
    9.999999999999999e+24). `parts`: the struct of the text's whole, fraction and exponent digits."""
    whole, fraction, exponent = (f"struct_extract({parts}, '{k}')" for k in ("whole", "fraction", "exponent"))
    digits = f"({whole} || {fraction})"
    zeros = f"(length({digits}) - length(ltrim({digits}, '0')))"
    used = f"least(length({digits}), {zeros} + 17)"  # the digits read into the mantissa, zeros first
    read = f"substr({digits}, {zeros} + 1, {used} - {zeros})"
    mantissa = f"CAST(coalesce(TRY_CAST({read} AS UBIGINT), 0) AS DOUBLE)"  # one rounding, as (double)uint64
    # strtol saturates a huge exponent: any bound beyond the powers' range gives the same result
    bound = 10**15
    written = (f"CASE WHEN {exponent} = '' THEN 0 ELSE coalesce(TRY_CAST({exponent} AS BIGINT), "
               f"CASE WHEN starts_with({exponent}, '-') THEN -{bound} ELSE {bound} END) END")
    e = (f"greatest(length({whole}) - {used}, 0) - greatest({used} - length({whole}), 0) "
         f"+ greatest(least({written}, {bound}), -{bound})")

    def power(k: str) -> str:
        return f"CAST('1e' || CAST({k} AS VARCHAR) AS DOUBLE)"

    scaled = (f"CASE WHEN plus_e > 308 THEN CASE WHEN plus_m = 0 THEN 0.0 ELSE CAST('inf' AS DOUBLE) END "
              f"WHEN plus_e > 0 THEN plus_m * {power('plus_e')} WHEN plus_e < -616 THEN 0.0 "
              f"WHEN plus_e < -308 THEN plus_m / {power('-308 - plus_e')} / {power(308)} "
              f"ELSE plus_m / {power('-plus_e')} END")
    return [(f"CASE WHEN {parts} IS NOT NULL THEN {mantissa} END AS plus_m, "
            f"CASE WHEN {parts} IS NOT NULL THEN {e} END AS plus_e"),
            f"CASE WHEN {parts} IS NULL OR {exact} IS NULL THEN {exact} ELSE {scaled} END AS {out}"]


def _python_int_digits() -> int:
    return sys.get_int_max_str_digits() or 1 << 62


# --- dates and months ---------------------------------------------------------------------------


def _valid_ymd(y: str, m: str, d: str) -> str:
    """A calendar date of years 0000-9999: what pd.to_datetime(format="%Y-%m-%d") accepts of ASCII
    digits (year 0 is a leap year, proleptic Gregorian)."""
    leap = f"({y} % 4 = 0 AND ({y} % 100 <> 0 OR {y} % 400 = 0))"
    days = (f"CASE WHEN {m} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
            f"WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END")
    return f"({m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {days})"


def _iso(parts: str) -> str:
    """normalise._iso of a `regexp_extract` struct of y, m, d ('' when it did not match)."""
    y, m, d = (f"struct_extract({parts}, '{k}')" for k in "ymd")
    valid = _valid_ymd(*(f"TRY_CAST({part} AS INTEGER)" for part in (y, m, d)))
    iso = f"{y} || '-' || lpad({m}, 2, '0') || '-' || lpad({d}, 2, '0')"
    return f"CASE WHEN {y} <> '' AND {valid} THEN {iso} END"


def _date_parts() -> str:
    """The shapes normalise._parse_dates reads, of ASCII clean text `x` (NULL for another)."""
    ascii = _is_ascii("x")
    return (f"CASE WHEN {ascii} THEN {_extract('x', nz._YMD_RE)} END AS ymd, "
            f"CASE WHEN {ascii} THEN {_extract('x', nz._DMY_RE)} END AS dmy, "
            f"CASE WHEN {ascii} AND NOT regexp_full_match(x, '{_ascii_re(nz._BARE_YEAR_RE)}') "
            f"THEN TRY_CAST(struct_extract({_extract('x', nz._SERIAL_RE)}, 'n') AS INTEGER) END AS serial")


def _date_value() -> str:
    """normalise._parse_dates of the parts `_date_parts` extracted."""
    # Excel's serial 60 is the fictitious 1900-02-29; below it the origin is one day later
    day = "DATE '1899-12-30' + (serial + CASE WHEN serial < 60 THEN 1 ELSE 0 END)"
    serial = f"CASE WHEN serial BETWEEN 1 AND {nz._SERIAL_MAX} AND serial <> 60 THEN strftime({day}, '%Y-%m-%d') END"
    return f"coalesce({_iso('ymd')}, {_iso('dmy')}, {serial})"


# the numeric month shapes of normalise._parse_months (written inline there)
_MONTH_SHAPES = (r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})$", r"^(?P<m>\d{1,2})[-/.](?P<y>\d{4})$")


def _month_value() -> str:
    """normalise._parse_months of the parts `_month_parts` extracted, but for the month names."""
    shapes = []
    for k in range(len(_MONTH_SHAPES)):
        y, m = (f"struct_extract(ym{k}, '{g}')" for g in "ym")
        shapes.append(f"CASE WHEN {y} <> '' AND TRY_CAST({m} AS INTEGER) BETWEEN 1 AND 12 "
                      f"THEN {y} || '-' || lpad({m}, 2, '0') END")
    return f"coalesce({', '.join(shapes)}, left({_date_value()}, 7))"


def _month_parts() -> str:
    """The shapes normalise._parse_months reads, of ASCII clean text `x` (NULL for another)."""
    return ", ".join(f"CASE WHEN {_is_ascii('x')} THEN {_extract('x', p)} END AS ym{k}"
                     for k, p in enumerate(_MONTH_SHAPES)) + ", " + _date_parts()


# --- the build ----------------------------------------------------------------------------------


def _shape(col) -> str:
    """How `prepare` treats a column: code, number, date (dates and months), vocabulary or text."""
    if col.kind in CODE_KINDS:
        return "code"
    if col.kind in ("int", "decimal"):
        return "number"
    if col.kind in ("date", "month"):
        return "date"
    return "vocabulary" if col.vocabulary else "text"


def frame_columns(raw_columns: list[str], spec: RecordTypeSpec) -> list[str]:
    """The columns of `prepare`'s frame, in its order, for raw rows with `raw_columns`."""
    out = list(raw_columns)

    def put(*names: str) -> None:
        out.extend(n for n in names if n not in out)

    put(ROW_ID)
    for col in spec.columns.values():
        put(f"{col.name}__raw")
        shape = _shape(col)
        if shape == "number":
            put(f"{col.name}__check", col.name)
        elif shape in ("date", "vocabulary"):
            put(col.name, f"{col.name}__check")
        else:
            put(col.name)
    put(*_HELPERS.get(spec.name, ()))
    if spec.key:
        put("_key", "_key_raw", "_content")
    return out


_HELPERS = {"attendance": ("school_days_effective", "absence_days_total"),
            "students": ("age_at_sept", "age_offset"), "schools": ("school_code__expected",)}


class _Build:
    """One `prepare_sql` call: its temporary tables and registered frames, and the joins of its
    mapping tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source: str, present: set[str]):
        self.con, self.source, self.present = con, source, present
        self.tag = uuid.uuid4().hex[:12]
        self.tables: list[str] = []
        self.frames: list[str] = []
        self.joins: list[str] = []  # of the rows (alias s) with the mapping tables
        self.outer_joins: list[str] = []  # of the normalised rows (alias p)
        self.carried: dict[str, str] = {}  # columns of the joined tables, for the first select

    def name(self, what: str) -> str:
        return f"_daam_prepare_{self.tag}_{what}"

    def raw(self, col: str, alias: str = "s") -> str:
        return f"CAST({alias}.{quote_identifier(col)} AS VARCHAR)" if col in self.present else "CAST(NULL AS VARCHAR)"

    def python(self, query: str, func: Callable[[pd.Series], pd.DataFrame], what: str) -> str | None:
        """`func` on the distinct values `query` selects: a frame of each value (`x`) and its results,
        registered for SQL; None when there is no value."""
        values = [row[0] for row in self.con.execute(query).fetchall()]
        if not values:
            return None
        name = self.name(what)
        self.con.register(name, func(pd.Series(values, dtype="str")))
        self.frames.append(name)
        return name

    def mapping(self, col: str, i: int, stages: list[str]) -> str:
        """The table of the distinct raw values of `col` (`raw`, NULL included) with their `count`, `t`
        (clean text), `x` (western digits) and the columns of `stages`, each computed from the ones
        before; joined to the rows as `m<i>`."""
        table = self.name(f"m{i}")
        query = f"SELECT {self.raw(col, 'r')} AS raw, count(*) AS count FROM {self.source} AS r GROUP BY ALL"
        for stage in [f"{_clean('raw')} AS t", f"{_western('t')} AS x", *stages]:
            query = f"SELECT *, {stage} FROM ({query})"
        self.con.execute(f"CREATE TEMP TABLE {table} AS {query}")
        self.tables.append(table)
        self.joins.append(f"LEFT JOIN {table} AS m{i} ON m{i}.raw IS NOT DISTINCT FROM {self.raw(col)}")
        return table

    def update(self, table: str, frame: str | None, sets: str, on: str) -> None:
        """Set `sets` (of `py`) on the rows of `table` whose `on` is a value `python` read."""
        if frame:
            self.con.execute(f"UPDATE {table} SET {sets} FROM {frame} AS py WHERE {table}.{on} = py.x")

    def close(self) -> None:
        for name in self.frames:
            self.con.unregister(name)
        for name in self.tables:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")


def prepare_sql(con: duckdb.DuckDBPyConnection, source: str, spec: RecordTypeSpec, settings: Settings,
                school_year: str | None, target: str) -> list[str]:
    """Create (or replace) the TEMP table `target` on `con` from the raw rows of the relation
    `source`: the rows `prepare` gives for them, value for value, with the DuckDB types of its frame.

    `source` (a table, view or registered frame; it is read a few times) has the canonical columns
    the files had, as text (one may be absent: missing then, except that a `yes_no` column that is
    there reads an empty cell as "false"), the lineage, and `_row_id` (BIGINT), kept as given.
    Returns the columns of the prepared frame (`frame_columns`)."""
    src, dst = quote_relation(source), quote_relation(target)
    described = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    if ROW_ID not in described:
        raise ValueError(f"{source} has no {ROW_ID} column")
    if spec.name in ("attendance", "students") and not school_year:
        raise ValueError(f"{spec.name} rows are prepared for a school year")
    if spec.name == "attendance" and "period" not in described:
        raise ValueError(f"{source} has no period column")
    columns = frame_columns(described, spec)
    build = _Build(con, src, set(described))
    try:
        query = _query(build, spec, settings, school_year, columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {dst} AS {query}")
    finally:
        build.close()
    return columns


def _query(b: _Build, spec: RecordTypeSpec, settings: Settings, school_year: str | None,
           columns: list[str]) -> str:
    """The prepared rows: layers of selects that add the normalised values (named `_daam_*`) to the
    raw row, each from the ones before, then one that names them and adds the helpers."""
    layers: list[dict[str, str]] = [{}, {}, {}]  # inner name -> expression, the first over the raw rows
    out: dict[str, str] = {}  # frame column -> expression of the last select
    value: dict[str, str] = {}  # canonical column -> inner name of its value
    for i, col in enumerate(spec.columns.values()):
        v, r, c = f"_daam_v{i}", f"_daam_r{i}", f"_daam_c{i}"
        value[col.name] = v
        out.update({col.name: v, f"{col.name}__raw": r})
        shape, present = _shape(col), col.name in b.present
        if shape != "text" and shape != "code":
            out[f"{col.name}__check"] = c
        born = spec.name == "students" and col.name == "birth_date"
        if shape in ("text", "code"):
            # row by row: these values hardly repeat
            layers[0][f"_daam_s{i}"] = _spaced(b.raw(col.name))
            layers[1][r] = _trimmed(f"_daam_s{i}")
            layers[2][v] = _code(b, col.name, i, r) if shape == "code" else r
        elif not present:
            layers[0].update({r: "CAST(NULL AS VARCHAR)", c: "CAST(NULL AS VARCHAR)",
                              v: f"CAST(NULL AS {'DOUBLE' if shape == 'number' else 'VARCHAR'})"})
            if born:
                layers[0]["_daam_born"] = "CAST(NULL AS VARCHAR)"
        elif shape == "number":
            _number_map(b, col.name, i, col.kind)
            layers[0].update({r: f"m{i}.t", v: f"m{i}.v", c: f"m{i}.chk"})
        elif shape == "date":
            _date_map(b, col.name, i, col.kind, born)
            layers[0].update({r: f"m{i}.t", v: f"m{i}.v", c: f"coalesce(m{i}.v, {quote_text(UNREAD)} || m{i}.t)"})
            if born:
                layers[0]["_daam_born"] = f"m{i}.born"
        else:
            _vocabulary_map(b, col.name, i, col.vocabulary, settings)
            check = f"coalesce(m{i}.v, {quote_text(UNREAD)} || m{i}.folded)"
            layers[0].update({r: f"m{i}.t", v: f"m{i}.v", c: check})

    def select(layer: dict[str, str], source: str) -> str:
        return f"SELECT *{''.join(f', {e} AS {n}' for n, e in layer.items())} FROM {source}"

    query = select({**layers[0], **b.carried}, f"{b.source} AS s {' '.join(b.joins)}")
    query = query.replace("SELECT *", "SELECT s.*", 1)  # not the joined tables' columns
    for layer in layers[1:]:
        query = select(layer, f"({query})")
    _helpers(b, spec, settings, school_year, value, query, out)
    if spec.key:
        keys = [value[k] for k in spec.key]
        if len(keys) == 1:
            out["_key"] = f"CAST({keys[0]} AS VARCHAR)"
        else:
            joined = " || '|' || ".join(f"CAST({k} AS VARCHAR)" for k in keys)
            out["_key"] = f"CASE WHEN {' AND '.join(f'{k} IS NOT NULL' for k in keys)} THEN {joined} END"
        out["_key_raw"] = " || ' / ' || ".join(f"coalesce({out[f'{k}__raw']}, '')" for k in spec.key)
        # equal canonical values, equal hashes: DuckDB hashes NULL apart from '' and -0.0 as 0.0
        hashed = f"hash({', '.join(value[c] for c in spec.columns)})"
        out["_content"] = f"CAST(CAST({hashed} AS HUGEINT) - {-_INT64_MIN} AS BIGINT)"
    outer = [f"{out[c]} AS {quote_identifier(c)}" if c in out else f"p.{quote_identifier(c)}" for c in columns]
    return f"SELECT {', '.join(outer)} FROM ({query}) AS p {' '.join(b.outer_joins)}"


def _code(b: _Build, col: str, i: int, text: str) -> str:
    """normalise.normalise_code of clean `text`: of an ASCII value, in SQL (NFKC and the digits
    change nothing; Python's whitespace goes, lower case letters go up); of another, by normalise
    itself, once per distinct raw value."""
    spaces = _re2_class("".join(ch for ch in _spaces() if ch.isascii()))
    changes = _re2_class("".join(ch for ch in _spaces() if ch.isascii()) + "abcdefghijklmnopqrstuvwxyz")
    of_ascii = (f"CASE WHEN regexp_matches({text}, '{changes}') "
                f"THEN nullif(upper(regexp_replace({text}, '{spaces}', '', 'g')), '') ELSE {text} END")
    raw = b.raw(col, "r")
    frame = b.python(f"SELECT DISTINCT {raw} FROM {b.source} AS r WHERE NOT {_is_ascii(raw)}",
                     lambda raws: pd.DataFrame({"x": raws, "v": nz.normalise_code(nz.clean_text(raws))}),
                     f"code{i}")
    if frame is None:
        return of_ascii
    b.joins.append(f"LEFT JOIN {frame} AS k{i} ON k{i}.x = {b.raw(col)}")
    b.carried[f"_daam_k{i}"] = f"k{i}.v"
    return f"CASE WHEN {_is_ascii(text)} THEN {of_ascii} ELSE _daam_k{i} END"


def _number_map(b: _Build, col: str, i: int, kind: str) -> None:
    """normalise.to_number of each distinct raw value, with pd.to_numeric's integer path for the
    batch; then the value (`v`, rounded) and its `chk` text as `prepare` gives them."""
    table = b.mapping(col, i, _number_stages())
    # pd.to_numeric returns integers (exact, so a `-0` is 0.0) when every value of the batch is an
    # integer text within int64 or uint64 (not some of each) and none is missing
    [(integers,)] = b.con.execute(
        f"SELECT coalesce(sum(count) FILTER (WHERE num IS NULL OR int_value IS NULL "
        f"OR int_value < {_INT64_MIN} OR int_value > {_UINT64_MAX}), 0) = 0 "
        f"AND NOT (coalesce(bool_or(int_value < 0), false) "
        f"AND coalesce(bool_or(int_value > {_INT64_MAX}), false)) FROM {table}").fetchall()
    num = "(exact + CAST(0 AS DOUBLE))" if integers else "num"
    # Series.round: half to even, round(2) being numpy's rint(x * 100) / 100
    rounded = f"round_even({num}, 0)" if kind == "int" else f"round_even({num} * 100, 0) / 100"
    check = f"CASE WHEN {num} IS NOT NULL THEN CAST({num} AS VARCHAR) ELSE {quote_text(UNREAD)} || t END"
    b.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS "
                  f"SELECT raw, t, {rounded} AS v, {check} AS chk FROM {table}")


def _date_map(b: _Build, col: str, i: int, kind: str, born: bool) -> None:
    """normalise.parse_dates (parse_months) of each distinct raw value (`v`): its ASCII shapes in
    SQL; non-ASCII digits (and month names) by normalise itself."""
    if kind == "date":
        table = b.mapping(col, i, [_date_parts(), f"{_date_value()} AS v"])
        rest, parse = f"NOT {_is_ascii('x')}", nz.parse_dates
    else:
        table = b.mapping(col, i, [_month_parts(), f"{_month_value()} AS v"])
        rest, parse = "v IS NULL", nz.parse_months
    frame = b.python(f"SELECT DISTINCT x FROM {table} WHERE x IS NOT NULL AND {rest}",
                     lambda xs: pd.DataFrame({"x": xs, "v": parse(xs)}), f"py{i}")
    b.update(table, frame, "v = py.v", on="x")
    if born:
        # the age reads the date back with pd.to_datetime: an ASCII ISO date is itself, another
        # one (a year in other digits: pandas' strptime takes them) is read by pandas
        b.con.execute(f"ALTER TABLE {table} ADD COLUMN born VARCHAR")
        b.con.execute(f"UPDATE {table} SET born = v WHERE {_is_ascii('v')}")

        def born_of(vs: pd.Series) -> pd.DataFrame:
            with warnings.catch_warnings():  # no format to infer from such dates: read one by one, as pandas does
                warnings.simplefilter("ignore", UserWarning)
                read = pd.to_datetime(vs, errors="coerce")
            text = [None if pd.isna(d) else f"{d.year:04d}-{d.month:02d}-{d.day:02d}" for d in read]
            return pd.DataFrame({"x": vs, "v": pd.Series(text, dtype="str")})

        frame = b.python(f"SELECT DISTINCT v FROM {table} WHERE NOT {_is_ascii('v')}", born_of, f"born{i}")
        b.update(table, frame, "born = py.v", on="v")


def _vocabulary_map(b: _Build, col: str, i: int, vocabulary: str, settings: Settings) -> None:
    """normalise.map_vocabulary (parse_levels for levels) and fold_series of each distinct clean
    text, by normalise itself; a `yes_no` column that is there reads an empty cell as "false"."""
    table = b.mapping(col, i, ["CAST(NULL AS VARCHAR) AS v, CAST(NULL AS VARCHAR) AS folded"])

    def mapped(ts: pd.Series) -> pd.DataFrame:
        if vocabulary == "level":
            values = nz.parse_levels(ts, settings)
        else:
            values = nz.map_vocabulary(ts, vocabulary, settings)
        return pd.DataFrame({"x": ts, "v": values, "folded": nz.fold_series(ts)})

    frame = b.python(f"SELECT DISTINCT t FROM {table} WHERE t IS NOT NULL", mapped, f"py{i}")
    b.update(table, frame, "v = py.v, folded = py.folded", on="t")
    if vocabulary == "yes_no":
        b.con.execute(f"UPDATE {table} SET v = 'false' WHERE t IS NULL")


def _helpers(b: _Build, spec: RecordTypeSpec, settings: Settings, school_year: str | None,
             value: dict[str, str], rows: str, out: dict[str, str]) -> None:
    """prepare._add_record_helpers, from the normalised `rows` (`value`: their columns)."""
    if spec.name == "attendance":
        days = " ".join(f"WHEN {quote_text(m)} THEN {settings.school_days(school_year, int(m[5:]))}"
                        for m in settings.months_of(school_year))
        calendar = f"CAST(CASE p.{quote_identifier('period')} {days} END AS DOUBLE)"
        out["school_days_effective"] = f"coalesce({value['school_days']}, {calendar})"
        total = f"({value['unjustified_absence_days']} + coalesce({value['justified_absence_days']}, 0.0))"
        out["absence_days_total"] = f"CASE WHEN NOT isnan({total}) THEN {total} END"  # a Float64 NaN is NA
    elif spec.name == "students":
        y, m, d = (f"CAST(substr(_daam_born, {a}, {n}) AS INTEGER)" for a, n in ((1, 4), (6, 2), (9, 2)))
        # pd.Timestamp(f"{year[:4]}-09-01").year - born.year - (born after 1 September)
        after = f"CASE WHEN {m} > 9 OR ({m} = 9 AND {d} > 1) THEN 1 ELSE 0 END"
        age = f"CAST({int(school_year[:4])} - {y} - {after} AS DOUBLE)"
        nominal = " ".join(f"WHEN {quote_text(k)} THEN {int(v.nominal_age)}" for k, v in settings.levels.items())
        out["age_at_sept"] = age
        out["age_offset"] = f"{age} - CASE {value['level']} {nominal} END"
    elif spec.name == "schools":
        code = value["school_code"]
        valid = f"regexp_full_match({code}, '{codes.SCHOOL_CODE_RE[1:-1]}')"
        # the check letter of each distinct five digits, by daam.codes itself
        def expected(ds: pd.Series) -> pd.DataFrame:
            return pd.DataFrame({"x": ds, "v": [d + codes.school_check_letter(d) for d in ds]})

        frame = b.python(f"SELECT DISTINCT left({code}, 5) FROM ({rows}) WHERE {valid}", expected, "letters")
        if frame is None:
            out["school_code__expected"] = "CAST(NULL AS VARCHAR)"
        else:
            b.outer_joins.append(f"LEFT JOIN {frame} AS e ON e.x = left(p.{code}, 5)")
            out["school_code__expected"] = f"CASE WHEN {valid} THEN e.v END"
