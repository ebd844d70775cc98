"""The reports' words and numbers in Arabic and French: page text from configs/report.yaml, numbers
and month names from Babel's Moroccan locales (ar_MA, fr_MA: Western digits, the locale's
separators), and the same separators handed to Vega so chart axes read like the page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

from babel import Locale
from babel.dates import get_month_names
from babel.numbers import NumberPattern, get_decimal_symbol, get_group_symbol, parse_pattern

from daam.config import read_yaml

LANGS = ("ar", "fr")
# Suppressed values are shown as this flag (levels.md section 3), never as a number.
FLAG = "c"


def missing(value) -> bool:
    """No value: None or NaN (what pandas gives for a null)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


REPORT_CONFIG = "report.yaml"  # the pages' texts and settings; read by the site alone (warehouse/fingerprint.py)


@cache
def report_config() -> dict:
    return read_yaml(REPORT_CONFIG)


@dataclass(frozen=True)
class Words:
    """Everything a page needs to speak `lang`."""

    lang: str

    @property
    def locale(self) -> str:
        return report_config()["locales"][self.lang]

    @property
    def rtl(self) -> bool:
        return self.lang == "ar"

    def __call__(self, key: str, **values) -> str:
        """The page text `key` (configs/report.yaml), with `{name}` placeholders filled."""
        text = report_config()["text"][key][self.lang]
        return text.format(**values) if values else text

    def number(self, value: float | None, decimals: int = 0) -> str:
        if missing(value):
            return "–"
        return _decimal(value or 0, decimals, self.locale)  # or 0: -0.0 reads "0" (the cache holds 0.0 and -0.0 as one)

    def percent(self, value: float | None, decimals: int = 1) -> str:
        if missing(value):
            return "–"
        return _percent(value or 0, decimals, self.locale)

    def signed_percent(self, value: float) -> str:
        text = self.percent(abs(value))
        return ("+" if value >= 0 else "−") + text

    def month(self, month: str) -> str:
        """'2022-10' → 'octobre 2022' / 'أكتوبر 2022'."""
        year, number = month.split("-")
        return f"{month_names(self.locale)[int(number)]} {year}"

    def short_month(self, month: str) -> str:
        """'2022-10' → the month's name alone (chart axes: the school year is in the title)."""
        return month_names(self.locale)[int(month.split("-")[1])]

    def abbreviated_month(self, month: str) -> str:
        """'2022-09' → 'sept.' / 'شتنبر' (Babel's abbreviated name: a heat map's narrow column)."""
        return month_names(self.locale, "abbreviated")[int(month.split("-")[1])]

    def d3_locale(self) -> dict:
        """Vega's number format locale (d3-format), with Babel's separators."""
        return {"decimal": get_decimal_symbol(self.locale), "thousands": get_group_symbol(self.locale),
                "grouping": [3], "currency": ["", " MAD"]}


# What babel.numbers.format_decimal and format_percent do, with the pattern and the locale parsed
# once: they parse both at every call, which was a fifth of drawing a directorate's page (about
# 6,000 numbers and percentages on it).
@cache
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


@cache
def _locale(locale: str) -> Locale:
    return Locale.parse(locale)


@lru_cache(maxsize=1 << 16)
def _decimal(value: float, decimals: int, locale: str) -> str:
    """A number in the locale (cached: a region page formats thousands of cells, most of them
    small counts seen before)."""
    return _pattern("#,##0" + ("." + "0" * decimals if decimals else "")).apply(value, _locale(locale))


@lru_cache(maxsize=1 << 16)
def _percent(value: float, decimals: int, locale: str) -> str:
    """A share as a percentage in the locale (cached: the same rate is in a table and a chart's tooltip)."""
    return _pattern("#,##0." + "0" * decimals + "%").apply(value, _locale(locale))


@cache
def month_names(locale: str, width: str = "wide") -> dict[int, str]:
    return dict(get_month_names(width, locale=locale))
