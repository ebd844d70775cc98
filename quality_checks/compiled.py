"""The row rules of a record type's Great Expectations suite, compiled to one DuckDB SQL query.

The expectations are the declarations the GX suite is built from (`quality_checks/expectations.py`;
the catalogue stays the single source of the rules; GX objects compile alike, and compiling never
imports GX): each one is compiled here to a SQL predicate that is true exactly on the rows GX's pandas engine counts as unexpected, and all of them
run as one set-based query over the prepared rows (one scan; a failing row yields one issue row
per rule it breaks). Staging's hot path runs this; the GX suites keep running in the monitoring job
and build Data Docs. `tests/quality_checks/test_compiled_rules.py` proves, on the hostile corpus, on
generated data with defects and on hand-made edge values, that both flag the same rows rule for
rule, with the same summaries.

What is reproduced of GX 1.x on pandas (read from its source, pinned by that test):

* Rows counted. Column-map expectations skip null values (`filter_column_isnull`), except
  ExpectColumnValuesToNotBeNull, which flags them. The pair expectations drop a row whose either
  value is missing (`ignore_row_if="either_value_is_missing"`, `DataFrame.dropna(how="any")`).
* Null. What pandas' `isnull` calls null: None, NaN and pd.NA. In DuckDB that is NULL, plus NaN
  for FLOAT/DOUBLE columns: DuckDB 2 reads the NaN of a float64 frame as NULL, but a NaN stored in
  a DuckDB table stays NaN (and DuckDB orders NaN above every number): both count as null here.
  Pandas 3 turns a NaN of a nullable Float64 column into pd.NA, so no column holds a NaN that
  pandas would not call null.
* Regex. GX matches `column.astype(str).str.contains(regex)`: Python `re.search` on the text (for
  pandas' python-backed strings; with pyarrow installed pandas would match with RE2 itself, which
  the equivalence test would show). DuckDB's `regexp_matches` is a partial match too, but with RE2
  syntax and semantics. Each regex is therefore parsed with Python's own parser and re-written for
  RE2 from the parse tree, construct by construct: literals and ranges as `\\x{..}` code points,
  `.` as `[^\\n]`, `^` as `\\A`, and Python's `$` (end of text, or before a final newline) as
  `(?:\\n?\\z)`. Whatever has no exact RE2 equivalent (`\\d`, `\\w`, `\\s`, `\\b`: Unicode-aware in
  Python, ASCII in RE2; lookarounds, back-references, flags) is refused with `NotCompilable` when
  the query is compiled, never approximated.
* Sets and ranges. `isin` and `>=`/`<=` comparisons: text against text (code point order, so the
  connection must have no `default_collation`), numbers against numbers; any other pairing is
  refused rather than left to casts that pandas would not make.
* Counts. `element_count` is the number of rows; `success` is "no unexpected row" (`mostly` other
  than 1 is refused); an expectation whose column is not in the frame does not run, as in GX: no
  issue, `success` False, `unexpected_count` 0, `element_count` None. The summary keeps the suite's
  order; GX lists its results grouped by column (and the ones that could not run first), which is
  the suite's order as long as no two expectations of a suite share a column, as today.

Two statements run: a count (and the relation's column types), then the rules, one scan of the
relation. An empty relation gives no issue and an empty summary, like `run_suite`. An error while
the query runs is reported with its type only: a database message can quote a value of the batch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from re import _constants as sre  # Python's own regex parser and its parse tree, read only
from re import _parser as sre_parse

import duckdb
import numpy as np
import pandas as pd

from daam.config import RecordTypeSpec, Settings
from daam.landing.prepare import ROW_ID
from daam.sqlfiles import quote_identifier, quote_relation, quote_text
from quality_checks.expectations import declarations_for
from quality_checks.types import ISSUE_COLUMNS, SuiteOutcome

__all__ = ["CompiledRule", "NotCompilable", "compile_expectations", "python_regex_to_re2", "query_for",
           "run_expectations", "run_rules"]

_FLOAT_TYPES = {"FLOAT", "REAL", "DOUBLE", "FLOAT4", "FLOAT8"}
_INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
              "UBIGINT", "UHUGEINT", "INT1", "INT2", "INT4", "INT8"}
_RE2_MAX_REPEAT = 1000


class NotCompilable(ValueError):
    """An expectation (or a regex of one) that has no exact SQL equivalent here."""


# --- regex: Python `re` -> RE2 -----------------------------------------------------------------


def _cp(code: int) -> str:
    """One code point as RE2 text: ASCII letters, digits and `_` as themselves, the rest `\\x{..}`."""
    if 0xD800 <= code <= 0xDFFF:
        raise NotCompilable(f"a lone surrogate U+{code:04X} cannot be matched by RE2")
    ch = chr(code)
    return ch if ch.isascii() and (ch.isalnum() or ch == "_") else f"\\x{{{code:X}}}"


def _class(items: list, pattern: str) -> str:
    out, negate = [], False
    for op, av in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            out.append(_cp(av))
        elif op is sre.RANGE:
            out.append(f"{_cp(av[0])}-{_cp(av[1])}")
        else:
            raise NotCompilable(f"regex {pattern!r}: {op} {av} has no exact RE2 equivalent (\\d, \\w, \\s "
                                "are Unicode-aware in Python, ASCII in RE2): spell the class out, e.g. [0-9]")
    return "[" + ("^" if negate else "") + "".join(out) + "]"


def _quantifier(lo: int, hi: int, pattern: str) -> str:
    if lo > _RE2_MAX_REPEAT or (hi != sre.MAXREPEAT and hi > _RE2_MAX_REPEAT):
        raise NotCompilable(f"regex {pattern!r}: RE2 repeats at most {_RE2_MAX_REPEAT} times")
    if hi == sre.MAXREPEAT:
        return {0: "*", 1: "+"}.get(lo, f"{{{lo},}}")
    return "?" if (lo, hi) == (0, 1) else f"{{{lo}}}" if lo == hi else f"{{{lo},{hi}}}"


def _emit(items: list, pattern: str, tail: bool) -> str:
    """RE2 text of a parsed sequence; `tail`: nothing of the pattern can follow the sequence."""
    out = []
    for i, (op, av) in enumerate(items):
        last = tail and i == len(items) - 1
        if op is sre.LITERAL:
            out.append(_cp(av))
        elif op is sre.NOT_LITERAL:
            out.append(f"[^{_cp(av)}]")
        elif op is sre.ANY:
            out.append("[^\\n]")  # Python's `.` (no DOTALL): anything but a newline, whatever RE2's flags
        elif op is sre.IN:
            out.append(_class(av, pattern))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            lo, hi, sub = av
            lazy = "?" if op is sre.MIN_REPEAT else ""
            body = _emit(list(sub), pattern, False)
            atom = len(sub) == 1 and sub[0][0] in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN)
            out.append(f"{body if atom else f'(?:{body})'}{_quantifier(lo, hi, pattern)}{lazy}")
        elif op is sre.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise NotCompilable(f"regex {pattern!r}: scoped flags are not compiled")
            out.append(f"(?:{_emit(list(sub), pattern, last)})")
        elif op is sre.BRANCH:
            out.append("(?:" + "|".join(_emit(list(alt), pattern, last) for alt in av[1]) + ")")
        elif op is sre.AT and av in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING):
            out.append("\\A")
        elif op is sre.AT and av is sre.AT_END_STRING:
            out.append("\\z")
        elif op is sre.AT and av is sre.AT_END:
            if not last:
                raise NotCompilable(f"regex {pattern!r}: `$` is compiled only at the end of the pattern")
            out.append("(?:\\n?\\z)")  # Python's `$`: at the end, or before a newline that ends the text
        else:
            construct = f"{op} {av}" if op is sre.AT else str(op)
            raise NotCompilable(f"regex {pattern!r}: {construct} has no exact RE2 equivalent "
                                "(Unicode \\d/\\w/\\s/\\b, lookarounds, back-references, ...)")
    return "".join(out)


def python_regex_to_re2(pattern: str) -> str:
    """An RE2 pattern that `regexp_matches` finds in exactly the texts where Python's
    `re.search(pattern, text)` does; `NotCompilable` when there is none this module can vouch for."""
    try:
        parsed = sre_parse.parse(pattern, 0)
    except re.error as exc:
        raise NotCompilable(f"regex {pattern!r} is not a valid Python regex: {exc}") from None
    if parsed.state.flags & ~re.UNICODE:
        raise NotCompilable(f"regex {pattern!r}: inline flags are not compiled")
    return _emit(list(parsed.data), pattern, True)


# --- expectations -> predicates -------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledRule:
    """One expectation of the suite: its meta and the SQL predicate true on its unexpected rows
    (None when a column it reads is not in the frame: GX does not run it either)."""

    rule: str
    severity: str
    column: str | None
    value_column: str | None  # None when the meta names none or the frame lacks it: raw_value null
    predicate: str | None


def _kind(duck_type: str) -> str:
    t = duck_type.upper()
    if t == "VARCHAR":
        return "text"
    if t in _FLOAT_TYPES:
        return "float"
    if t in _INT_TYPES or t.startswith("DECIMAL"):
        return "number"
    return "other"


def _is_null(col: str, kind: str) -> str:
    c = quote_identifier(col)
    return f"({c} IS NULL OR isnan({c}))" if kind == "float" else f"({c} IS NULL)"


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _literal(value, kind: str, what: str) -> str:
    if kind == "text" and isinstance(value, str):
        return quote_text(value)
    if kind in ("float", "number") and _is_number(value):
        if isinstance(value, float) and math.isnan(value):
            raise NotCompilable(f"{what}: NaN is not a bound or a member GX compares with")
        if isinstance(value, int):
            if not -(2**63) <= value < 2**63:
                raise NotCompilable(f"{what}: {value} is beyond BIGINT")
            return str(value)
        return f"CAST('{value!r}' AS DOUBLE)"
    raise NotCompilable(f"{what}: {value!r} ({type(value).__name__}) against a {kind} column is not compiled "
                        "(text is compared with text and numbers with numbers only)")


def class_name(exp) -> str:
    """The GX class of an expectation: a declaration's `gx_class` (quality_checks/expectations.py), or
    a GX object's own class. Compared by name, so that compiling never imports GX."""
    return getattr(exp, "gx_class", None) or type(exp).__name__


