"""Value normalisers for landing-zone files: folding, digits, dates, months, numbers, codes, vocabularies.

Every Series function keeps the index of its input and maps missing values (None, NaN, pd.NA, and
empty or blank text) to missing. String results use pandas' default string dtype (`str`), whose
missing value is NaN: test with `pd.isna`. Work is done with pandas string methods and regexes, or
with `Series.map` over the *unique* values where a scalar function is unavoidable, so a column of
200,000 pupils with a dozen distinct levels costs a dozen scalar calls.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pandas as pd

from daam.config import ConfigError, Settings, load_settings

__all__ = [
    "clean_text",
    "fold",
    "fold_header",
    "fold_series",
    "is_number",
    "map_vocabulary",
    "normalise_code",
    "normalise_code_text",
    "parse_dates",
    "parse_level",
    "parse_levels",
    "parse_months",
    "parse_school_year",
    "to_number",
    "vocabulary_map",
    "western_digits",
]

# --- character tables -------------------------------------------------------------------------

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)

# Invisible characters that Arabic keyboards, Excel and copy-paste from the web leave in cells.
_INVISIBLE = "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e" \
             "\u2060\u2066\u2067\u2068\u2069\ufeff"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")

_FOLD_TABLE = str.maketrans(
    {
        **{ord(c): None for c in _INVISIBLE},
        0x0640: None,  # tatweel
        ord("أ"): "ا", ord("إ"): "ا", ord("آ"): "ا", ord("ٱ"): "ا",
        ord("ة"): "ه", ord("ى"): "ي",
        # Persian yeh and keheh: what a Windows Farsi or Urdu keyboard layout types for ي and ك.
        ord("ی"): "ي", ord("ک"): "ك",
        **{ord(a): d for a, d in zip("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2, strict=True)},
    }
)
# Combining marks: Latin accents after NFD, Arabic harakat, superscript alef, Quranic annotation marks.
_MARKS_RE = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed]"
)
_SPACES_RE = re.compile(r"\s+")
_EDGE_COLON_RE = re.compile(r"^[\s:]+|[\s:]+$")
_HEADER_SEP_RE = re.compile(r"[\s_\-.'’‘`´]+")


def fold(text: str) -> str:
    """Fold a value for matching: NFKC, lower case, no Latin accents or Arabic diacritics, no tatweel,
    one alef, ة→ه, ى→ي, ASCII digits, no invisible marks, single spaces, no trailing colon.

    Hyphens and underscores are kept (`1APIC-3`, `demi-pension`); see `fold_header` for headers.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = unicodedata.normalize("NFKC", text).casefold()
    # NFD splits é into e + accent and أ into ا + hamza mark, so dropping marks folds both.
    text = _MARKS_RE.sub("", unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text).translate(_FOLD_TABLE)
    text = _SPACES_RE.sub(" ", text)
    return _EDGE_COLON_RE.sub("", text)


@lru_cache(maxsize=1 << 16)
def fold_header(text: str) -> str:
    """`fold`, then treat `_`, `-`, `.`, apostrophes and spaces alike (`CD_ETAB` = `cd etab`)."""
    return _EDGE_COLON_RE.sub("", _HEADER_SEP_RE.sub(" ", fold(text)))


# --- Series helpers ---------------------------------------------------------------------------


def _as_str(s: pd.Series) -> pd.Series:
    """The Series as pandas' default string dtype (missing values become NaN)."""
    if not isinstance(s, pd.Series):
        s = pd.Series(s)
    if s.dtype != "str":
        s = s.astype("str")
    return s


def _map_unique(s: pd.Series, func) -> pd.Series:
    """Apply a scalar str -> str|None function once per distinct non-missing value."""
    s = _as_str(s)
    present = s.notna()
    out = pd.Series(np.nan, index=s.index, dtype="str")
    if present.any():
        values = s[present]
        uniques = values.unique()
        table = {u: func(u) for u in uniques}
        out[present] = values.map(table).astype("str")
    return out


