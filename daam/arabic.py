"""Arabic personal names normalised for matching (de-duplication of pupils across rosters).

`normalise_name` turns the ways one name is written on Massar exports, by hand or by different
keyboards, into one form. The rules, applied in this order:

1. **Unicode**: NFKC (Arabic presentation forms and ligatures such as `ﻻ` and `ﷲ` become their
   letters), case folding (Latin letters, which are otherwise left alone: transliteration is out
   of scope), then NFD, so that `أ إ آ ؤ ئ ۀ ۓ` split into a base letter and a hamza or madda mark.
2. **Marks dropped**: every combining mark of the Basic Multilingual Plane — harakat (fatha,
   damma, kasra), sukun, shadda, tanwin, superscript (dagger) alef, hamza and madda marks,
   Quranic annotation signs, Latin accents — plus tatweel `ـ` and invisible characters (zero-width
   joiners, bidi marks, BOM). Hence **alef forms** `أ إ آ` → `ا` and **hamza carriers** `ؤ` → `و`,
   `ئ` → `ي`.
3. **Letters unified**: `ٱ ٲ ٳ` → `ا`; taa marbuta `ة` → `ه`; alef maqsura `ى` → `ي`; Persian and
   Urdu look-alikes `ک ڪ` → `ك`, `ی ے ۍ ې` → `ي`, `ھ ہ ە ۃ` → `ه`; the letters Moroccan registers
   use for sounds Arabic lacks, folded to the letter people type without them: `گ ڭ ݣ` (g) → `ك`,
   `ڤ ڥ` (v) → `ف`, `پ` (p) → `ب`; Maghrebi `ڢ` → `ف`, `ڧ ٯ` → `ق`.
4. **Standalone hamza removed**: `ء` (and the high hamza `ٴ`) is dropped, so `زكرياء` = `زكريا`
   and `أسماء` = `اسما`. Final hamza is written or not for the same name on Moroccan records;
   keeping it would split more true duplicates than dropping it merges distinct names (a
   candidate pair also needs the same birth date and commune).
5. **Only letters**: digits, punctuation (Arabic `، ؛ ؟` too), symbols and underscores become
   spaces; runs of spaces collapse to one; no leading or trailing space.
6. **Compound names joined**: the words `عبد`, `ابو`, `بو`, `بن` (and `ابن`, written `بن`) and a
   lone article `ال` are joined to the word after them, and the words `الله` and `الدين` to the
   word before them: `عبد الله` = `عبدالله`, `نور الدين` = `نورالدين`, `بن علي` = `بنعلي`,
   `ابن جلون` = `بنجلون`. Other spaces are kept (`فاطمه الزهراء`).

`name_key` is the normalised name without any space: the key two records are matched on, so a
compound split differently (`فاطمة الزهراء` / `فاطمةالزهراء`) or cut at another place between
the last-name and first-name columns still matches.

The result is idempotent: `normalise_name(normalise_name(x)) == normalise_name(x)`.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["name_key", "name_keys", "normalise_name", "normalise_names"]

# Invisible characters that keyboards, Excel and copy-paste leave in cells (as daam.landing.normalise).
_INVISIBLE = "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e" \
             "\u2060\u2066\u2067\u2068\u2069\ufeff"


def _combining_marks() -> list[int]:
    """Every combining mark (categories Mn, Mc, Me) of the Basic Multilingual Plane."""
    return [c for c in range(0x10000) if unicodedata.category(chr(c)).startswith("M")]


_TABLE = str.maketrans(
    {
        **{c: None for c in _combining_marks()},
        **{ord(c): None for c in _INVISIBLE},
        0x0640: None,                                   # tatweel
        0x0621: None, 0x0674: None,                     # standalone hamza, high hamza
        0x06E5: None, 0x06E6: None,                     # small waw, small yeh (Quranic)
        **{ord(c): "ا" for c in "ٱٲٳ"},
        ord("ة"): "ه", ord("ۃ"): "ه",
        ord("ى"): "ي",
        **{ord(c): "ك" for c in "کڪگڭݣ"},
        **{ord(c): "ي" for c in "یےۍېێ"},
        **{ord(c): "ه" for c in "ھہە"},
        **{ord(c): "ف" for c in "ڤڥڢ"},
        ord("پ"): "ب",
        **{ord(c): "ق" for c in "ڧٯ"},
    }
)
_NOT_LETTER_RE = re.compile(r"[\W\d_]+")

# Words joined to the next word, and words joined to the previous one (after the rules above).
PREFIXES = frozenset({"عبد", "ابو", "بو", "بن", "ال"})
SUFFIXES = frozenset({"الله", "الدين"})
_SPELLED = {"ابن": "بن"}
_JOINING = PREFIXES | SUFFIXES | _SPELLED.keys()


def _join_compounds(words: list[str]) -> list[str]:
    """`عبد الله` → `عبدالله`, `نور الدين` → `نورالدين`, `بن علي` → `بنعلي` (see the module docstring)."""
    words = [_SPELLED.get(w, w) for w in words]
    glued: list[str] = []
    for word in words:
        if word in SUFFIXES and glued:
            glued[-1] += word
        else:
            glued.append(word)
    out: list[str] = []
    for word in reversed(glued):  # right to left, so `بن عبد الله` becomes one word
        if word in PREFIXES and out:
            out[-1] = word + out[-1]
        else:
            out.append(word)
    return out[::-1]


def folded_words(text) -> list[str]:
    """The name's words with letters folded, before compounds are joined; [] for a missing value."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return []
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    text = unicodedata.normalize("NFD", text).translate(_TABLE)
    if not text.replace(" ", "").isalpha():  # the regex only when needed: most names are letters
        text = _NOT_LETTER_RE.sub(" ", text)
    return text.split()


def normalise_name(text) -> str:
    """The name in its normalised form (see the module docstring); '' for a missing value."""
    words = folded_words(text)
    # Joining can make a word that joins again (`ال` + `له` is `الله`, which joins the word before
    # it): join until nothing changes, so that a normalised name is its own normal form.
    while not _JOINING.isdisjoint(words) and (joined := _join_compounds(words)) != words:
        words = joined
    return " ".join(words)


def name_key(text) -> str:
    """The normalised name without spaces: what two records are matched on."""
    return normalise_name(text).replace(" ", "")


def _on_unique_values(values: pd.Series, func) -> pd.Series:
    """`func` once per distinct value, spread back; missing values stay missing (NaN)."""
    if not isinstance(values, pd.Series):
        values = pd.Series(values)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    done = np.array([func(u) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(done[codes], index=values.index, dtype="str")  # code -1 takes the trailing NaN


def normalise_names(values: pd.Series) -> pd.Series:
    """`normalise_name` of every value, computed once per distinct value (a column of a million
    pupils has far fewer distinct names); the index is kept, missing values stay missing."""
    return _on_unique_values(values, normalise_name)


def name_keys(values: pd.Series) -> pd.Series:
    """`name_key` of every value, computed once per distinct value; missing values stay missing."""
    return _on_unique_values(values, name_key)