def _common_checks(exp, what: str) -> None:
    if exp.row_condition is not None or exp.condition_parser is not None:
        raise NotCompilable(f"{what}: row_condition is not compiled")
    if exp.mostly is not None and exp.mostly != 1:
        raise NotCompilable(f"{what}: mostly={exp.mostly} is not compiled (success is 'no unexpected row')")


def _predicate(exp, kinds: Mapping[str, str], what: str) -> str | None:
    """The SQL unexpected-row condition of one expectation (None: a column is not in the frame).
    What does not depend on the frame (type, regex, bounds, options) is checked first, so that an
    expectation that cannot be compiled is refused even on a frame where it would not run."""
    _common_checks(exp, what)
    kind_of = class_name(exp)
    if kind_of in ("ExpectColumnPairValuesAToBeGreaterThanB", "ExpectColumnPairValuesToBeEqual"):
        return _pair_predicate(exp, kinds, what)
    if kind_of not in ("ExpectColumnValuesToNotBeNull", "ExpectColumnValuesToMatchRegex",
                       "ExpectColumnValuesToBeInSet", "ExpectColumnValuesToBeBetween"):
        raise NotCompilable(f"{what}: no SQL compilation for {kind_of}")
    col = exp.column
    re2 = python_regex_to_re2(exp.regex) if kind_of == "ExpectColumnValuesToMatchRegex" else None
    if kind_of == "ExpectColumnValuesToBeBetween":
        _check_bounds(exp.min_value, exp.max_value, what)
    if col not in kinds:
        return None
    kind = kinds[col]
    null = _is_null(col, kind)
    if kind_of == "ExpectColumnValuesToNotBeNull":
        return null
    if kind_of == "ExpectColumnValuesToMatchRegex":
        if kind != "text":
            raise NotCompilable(f"{what}: regex on a {kind} column (GX would match Python's str() of the values)")
        return f"NOT {null} AND NOT regexp_matches({quote_identifier(col)}, '{re2}')"
    if kind_of == "ExpectColumnValuesToBeInSet":
        if exp.value_set is None:
            return "FALSE"  # vacuously true in GX
        members = [v for v in exp.value_set if v is not None]
        if not members:
            return f"NOT {null}"
        literals = ", ".join(_literal(v, kind, what) for v in members)
        return f"NOT {null} AND {quote_identifier(col)} NOT IN ({literals})"
    # ExpectColumnValuesToBeBetween
    if kind not in ("float", "number"):
        raise NotCompilable(f"{what}: a range on a {kind} column is not compiled")
    holds = []
    if exp.min_value is not None:
        holds.append(f"{quote_identifier(col)} {'>' if exp.strict_min else '>='} {_literal(exp.min_value, kind, what)}")
    if exp.max_value is not None:
        holds.append(f"{quote_identifier(col)} {'<' if exp.strict_max else '<='} {_literal(exp.max_value, kind, what)}")
    return f"NOT {null} AND NOT ({' AND '.join(holds)})"


