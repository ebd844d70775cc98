"""Great Expectations 1.x suites, one per record type, built as code from `configs/`.

Each expectation carries in its `meta` the catalogue rule it enforces, the canonical column it is
about, and the prepared column holding the value as sent (for `ops.row_issue.raw_value`). The
suites run on the *prepared* staging DataFrame (see `daam/landing/prepare.py`), whose helper columns are:

    <col>__raw     the value as read, trimmed (null when empty)         -> required_value_missing
    <col>          the normalised value (codes upper-cased, numbers, canonical vocabulary, ISO dates)
    <col>__check   for numbers, dates, months and vocabularies: the normalised value as text, or
                   `unread:` + the value as sent when it could not be normalised
                                                   -> number/date/month/vocabulary rules
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

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


def _meta(rule_id: str, column: str | None, value_column: str | None) -> dict:
    return {"rule": rule_id, "severity": rules()[rule_id].severity, "column": column, "value_column": value_column}


def _vocab_rule(spec: RecordTypeSpec, column: str, vocab: str) -> str:
    if spec.name == "schools" and column in rules()["referential_value_unknown"].applies.get("column", []):
        return "referential_value_unknown"
    return {"level": "level_unknown", "gender": "gender_unknown"}.get(vocab, "vocabulary_unknown")


def expectations_for(spec: RecordTypeSpec, settings: Settings, school_year: str | None) -> list:
    """The expectations enforcing the catalogue's row rules on one record type."""
    out: list = []
    months = settings.months_of(school_year) if school_year else None
    for col in spec.columns.values():
        raw = f"{col.name}__raw"
        if col.required:
            out.append(gxe.ExpectColumnValuesToNotBeNull(column=raw, meta=_meta("required_value_missing", col.name, raw)))
        if col.kind in FORMAT_RULES:
            rule_id, regex = FORMAT_RULES[col.kind]
            out.append(gxe.ExpectColumnValuesToMatchRegex(column=col.name, regex=regex, meta=_meta(rule_id, col.name, raw)))
        elif col.kind == "province_code":
            out.append(gxe.ExpectColumnValuesToBeInSet(
                column=col.name, value_set=sorted(settings.provinces), meta=_meta("province_code_format", col.name, raw)))
        elif col.kind in ("int", "decimal"):
            out.append(gxe.ExpectColumnValuesToMatchRegex(
                column=f"{col.name}__check", regex=NUMBER_RE, meta=_meta("number_invalid", col.name, raw)))
            out.append(gxe.ExpectColumnValuesToBeBetween(
                column=col.name, min_value=0, meta=_meta("number_negative", col.name, raw)))
        elif col.kind == "date":
            out.append(gxe.ExpectColumnValuesToMatchRegex(
                column=f"{col.name}__check", regex=ISO_DATE_RE, meta=_meta("date_invalid", col.name, raw)))
        elif col.kind == "month":
            out.append(gxe.ExpectColumnValuesToMatchRegex(
                column=f"{col.name}__check", regex=ISO_MONTH_RE, meta=_meta("month_invalid", col.name, raw)))
            if months:
                out.append(gxe.ExpectColumnValuesToBeInSet(
                    column=col.name, value_set=months, meta=_meta("month_outside_school_year", col.name, raw)))
        elif col.vocabulary:
            canon = sorted(settings.levels) if col.vocabulary == "level" else sorted(settings.vocabularies[col.vocabulary])
            out.append(gxe.ExpectColumnValuesToBeInSet(
                column=f"{col.name}__check", value_set=canon,
                meta=_meta(_vocab_rule(spec, col.name, col.vocabulary), col.name, raw)))
    out.extend(_record_rules(spec, settings))
    return out


def _record_rules(spec: RecordTypeSpec, settings: Settings) -> list:
    """Rules across the columns of one row, per record type."""
    pair = {"or_equal": True, "ignore_row_if": "either_value_is_missing"}
    if spec.name == "attendance":
        return [gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="school_days_effective", column_B="absence_days_total", **pair,
            meta=_meta("absence_days_range", "unjustified_absence_days", "unjustified_absence_days__raw"))]
    if spec.name == "students":
        return [gxe.ExpectColumnValuesToBeBetween(
            column="age_offset", min_value=-settings.age_below, max_value=settings.age_above,
            meta=_meta("age_level_mismatch", "birth_date", "birth_date__raw"))]
    if spec.name == "schoolbags":
        return [gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="eligible", column_B="kits_requested", **pair,
            meta=_meta("kits_requested_above_eligible", "kits_requested", "kits_requested__raw"))]
    if spec.name == "schools":
        return [gxe.ExpectColumnPairValuesToBeEqual(
            column_A="school_code", column_B="school_code__expected", ignore_row_if="either_value_is_missing",
            meta=_meta("school_code_check_letter", "school_code", "school_code__raw"))]
    return []


def build_suite(spec: RecordTypeSpec, settings: Settings, school_year: str | None) -> gx.ExpectationSuite:
    """The suite `daam.<record_type>` for a school year (month rules depend on the year)."""
    # Expectations are given to the constructor, not added one by one: `add_expectation` on a
    # suite writes through to whichever GX context is active, which would make that context's
    # validation definitions stale.
    return gx.ExpectationSuite(name=f"daam.{spec.name}" + (f".{school_year}" if school_year else ""),
                               expectations=expectations_for(spec, settings, school_year))
