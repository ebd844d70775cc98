"""Value normalisers: folding, digits, dates, months, numbers, codes and the vocabularies of configs/."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from daam.config import load_settings
from daam.landing.normalise import (
    clean_text,
    fold,
    fold_header,
    fold_series,
    is_number,
    map_vocabulary,
    normalise_code,
    normalise_code_text,
    parse_dates,
    parse_level,
    parse_levels,
    parse_months,
    parse_school_year,
    to_number,
    vocabulary_map,
    western_digits,
)

SETTINGS = load_settings()
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EASTERN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def values(s: pd.Series) -> list:
    """Series values with every kind of missing shown as None."""
    return [None if pd.isna(v) else v for v in s]


# --- fold ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Prénom", "PRENOM"),
        ("Garçon", "garcon"),
        ("Féminin", "feminin"),
        ("تاريخ الإزدياد", "تاريخ الازدياد"),  # hamza under alef
        ("أنثى", "انثي"),  # alef with hamza, alef maqsura
        ("آب", "اب"),
        ("ٱلقسم", "القسم"),  # alef wasla
        ("المؤسسة", "المؤسسه"),  # ta marbuta
        ("التـــلميذ", "التلميذ"),  # tatweel
        ("مُحَمَّد", "محمد"),  # harakat
        ("هٰذا", "هذا"),  # superscript alef
        ("رقم\u200f التلميذ\u200e", "رقم التلميذ"),  # bidi marks
        ("\ufeffCode Massar", "code massar"),
        ("  رمز   المؤسسة :  ", "رمز المؤسسة"),  # spaces and trailing colon
        ("ﻻ", "لا"),  # presentation-form ligature (NFKC)
        ("٢٠٢٢", "2022"),
        ("۲۰۲۲", "2022"),
        ("Date\u00a0de naissance", "date de naissance"),
    ],
)
def test_fold_equates_spellings(a: str, b: str) -> None:
    assert fold(a) == fold(b)


def test_fold_keeps_hyphens_and_underscores_but_headers_do_not() -> None:
    assert fold("1APIC-3") == "1apic-3"
    assert fold("demi-pension") == "demi-pension"
    assert fold("demi_pensionnaire") == "demi_pensionnaire"
    assert fold_header("CD_ETAB") == fold_header("cd-etab") == fold_header("Cd Etab") == "cd etab"
    assert fold_header("Date d'inscription") == fold_header("date d’inscription") == fold_header("DATE_D_INSCRIPTION")
    assert fold_header("م.الإقليمية :") == "م الاقليميه"


def test_fold_series_keeps_index_and_missing() -> None:
    s = pd.Series(["Élève", None, "  ", np.nan, "ÉLÈVE"], index=[10, 11, 12, 13, 14], dtype=object)
    out = fold_series(s)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert values(out) == ["eleve", None, None, None, "eleve"]


def test_clean_text() -> None:
    s = pd.Series(["  أحمد بن علي ", "\u00a0", "", None, "Nom\u00a0Prénom", "\u200fعلي"])
    assert values(clean_text(s)) == ["أحمد بن علي", None, None, None, "Nom Prénom", "علي"]


# --- vocabularies -------------------------------------------------------------------------------


VOCAB_CASES = [
    (name, canonical, spelling)
    for name, vocab in SETTINGS.vocabularies.items()
    for canonical, accepted in vocab.items()
    for spelling in [canonical, *accepted]
]


@pytest.mark.parametrize(("name", "canonical", "spelling"), VOCAB_CASES)
def test_every_accepted_spelling_maps_to_its_canonical(name: str, canonical: str, spelling: str) -> None:
    variants = [spelling, spelling.upper(), f"  {spelling} ", spelling.replace(" ", "  ")]
    if any("\u0600" <= ch <= "\u06ff" for ch in spelling) and len(spelling) > 1:
        variants.append(spelling[0] + "ـ" + spelling[1:])  # tatweel
    out = map_vocabulary(pd.Series(variants), name, SETTINGS)
    assert values(out) == [canonical] * len(variants)


def test_vocabulary_unknown_and_missing_values() -> None:
    out = map_vocabulary(pd.Series(["ذكر", "inconnu", None, "", np.nan]), "gender", SETTINGS)
    assert values(out) == ["M", None, None, None, None]


def test_vocabulary_map_is_cached_and_folded() -> None:
    m = vocabulary_map("boarding_status", SETTINGS)
    assert m is vocabulary_map("boarding_status", SETTINGS)
    assert m[fold("نصف داخلي")] == "demi_pensionnaire"
    assert m[fold("Demi-Pensionnaire")] == "demi_pensionnaire"


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("1APIC-3", "1AC"),
        ("2APIC-1", "2AC"),
        ("1APG-1", "1AC"),
        ("3AC-2", "3AC"),
        ("2AP-1", "2AP"),
        ("6AP-4", "6AP"),
        ("TCSF-2", "TC"),
        ("TCS-1", "TC"),
        ("1BACSEF-2", "1BAC"),
        ("2BACSPF-1", "2BAC"),
        ("1apic-3", "1AC"),
        ("١APIC-٣", "1AC"),
        ("1AP", "1AP"),
        ("2bac", "2BAC"),
        ("السنة الأولى ابتدائي", "1AP"),
        ("الســنة الثالثة إعدادي", "3AC"),
        ("1ère année collège", "1AC"),
        ("1ERE ANNEE PRIMAIRE", "1AP"),
        ("Tronc commun", "TC"),
        ("الثانية باكالوريا", "2BAC"),
        ("7AP-1", None),
        ("CE1", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_levels(text: str | None, level: str | None) -> None:
    assert values(parse_levels(pd.Series([text], dtype=object), SETTINGS)) == [level]
    if text is not None:  # the one-value form a reader asks of each sheet name
        assert parse_level(text, SETTINGS) == level


def test_every_level_label_of_levels_yaml_is_recognised() -> None:
    for code, lv in SETTINGS.levels.items():
        out = parse_levels(pd.Series([code, lv.label_fr, lv.label_ar]), SETTINGS)
        assert values(out) == [code] * 3


# --- digits, numbers, codes ---------------------------------------------------------------------


def test_western_digits() -> None:
    s = pd.Series(["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "J١٣٠", None])
    assert values(western_digits(s)) == ["0123456789", "0123456789", "J130", None]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("5", 5.0),
        ("5.0", 5.0),
        ("12,5", 12.5),
        ("12.5", 12.5),
        ("١٢٫٥", 12.5),
        ("١٤٠", 140.0),
        ("1 400,50", 1400.5),
        ("1\u00a0400", 1400.0),
        ("1.400,50", 1400.5),
        ("1,400.50", 1400.5),
        ("1,234,567", 1234567.0),
        ("-3", -3.0),
        (" 7 ", 7.0),
        ("", None),
        (None, None),
        ("abc", None),
        ("nan", None),
        ("inf", None),
        ("12 DH", None),
        ("1,2,3.4,5", None),
    ],
)
def test_to_number(text: str | None, number: float | None) -> None:
    out = to_number(pd.Series([text], dtype=object))
    assert out.dtype == "float64"
    assert values(out) == [number]
    assert bool(is_number(pd.Series([text], dtype=object)).iloc[0]) is (number is not None)


def test_normalise_code() -> None:
    s = pd.Series([" j130245871 ", "١٦٦٩٨z", "S 123 456", "\u200fAB12345", "", None])
    assert values(normalise_code(s)) == ["J130245871", "16698Z", "S123456", "AB12345", None, None]
    assert [normalise_code_text(t) for t in s[:5]] == ["J130245871", "16698Z", "S123456", "AB12345", None]
    assert normalise_code_text("\u200f \u00a0") is None  # only marks and spaces: no code


# --- dates, months, school years ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("19/02/2013", "2013-02-19"),
        ("19-02-2013", "2013-02-19"),
        ("9/2/2013", "2013-02-09"),
        ("19.02.2013", "2013-02-19"),
        ("2013-02-19", "2013-02-19"),
        ("2013/02/19", "2013-02-19"),
        ("2013-2-9", "2013-02-09"),
        ("2013-02-19 00:00:00", "2013-02-19"),
        ("2013-02-19 10:30:00", "2013-02-19"),
        ("2013-02-19T10:30:00", "2013-02-19"),
        ("2013-02-19 10:30", "2013-02-19"),
        ("44805", "2022-09-01"),
        ("44805.0", "2022-09-01"),
        ("١٩/٠٢/٢٠١٣", "2013-02-19"),
        ("۱۹-۰۲-۲۰۱۳", "2013-02-19"),
        ("  19/02/2013 ", "2013-02-19"),
        ("29/02/2012", "2012-02-29"),
        ("1", "1900-01-01"),
        ("59", "1900-02-28"),
        ("61", "1900-03-01"),
        ("31/02/2013", None),
        ("29/02/2013", None),
        ("2013-13-01", None),
        ("00/01/2013", None),
        ("60", None),  # Excel's fictitious 1900-02-29
        ("80001", None),
        ("0", None),
        ("2013", None),  # a bare year is not a date
        ("19/02/13", None),
        ("demain", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_dates(text: str | None, iso: str | None) -> None:
    assert values(parse_dates(pd.Series([text], dtype=object))) == [iso]


def test_parse_dates_keeps_index() -> None:
    s = pd.Series(["19/02/2013", None, "2013-02-20"], index=["a", "b", "c"])
    out = parse_dates(s)
    assert list(out.index) == ["a", "b", "c"]
    assert values(out) == ["2013-02-19", None, "2013-02-20"]


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2022-10", "2022-10"),
        ("2022/10", "2022-10"),
        ("10/2022", "2022-10"),
        ("10-2022", "2022-10"),
        ("1/2023", "2023-01"),
        ("٢٠٢٢-١٠", "2022-10"),
        ("15/10/2022", "2022-10"),
        ("2022-10-15", "2022-10"),
        ("44835", "2022-10"),
        ("Octobre 2022", "2022-10"),
        ("OCTOBRE 2022", "2022-10"),
        ("octobre-2022", "2022-10"),
        ("Février 2023", "2023-02"),
        ("fevrier 2023", "2023-02"),
        ("Août 2023", "2023-08"),
        ("aout 2023", "2023-08"),
        ("Décembre 2022", "2022-12"),
        ("janv. 2023", "2023-01"),
        ("أكتوبر 2022", "2022-10"),
        ("اكتوبر ٢٠٢٢", "2022-10"),
        ("يناير 2023", "2023-01"),
        ("فبراير 2023", "2023-02"),
        ("مارس 2023", "2023-03"),
        ("أبريل 2023", "2023-04"),
        ("ماي 2023", "2023-05"),
        ("يونيو 2023", "2023-06"),
        ("يوليوز 2023", "2023-07"),
        ("غشت 2023", "2023-08"),
        ("شتنبر 2022", "2022-09"),
        ("نونبر 2022", "2022-11"),
        ("دجنبر 2022", "2022-12"),
        ("كانون الثاني 2023", "2023-01"),
        ("كانون الأول 2022", "2022-12"),
        ("تشرين الأول 2022", "2022-10"),
        ("تشرين الثاني 2022", "2022-11"),
        ("شباط 2023", "2023-02"),
        ("آذار 2023", "2023-03"),
        ("أيلول 2022", "2022-09"),
        ("سبتمبر 2022", "2022-09"),
        ("نوفمبر 2022", "2022-11"),
        ("ديسمبر 2022", "2022-12"),
        ("مايو 2023", "2023-05"),
        ("2022 octobre", "2022-10"),
        ("2022-13", None),
        ("13/2022", None),
        ("كانون 2022", None),
        ("octobre", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_months(text: str | None, month: str | None) -> None:
    assert values(parse_months(pd.Series([text], dtype=object))) == [month]


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2022-2023", "2022-2023"),
        ("2022/2023", "2022-2023"),
        ("2022-23", "2022-2023"),
        ("2022 / 2023", "2022-2023"),
        ("٢٠٢٢/٢٠٢٣", "2022-2023"),
        ("2099-00", "2099-2100"),
        ("2022-2024", None),
        ("2023-2022", None),
        ("2022-24", None),
        ("2022", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_school_year(text: str | None, year: str | None) -> None:
    assert parse_school_year(text) == year


# --- properties ---------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from([ARABIC_INDIC, EASTERN]))
def test_western_digits_round_trip(n: int, table: dict) -> None:
    written = str(n).translate(table)
    assert western_digits(pd.Series([written])).iloc[0] == str(n)
    assert to_number(pd.Series([written])).iloc[0] == float(n)


TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8",
        categories=("L", "M", "N", "P", "S", "Zs", "Cf"),
    ),
    max_size=30,
)


@given(TEXT)
def test_the_one_value_forms_agree_with_the_series_forms(text: str) -> None:
    """The reader's per-file calls (a sheet name, a preamble's code) give what the Series forms give."""
    assert normalise_code_text(text) == values(normalise_code(pd.Series([text], dtype=object)))[0]
    assert parse_level(text, SETTINGS) == values(parse_levels(pd.Series([text], dtype=object), SETTINGS))[0]


@given(TEXT)
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    assert fold_header(fold_header(text)) == fold_header(text)


ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءةى"
INSERTS = ["\u0640", "\u064b", "\u064c", "\u064d", "\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u0670"]


@given(st.text(alphabet=ARABIC_LETTERS + " ", min_size=1, max_size=20), st.data())
def test_fold_ignores_tatweel_and_diacritics(word: str, data: st.DataObject) -> None:
    chars = list(word)
    for _ in range(data.draw(st.integers(min_value=1, max_value=5))):
        position = data.draw(st.integers(min_value=0, max_value=len(chars)))
        chars.insert(position, data.draw(st.sampled_from(INSERTS)))
    assert fold("".join(chars)) == fold(word)


@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2119, 1, 1)))
def test_parse_dates_reads_every_written_form(day: dt.date) -> None:
    serial = (day - dt.date(1899, 12, 30)).days
    forms = [
        day.strftime("%d/%m/%Y"),
        day.strftime("%d-%m-%Y"),
        day.isoformat(),
        f"{day.isoformat()} 00:00:00",
        f"{serial}.0",
        day.strftime("%d/%m/%Y").translate(ARABIC_INDIC),
    ]
    # By design a bare 19xx/20xx is a year, not a serial: 1905-03-14..1905-09-30 lose the bare form.
    if not 1900 <= serial <= 2099:
        forms.append(str(serial))
    assert values(parse_dates(pd.Series(forms))) == [day.isoformat()] * len(forms)


SPELLINGS = [(name, canonical, spelling)
             for name, values in load_settings().vocabularies.items()
             for canonical, accepted in values.items()
             for spelling in [canonical, *accepted]]


def _disguise(spelling: str, data: st.DataObject) -> str:
    """The spelling as a secretary might type it: case changed, padded, tatweel and harakat added."""
    chars = list(spelling.upper() if data.draw(st.booleans()) else spelling.lower())
    arabic = [i for i, ch in enumerate(chars) if "\u0621" <= ch <= "\u064a"]
    for _ in range(data.draw(st.integers(min_value=0, max_value=3)) if arabic else 0):
        position = data.draw(st.sampled_from(arabic)) + 1
        chars.insert(position, data.draw(st.sampled_from(INSERTS)))
        arabic = [i for i, ch in enumerate(chars) if "\u0621" <= ch <= "\u064a"]
    pad = data.draw(st.sampled_from(["", " ", "  ", "\u00a0", "\t"]))
    return pad + "".join(chars) + data.draw(st.sampled_from(["", " ", "\u00a0"]))


@given(st.sampled_from(SPELLINGS), st.data())
def test_every_vocabulary_spelling_maps_to_its_canonical_value(entry: tuple, data: st.DataObject) -> None:
    name, canonical, spelling = entry
    written = _disguise(spelling, data)
    if name == "level":
        assert values(parse_levels(pd.Series([written]))) == [canonical]
    else:
        assert values(map_vocabulary(pd.Series([written]), name)) == [canonical]


@given(st.sampled_from(sorted(load_settings().vocabularies)), st.text(alphabet="QWZ#%&*", min_size=1, max_size=6))
def test_a_value_outside_a_vocabulary_is_never_guessed(name: str, junk: str) -> None:
    assert values(map_vocabulary(pd.Series([junk]), name)) == [None]