def _check_bounds(lo, hi, what: str) -> None:
    if lo is None and hi is None:
        raise NotCompilable(f"{what}: min_value and max_value are both None")
    for bound in (lo, hi):
        if bound is not None and not _is_number(bound):
            raise NotCompilable(f"{what}: bound {bound!r} is not a number")
    if lo is not None and hi is not None and lo > hi:
        raise NotCompilable(f"{what}: min_value is greater than max_value")


def _pair_predicate(exp, kinds: Mapping[str, str], what: str) -> str | None:
    """Rows where either value is missing are dropped (GX: dropna(how="any")), then A >= B (> without
    or_equal) or A == B must hold."""
    a, b = exp.column_A, exp.column_B
    if exp.ignore_row_if != "either_value_is_missing":
        raise NotCompilable(f"{what}: ignore_row_if={exp.ignore_row_if!r} is not compiled "
                            "(only 'either_value_is_missing')")
    if a not in kinds or b not in kinds:
        return None
    ka, kb = kinds[a], kinds[b]
    numeric = {"float", "number"}
    if not (ka == kb == "text" or (ka in numeric and kb in numeric)):
        raise NotCompilable(f"{what}: columns of kinds {ka} and {kb} are not compared")
    if class_name(exp) == "ExpectColumnPairValuesToBeEqual":
        holds = f"{quote_identifier(a)} = {quote_identifier(b)}"
    else:
        holds = f"{quote_identifier(a)} {'>=' if exp.or_equal else '>'} {quote_identifier(b)}"
    return f"NOT {_is_null(a, ka)} AND NOT {_is_null(b, kb)} AND NOT ({holds})"