def _on_uniques(s: pd.Series, func, dtype: str = "str") -> pd.Series:
    """Run a vectorised Series function on the distinct values only and spread the result back.

    Pupil files repeat values heavily (birth dates, months, amounts); pandas string methods on
    python-backed strings cost per element, so this divides the work by the repetition.
    """
    s = _as_str(s)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    if len(uniques) * 2 > len(s):
        return func(s)
    done = func(pd.Series(uniques, dtype="str")).to_numpy()
    values = done[codes] if len(done) else np.full(len(s), np.nan, dtype=object)
    out = pd.Series(values, index=s.index)
    out[codes == -1] = np.nan
    return out.astype(dtype)


def fold_series(s: pd.Series) -> pd.Series:
    """`fold` on every value; missing stays missing, a value that folds to '' becomes missing."""
    out = _map_unique(s, fold)
    return out.mask(out == "")


def western_digits(s: pd.Series) -> pd.Series:
    """Arabic-Indic (٠-٩) and Eastern Arabic-Indic (۰-۹) digits to ASCII 0-9."""
    return _on_uniques(s, lambda u: u.str.translate(_DIGITS))


_EDGE_RE = f"^[\\s{_INVISIBLE}]+|[\\s{_INVISIBLE}]+$"


def _clean_text(s: pd.Series) -> pd.Series:
    s = s.str.replace("[\u00a0\u202f\u2007]", " ", regex=True)
    return s.str.replace(_EDGE_RE, "", regex=True)


def clean_text(s: pd.Series) -> pd.Series:
    """Free text as written: non-breaking spaces to spaces, trimmed (with edge bidi marks); '' → NA."""
    s = _on_uniques(s, _clean_text)
    return s.mask(s == "")


# --- dates and months -------------------------------------------------------------------------

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_YMD_RE = rf"^(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}}){_TIME}$"
_DMY_RE = rf"^(?P<d>\d{{1,2}})[-/.](?P<m>\d{{1,2}})[-/.](?P<y>\d{{4}}){_TIME}$"
_SERIAL_RE = r"^(?P<n>\d{1,5})(?:\.\d+)?$"
_SERIAL_MAX = 80000  # 2119-01-10: beyond it a number is not a date of this data
# A bare year (`2013`) is a serial number in range, but nobody means 1905-07-05 by it.
_BARE_YEAR_RE = r"^(?:19|20)\d\d$"


def _iso(y: pd.Series, m: pd.Series, d: pd.Series) -> pd.Series:
    """Assemble YYYY-MM-DD from digit strings; impossible calendar dates become missing."""
    iso = y.str.zfill(4) + "-" + m.str.zfill(2) + "-" + d.str.zfill(2)
    ok = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce").notna()
    return iso.where(ok)


def parse_dates(s: pd.Series) -> pd.Series:
    """Dates to ISO `YYYY-MM-DD` (missing when unreadable).

    Accepts `dd/mm/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy`, `yyyy-mm-dd`, `yyyy/mm/dd`, ISO date-times
    (`yyyy-mm-dd hh:mm[:ss]`, `...T...`, the reader's form of Excel date cells), Excel serial numbers
    1..80000 (`44805`, `44805.0`; 1900 date system) and Arabic-Indic digits. Impossible dates
    (31/02/2013) are missing.
    """
    return _on_uniques(s, _parse_dates)


def _parse_dates(s: pd.Series) -> pd.Series:
    x = clean_text(western_digits(s))
    out = pd.Series(np.nan, index=x.index, dtype="str")
    for pattern in (_YMD_RE, _DMY_RE):
        todo = out.isna() & x.notna()
        if not todo.any():
            break
        parts = x[todo].str.extract(pattern)
        hit = parts["y"].notna()
        if hit.any():
            p = parts[hit]
            out[p.index] = _iso(p["y"], p["m"], p["d"])
    todo = out.isna() & x.notna()
    if todo.any():
        candidates = x[todo]
        candidates = candidates[~candidates.str.fullmatch(_BARE_YEAR_RE)]
        n = pd.to_numeric(candidates.str.extract(_SERIAL_RE)["n"], errors="coerce")
        n = n[(n >= 1) & (n <= _SERIAL_MAX) & (n != 60)]
        if len(n):
            # Excel counts 1900 as a leap year: serial 60 is the fictitious 1900-02-29, and below it
            # the origin is 1899-12-31 (serial 1 = 1900-01-01), one day later than for the rest.
            days = n + (n < 60).astype(int)
            dates = pd.to_datetime(days, unit="D", origin="1899-12-30")
            out[n.index] = dates.dt.strftime("%Y-%m-%d")
    return out


