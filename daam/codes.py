"""Identifier formats of the landing-zone contract (section 1)."""

from __future__ import annotations

import re

SCHOOL_CHECK_LETTERS = "ZABCDEFGHJKLMNPRSTUVWXY"
MASSAR_CODE_RE = r"^[A-Z][0-9]{9}$"
SCHOOL_CODE_RE = r"^[0-9]{5}[A-Z]$"
PROVINCE_CODE_RE = r"^[0-9]{3}$"
CIN_RE = r"^[A-Z]{1,2}[0-9]{1,6}$"
SCHOOL_YEAR_RE = r"^[0-9]{4}-[0-9]{4}$"

_school = re.compile(SCHOOL_CODE_RE)
_QUOTABLE = {"school_code": _school, "school_year": re.compile(SCHOOL_YEAR_RE)}


def quotable(key: str, value: str) -> bool:
    """Whether a refusal may quote `value`, read from a file where a `key` (school_code,
    school_year) was expected: only when it has that format; any other text after the label could
    be anything a school typed, a pupil's name included."""
    return bool(_QUOTABLE[key].match(value))


def school_check_letter(digits: str | int) -> str:
    """The check letter of a 5-digit school code: ZABCDEFGHJKLMNPRSTUVWXY[digits mod 23]."""
    return SCHOOL_CHECK_LETTERS[int(digits) % 23]


def make_school_code(number: int) -> str:
    """A valid school code for a number below 100000 (used by the demo generator)."""
    digits = f"{number:05d}"
    return digits + school_check_letter(digits)


def is_valid_school_code(code: str) -> bool:
    """Five digits and the right check letter (a wrong letter is a typo)."""
    return bool(_school.match(code)) and code[5] == school_check_letter(code[:5])