def compile_expectations(expectations: Sequence, column_types: Mapping[str, str]) -> list[CompiledRule]:
    """Each expectation (suite order) with its predicate. `column_types`: the frame's columns and
    their DuckDB types. Raises `NotCompilable` for an expectation or a regex not compiled exactly."""
    kinds = {name: _kind(t) for name, t in column_types.items()}
    out = []
    for i, exp in enumerate(expectations):
        meta = exp.meta or {}
        what = f"expectation {i} {class_name(exp)} (rule {meta.get('rule')}, column {meta.get('column')})"
        if "rule" not in meta or "severity" not in meta:
            raise NotCompilable(f"{what}: its meta names no rule or severity")
        value_column = meta.get("value_column")
        out.append(CompiledRule(meta["rule"], meta["severity"], meta.get("column"),
                                value_column if value_column in kinds else None, _predicate(exp, kinds, what)))
    return out


def query_for(rules: Sequence[CompiledRule], relation: str) -> str:
    """One scan of `relation`: for every row, the list of the rules it breaks, unnested to one
    issue row per (rule, row) with the raw value of that rule's value column. Output columns:
    `k` (the rule's position in `rules`), `row_id`, `raw_value`; ordered by `k`, then `row_id`."""
    active = [(k, r) for k, r in enumerate(rules) if r.predicate is not None]
    values = sorted({r.value_column for _, r in active if r.value_column})
    alias = {name: f"_daam_raw_{i}" for i, name in enumerate(values)}  # names no prepared column has
    flags = ", ".join(f"CASE WHEN {r.predicate} THEN {k} END" for k, r in active)
    carried = "".join(f", {quote_identifier(name)} AS {alias[name]}" for name in values)
    raws = " ".join(f"WHEN {k} THEN CAST({alias[r.value_column]} AS VARCHAR)" for k, r in active if r.value_column)
    raw = f"CASE _daam_k {raws} END" if raws else "CAST(NULL AS VARCHAR)"
    return (f"SELECT _daam_k AS k, _daam_row AS row_id, {raw} AS raw_value FROM ("
            f"SELECT {quote_identifier(ROW_ID)} AS _daam_row{carried}, "
            f"unnest(list_filter([{flags}], lambda x: x IS NOT NULL)) AS _daam_k FROM {relation}"
            f") ORDER BY _daam_k, _daam_row")


