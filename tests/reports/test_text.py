"""The pages' numbers: Babel's own formatting for the Moroccan locales, with its pattern and locale
parsed once (warehouse/site/text.py)."""

from __future__ import annotations

import random

import pytest
from babel.numbers import format_decimal, format_percent

from warehouse.site import text
from warehouse.site.text import Words

LOCALES = {"ar": "ar_MA", "fr": "fr_MA"}


def _values() -> list[float]:
    rng = random.Random(7)
    return ([rng.random() for _ in range(2000)] + [rng.uniform(-5, 5) for _ in range(500)]
            + [rng.randint(0, 10**7) for _ in range(500)]
            + [0, 0.0, 1.0, 0.0005, 0.00049999, 0.12345, 0.9995, 12.5, 13.5, 1234567.891, -3])


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_numbers_and_percentages_read_as_babel_writes_them(lang: str) -> None:
    words, locale = Words(lang), LOCALES[lang]
    for value in _values():
        for decimals in (0, 1, 2):
            assert words.number(value, decimals) == format_decimal(
                value, format="#,##0" + ("." + "0" * decimals if decimals else ""), locale=locale)
        for decimals in (1, 2):
            assert words.percent(value, decimals) == format_percent(
                value, format="#,##0." + "0" * decimals + "%", locale=locale)
    assert words.number(1234567) == format_decimal(1234567, locale=locale)  # the locale's group separator
    assert words.number(None) == words.percent(float("nan")) == "–"


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_a_negative_zero_reads_as_zero_whatever_came_first(lang: str) -> None:
    words = Words(lang)
    text._percent.cache_clear()
    text._decimal.cache_clear()  # -0.0 first: the caches hold 0.0 and -0.0 as one entry
    assert words.percent(-0.0) == words.percent(0.0) == format_percent(0.0, format="#,##0.0%", locale=LOCALES[lang])
    assert words.number(-0.0) == words.number(0.0) == "0"