_MONTH_NAMES: dict[str, int] = {}
for _num, _names in enumerate(
    [
        "janvier janv jan january يناير جانفي كانون الثاني",
        "fevrier fevr fev february feb فبراير فيفري شباط",
        "mars mar march مارس اذار",
        "avril avr april apr ابريل افريل نيسان",
        "mai may ماي مايو ايار",
        "juin jun june يونيو يونيه جوان حزيران",
        "juillet juil jul july يوليوز يوليو يوليه جويليه تموز",
        "aout aug august غشت اغسطس اوت اب",
        "septembre sept sep september شتنبر سبتمبر ايلول",
        "octobre oct october اكتوبر تشرين الاول",
        "novembre nov november نونبر نوفمبر تشرين الثاني",
        "decembre dec december دجنبر ديسمبر كانون الاول",
    ],
    start=1,
):
    _MONTH_NAMES.update({fold(w): _num for w in _names.split()})
# Levantine names are two words; their second words alone are not month names.
for _name, _num in {"كانون الثاني": 1, "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الاول": 12}.items():
    _MONTH_NAMES[fold(_name)] = _num
for _w in ("كانون", "تشرين", "الثاني", "الاول"):
    _MONTH_NAMES.pop(fold(_w), None)

_MONTH_ALT = "|".join(sorted((re.escape(k) for k in _MONTH_NAMES), key=len, reverse=True))
_NAME_YEAR_RE = re.compile(rf"^(?P<name>{_MONTH_ALT})\.?[\s,/\-.]*(?P<y>\d{{4}})$")
_YEAR_NAME_RE = re.compile(rf"^(?P<y>\d{{4}})[\s,/\-.]*(?P<name>{_MONTH_ALT})\.?$")


def _named_month(text: str) -> str | None:
    f = fold(text)
    m = _NAME_YEAR_RE.match(f) or _YEAR_NAME_RE.match(f)
    if not m:
        return None
    return f"{m['y']}-{_MONTH_NAMES[m['name']]:02d}"


def parse_months(s: pd.Series) -> pd.Series:
    """Months to `YYYY-MM` (missing when unreadable).

    Accepts `2022-10`, `2022/10`, `10/2022`, `10-2022`, any date `parse_dates` reads (its month),
    and a French, Moroccan, Middle-Eastern or Maghreb month name with the year (`Octobre 2022`,
    `أكتوبر 2022`, `كانون الثاني 2023`, `2022 octobre`).
    """
    return _on_uniques(s, _parse_months)


def _parse_months(s: pd.Series) -> pd.Series:
    x = clean_text(western_digits(s))
    out = pd.Series(np.nan, index=x.index, dtype="str")
    for pattern in (r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})$", r"^(?P<m>\d{1,2})[-/.](?P<y>\d{4})$"):
        todo = out.isna() & x.notna()
        if not todo.any():
            break
        parts = x[todo].str.extract(pattern)
        month = pd.to_numeric(parts["m"], errors="coerce")
        hit = parts["y"].notna() & month.between(1, 12)
        if hit.any():
            p = parts[hit]
            out[p.index] = p["y"] + "-" + p["m"].str.zfill(2)
    todo = out.isna() & x.notna()
    if todo.any():
        dates = _parse_dates(x[todo])
        hit = dates.notna()
        out[dates.index[hit]] = dates[hit].str.slice(0, 7)
    todo = out.isna() & x.notna()
    if todo.any():
        out[todo] = _map_unique(x[todo], _named_month)
    return out


