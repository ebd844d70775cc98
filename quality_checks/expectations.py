"""The expectations of the Great Expectations suites, one list per record type, declared from
`configs/` without importing GX.

Each `Expectation` names a GX 1.x expectation class and the arguments it is built with; its `meta`
carries the catalogue rule it enforces, the canonical column it is about, and the prepared column
holding the value as sent (for `ops.row_issue.raw_value`). `quality_checks/suites.py` builds the GX
objects from these declarations (the suites of the monitoring job and Data Docs), and
`quality_checks/compiled.py` compiles the same declarations to SQL for staging: one source, and
`daam load` never imports GX (about three seconds a command). The expectations run on the
*prepared* rows (see `daam/landing/prepare.py`), whose helper columns are:

    <col>__raw     the value as read, trimmed (null when empty)         -> required_value_missing
    <col>          the normalised value (codes upper-cased, numbers, canonical vocabulary, ISO dates)
    <col>__check   for numbers, dates, months and vocabularies: the normalised value as text, or
                   `unread:` + the value as sent when it could not be normalised
                                                   -> number/date/month/vocabulary rules
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from daam import codes
from daam.config import RecordTypeSpec, Settings
from quality_checks.catalogue import rules

ISO_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ISO_MONTH_RE = r"^[0-9]{4}-[0-9]{2}$"
NUMBER_RE = r"^-?[0-9]+(?:\.[0-9]+)?$"
FORMAT_RULES = {
    "massar_code": ("massar_code_format", codes.MASSAR_CODE_RE),
    "school_code": ("school_code_format", codes.SCHOOL_CODE_RE),
    "commune_code": ("commune_code_format", r"^[0-9]+$"),
    "cin": ("cin_format", codes.CIN_RE),
}

# The bounds are floats: GX holds them so (it makes a float of an int bound), and the compiled SQL
# compares with the value GX holds. GX 1.x's defaults of the arguments the SQL compiler reads, for a declaration that does not give
# them (tests/quality_checks/test_gx_off_the_load_path.py compares every declaration with the GX
# object built from it, attribute by attribute).
GX_DEFAULTS: dict[str, Any] = {
    "column": None, "column_A": None, "column_B": None, "regex": None, "value_set": None,
    "min_value": None, "max_value": None, "strict_min": False, "strict_max": False, "or_equal": None,
    "ignore_row_if": "both_values_are_missing", "mostly": 1, "row_condition": None, "condition_parser": None,
    "meta": None,
}


@dataclass(frozen=True)
class Expectation:
    """One expectation as declared: GX's class name (`gx_class`, e.g. ExpectColumnValuesToBeInSet) and
    the arguments its constructor gets. Reads like the GX object where the compiler reads it
    (`exp.column`, `exp.mostly`...): an argument not given has GX's default (GX_DEFAULTS)."""

    gx_class: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name in ("gx_class", "arguments") or name.startswith("__"):
            raise AttributeError(name)
        if name in self.arguments:
            return self.arguments[name]
        if name in GX_DEFAULTS:
            return GX_DEFAULTS[name]
        raise AttributeError(f"{self.gx_class} declares no {name!r}")

    def to_gx(self):
        """The GX expectation object (imports GX)."""
        import great_expectations.expectations as gxe

        return getattr(gxe, self.gx_class)(**self.arguments)


def _meta(rule_id: str, column: str | None, value_column: str | None) -> dict:
    return {"rule": rule_id, "severity": rules()[rule_id].severity, "column": column, "value_column": value_column}


def _expect(gx_class: str, **arguments: Any) -> Expectation:
    return Expectation(gx_class, arguments)


def _vocab_rule(spec: RecordTypeSpec, column: str, vocab: str) -> str:
    if spec.name == "schools" and column in rules()["referential_value_unknown"].applies.get("column", []):
        return "referential_value_unknown"
    return {"level": "level_unknown", "gender": "gender_unknown"}.get(vocab, "vocabulary_unknown")