# --- running ------------------------------------------------------------------------------------


def _empty_issues() -> pd.DataFrame:
    return pd.DataFrame({ROW_ID: pd.Series(dtype="int64"), "rule": pd.Series(dtype="str"),
                         "severity": pd.Series(dtype="str"), "column_name": pd.Series(dtype="str"),
                         "raw_value": pd.Series(dtype="string")})[ISSUE_COLUMNS]


def run_expectations(con: duckdb.DuckDBPyConnection, relation: str, expectations: Sequence,
                     frame_columns: Iterable[str] | None = None) -> SuiteOutcome:
    """Evaluate `expectations` (GX expectation objects or their declarations, in suite order) on `relation` (a table, view
    or registered frame of `con` with `_row_id`) as one query; same outcome as `run_suite`.

    `frame_columns`: the columns of the prepared frame (all of the relation's when None). An
    expectation reading a column outside them does not run, as in GX."""
    rel = quote_relation(relation)
    try:
        described = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
        # fetchall, not fetchone: DuckDB 2 refuses other work on a connection holding an unfinished result
        [(count, collation)] = con.execute(
            f"SELECT count(*), current_setting('default_collation') FROM {rel}").fetchall()
    except duckdb.Error as exc:
        raise RuntimeError(f"compiled rules cannot read {relation}: {type(exc).__name__}") from None
    if ROW_ID not in described:
        raise ValueError(f"{relation} has no {ROW_ID} column")
    if collation:
        raise RuntimeError(f"default_collation is {collation!r}: text would not compare as in pandas")
    columns = list(described) if frame_columns is None else list(frame_columns)
    lost = [c for c in columns if c not in described]
    if lost:
        raise ValueError(f"{relation} does not show columns {lost} of the frame under their names "
                         "(DuckDB renames columns whose names differ only by case)")
    rules = compile_expectations(expectations, {c: described[c] for c in columns})
    if count == 0:
        return SuiteOutcome(_empty_issues(), [])

    if any(r.predicate is not None for r in rules):
        try:
            found = con.execute(query_for(rules, rel)).fetchnumpy()
        except duckdb.Error as exc:
            # the database's message can quote a value of the batch: its type only
            raise RuntimeError(f"compiled rules on {relation} failed to run: {type(exc).__name__}") from None
        ks = np.asarray(found["k"], dtype="int64")
        row_ids = np.asarray(found["row_id"], dtype="int64")
        raw = pd.array(np.asarray(found["raw_value"], dtype=object), dtype="string")
    else:
        ks, row_ids, raw = np.array([], dtype="int64"), np.array([], dtype="int64"), pd.array([], dtype="string")
    counts = np.bincount(ks, minlength=len(rules)) if len(rules) else np.array([], dtype="int64")

    def meta(field: str) -> np.ndarray:
        return np.array([getattr(r, field) for r in rules], dtype=object)[ks] if len(ks) else np.array([], dtype=object)

    issues = pd.DataFrame({ROW_ID: row_ids, "rule": pd.Series(meta("rule"), dtype="str"),
                           "severity": pd.Series(meta("severity"), dtype="str"),
                           "column_name": pd.Series(meta("column"), dtype="str"), "raw_value": raw})
    summary = []
    for k, r in enumerate(rules):
        ran = r.predicate is not None
        summary.append({"rule": r.rule, "column": r.column, "success": ran and int(counts[k]) == 0,
                        "unexpected_count": int(counts[k]), "element_count": int(count) if ran else None})
    return SuiteOutcome(issues, summary)


def run_rules(con: duckdb.DuckDBPyConnection, relation: str, frame_columns: Iterable[str] | None,
              spec: RecordTypeSpec, settings: Settings, school_year: str | None) -> SuiteOutcome:
    """The row rules of `spec`'s suite for `school_year` (`declarations_for`, what the GX suite is built from
    expectations) on the prepared rows in `relation`, as one DuckDB query: the outcome `run_suite`
    gives on the same rows (issue rows in suite order, then `_row_id`)."""
    return run_expectations(con, relation, declarations_for(spec, settings, school_year), frame_columns)