_SCHOOL_YEAR_RE = re.compile(r"^(\d{4})\s*[-/–—_]\s*(\d{4}|\d{2})$")


def parse_school_year(text: str) -> str | None:
    """`2022-2023`, `2022/2023`, `2022-23` (and Arabic-Indic digits) → `2022-2023`; else None.

    The second year must follow the first.
    """
    if not isinstance(text, str):
        return None
    m = _SCHOOL_YEAR_RE.match(fold(text))
    if not m:
        return None
    first, second = int(m[1]), m[2]
    ok = int(second) == first + 1 if len(second) == 4 else int(second) == (first + 1) % 100
    return f"{first}-{first + 1}" if ok else None


# --- numbers and codes ------------------------------------------------------------------------

_NUMBER_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


_DECIMAL_COMMA_RE = r"^[+-]?\d+,\d+$"


def _number_text(s: pd.Series) -> pd.Series:
    """Canonical number text: ASCII digits, no group separators, `.` as the decimal point."""
    x = clean_text(western_digits(s))
    # Most cells are `5`, `12.5` or `12,5`: settle those in a pass or two, the rest below.
    plain = x.str.fullmatch(_NUMBER_RE).fillna(False).astype(bool)
    comma = ~plain & x.str.fullmatch(_DECIMAL_COMMA_RE).fillna(False).astype(bool)
    out = x.where(plain)
    if comma.any():
        out[comma] = x[comma].str.replace(",", ".", regex=False)
    rest = x.notna() & ~plain & ~comma
    if rest.any():
        out[rest] = _grouped_number_text(x[rest])
    return out


def _grouped_number_text(x: pd.Series) -> pd.Series:
    x = x.str.replace("[\\s\u00a0\u202f\u2007\u2009'٬]", "", regex=True).str.replace("٫", ",")
    has_comma = x.str.contains(",", regex=False, na=False)
    has_dot = x.str.contains(".", regex=False, na=False)
    n_comma = x.str.count(",")
    n_dot = x.str.count(r"\.")
    # Both separators: the last one is the decimal point, the other groups thousands.
    both = has_comma & has_dot
    comma_last = x.str.rfind(",") > x.str.rfind(".")
    x = x.mask(both & comma_last, x.str.replace(".", "", regex=False).str.replace(",", "."))
    x = x.mask(both & ~comma_last, x.str.replace(",", "", regex=False))
    # One separator: once it is a decimal (12,5 is French/Moroccan usage), repeated it groups.
    only_comma = has_comma & ~has_dot
    x = x.mask(only_comma & (n_comma == 1), x.str.replace(",", ".", regex=False))
    x = x.mask(only_comma & (n_comma > 1), x.str.replace(",", "", regex=False))
    x = x.mask(~has_comma & (n_dot > 1), x.str.replace(".", "", regex=False))
    return x.where(x.str.fullmatch(_NUMBER_RE).fillna(False).astype(bool))


def to_number(s: pd.Series) -> pd.Series:
    """Numbers as float64: Arabic-Indic digits, decimal comma (`12,5`), group spaces, NBSP,
    `1 400,50`, `1.400,50`, `1,400.50`; anything else (including `nan`, `inf`) is NaN."""
    return pd.to_numeric(_on_uniques(s, _number_text), errors="coerce").astype("float64")


def is_number(s: pd.Series) -> pd.Series:
    """True for non-empty values that `to_number` reads."""
    return _on_uniques(s, _number_text).notna()


def normalise_code(s: pd.Series) -> pd.Series:
    """Identifiers (massar_code, school_code, CIN, province/commune codes): ASCII digits, no spaces
    or invisible marks, upper case. '' → NA."""
    return _on_uniques(s, _normalise_code)


_CODE_DROP_RE = re.compile(f"[\\s{_INVISIBLE}]+")  # spaces and invisible marks, wherever they are in a code