def declarations_for(spec: RecordTypeSpec, settings: Settings, school_year: str | None) -> list[Expectation]:
    """The expectations enforcing the catalogue's row rules on one record type, in suite order."""
    out: list[Expectation] = []
    months = settings.months_of(school_year) if school_year else None
    for col in spec.columns.values():
        raw = f"{col.name}__raw"
        if col.required:
            out.append(_expect("ExpectColumnValuesToNotBeNull", column=raw,
                               meta=_meta("required_value_missing", col.name, raw)))
        if col.kind in FORMAT_RULES:
            rule_id, regex = FORMAT_RULES[col.kind]
            out.append(_expect("ExpectColumnValuesToMatchRegex", column=col.name, regex=regex,
                               meta=_meta(rule_id, col.name, raw)))
        elif col.kind == "province_code":
            out.append(_expect("ExpectColumnValuesToBeInSet", column=col.name, value_set=sorted(settings.provinces),
                               meta=_meta("province_code_format", col.name, raw)))
        elif col.kind in ("int", "decimal"):
            out.append(_expect("ExpectColumnValuesToMatchRegex", column=f"{col.name}__check", regex=NUMBER_RE,
                               meta=_meta("number_invalid", col.name, raw)))
            out.append(_expect("ExpectColumnValuesToBeBetween", column=col.name, min_value=0.0,
                               meta=_meta("number_negative", col.name, raw)))
        elif col.kind == "date":
            out.append(_expect("ExpectColumnValuesToMatchRegex", column=f"{col.name}__check", regex=ISO_DATE_RE,
                               meta=_meta("date_invalid", col.name, raw)))
        elif col.kind == "month":
            out.append(_expect("ExpectColumnValuesToMatchRegex", column=f"{col.name}__check", regex=ISO_MONTH_RE,
                               meta=_meta("month_invalid", col.name, raw)))
            if months:
                out.append(_expect("ExpectColumnValuesToBeInSet", column=col.name, value_set=months,
                                   meta=_meta("month_outside_school_year", col.name, raw)))
        elif col.vocabulary:
            canon = sorted(settings.levels) if col.vocabulary == "level" else sorted(settings.vocabularies[col.vocabulary])
            out.append(_expect("ExpectColumnValuesToBeInSet", column=f"{col.name}__check", value_set=canon,
                               meta=_meta(_vocab_rule(spec, col.name, col.vocabulary), col.name, raw)))
    out.extend(_record_rules(spec, settings))
    return out


def _record_rules(spec: RecordTypeSpec, settings: Settings) -> list[Expectation]:
    """Rules across the columns of one row, per record type."""
    pair = {"or_equal": True, "ignore_row_if": "either_value_is_missing"}
    if spec.name == "attendance":
        return [_expect("ExpectColumnPairValuesAToBeGreaterThanB",
                        column_A="school_days_effective", column_B="absence_days_total", **pair,
                        meta=_meta("absence_days_range", "unjustified_absence_days", "unjustified_absence_days__raw"))]
    if spec.name == "students":
        return [_expect("ExpectColumnValuesToBeBetween",
                        column="age_offset", min_value=float(-settings.age_below), max_value=float(settings.age_above),
                        meta=_meta("age_level_mismatch", "birth_date", "birth_date__raw"))]
    if spec.name == "schoolbags":
        return [_expect("ExpectColumnPairValuesAToBeGreaterThanB",
                        column_A="eligible", column_B="kits_requested", **pair,
                        meta=_meta("kits_requested_above_eligible", "kits_requested", "kits_requested__raw"))]
    if spec.name == "schools":
        return [_expect("ExpectColumnPairValuesToBeEqual",
                        column_A="school_code", column_B="school_code__expected", ignore_row_if="either_value_is_missing",
                        meta=_meta("school_code_check_letter", "school_code", "school_code__raw"))]
    return []