def _normalise_code(s: pd.Series) -> pd.Series:
    x = s.str.normalize("NFKC").str.translate(_DIGITS)
    x = x.str.replace(_CODE_DROP_RE, "", regex=True).str.upper()
    return x.mask(x == "")


def normalise_code_text(text: str) -> str | None:
    """`normalise_code` of one value (a preamble's school code), without building a Series: in a
    reader, once per file, pandas' own cost was most of the call."""
    code = _CODE_DROP_RE.sub("", unicodedata.normalize("NFKC", text).translate(_DIGITS)).upper()
    return code or None


# --- vocabularies -----------------------------------------------------------------------------

_VOCAB_CACHE: dict[tuple[int, str], tuple[Settings, dict[str, str]]] = {}


def vocabulary_map(name: str, settings: Settings | None = None) -> dict[str, str]:
    """Folded accepted spelling → canonical value for a vocabulary of configs/vocabularies.yaml.

    The canonical value is accepted too; for `level` so are the labels of configs/levels.yaml. Two
    canonicals claiming one folded spelling is a ConfigError.
    """
    settings = settings or load_settings()
    key = (id(settings), name)
    hit = _VOCAB_CACHE.get(key)
    if hit is not None and hit[0] is settings:
        return hit[1]
    if name not in settings.vocabularies:
        raise ConfigError(f"configs/vocabularies.yaml has no vocabulary {name!r}")
    mapping: dict[str, str] = {}

    def add(spellings: Iterable[str], canonical: str) -> None:
        for spelling in spellings:
            f = fold(spelling)
            if f and mapping.setdefault(f, canonical) != canonical:
                raise ConfigError(
                    f"vocabulary {name!r}: {spelling!r} is accepted for both "
                    f"{mapping[f]!r} and {canonical!r}"
                )

    for canonical, accepted in settings.vocabularies[name].items():
        add([canonical, *accepted], canonical)
    if name == "level":
        for code, level in settings.levels.items():
            add([code, level.label_fr, level.label_ar], code)
    _VOCAB_CACHE[key] = (settings, mapping)
    return mapping


def map_vocabulary(s: pd.Series, name: str, settings: Settings | None = None) -> pd.Series:
    """Canonical vocabulary values; missing where the value is missing or not in the vocabulary."""
    mapping = vocabulary_map(name, settings)
    return fold_series(s).map(mapping).astype("str")


_PATTERN_CACHE: dict[int, tuple[Settings, list[tuple[re.Pattern[str], str]]]] = {}


def _class_patterns(settings: Settings) -> list[tuple[re.Pattern[str], str]]:
    hit = _PATTERN_CACHE.get(id(settings))
    if hit is not None and hit[0] is settings:
        return hit[1]
    compiled = [(re.compile(p["pattern"], re.IGNORECASE), str(p["level"])) for p in settings.class_name_patterns]
    _PATTERN_CACHE[id(settings)] = (settings, compiled)
    return compiled


def parse_levels(s: pd.Series, settings: Settings | None = None) -> pd.Series:
    """Level codes (`1AP`..`2BAC`): the `level` vocabulary first, else a Massar class name matched by
    `class_name_patterns` of configs/levels.yaml (`1APIC-3`→1AC, `2AP-1`→2AP, `TCSF-2`→TC,
    `2BACSPF-1`→2BAC). Missing when neither recognises the value."""
    settings = settings or load_settings()
    return _map_unique(s, lambda text: parse_level(text, settings))


def parse_level(text: str, settings: Settings) -> str | None:
    """`parse_levels` of one value (a sheet name, a preamble's class), without building a Series:
    a reader asks it of every sheet, where pandas' own cost was most of the call."""
    f = fold(text)
    mapping = vocabulary_map("level", settings)
    if f in mapping:
        return mapping[f]
    code = f.upper()
    for pattern, template in _class_patterns(settings):
        m = pattern.search(code)
        if m:
            level = template.replace("{n}", m.group(1)) if "{n}" in template else template
            return level if level in settings.levels else None
    return None
