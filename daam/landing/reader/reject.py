"""How the reader refuses a whole file: `_Reject` carries a stable kind (one of `ERROR_KINDS`) and a
message in plain English, is raised wherever the reader meets a reason to refuse, and `read_file` turns
it into a `ReadResult` with `error`/`error_kind`; `_human` writes the sizes those messages quote.

A refusal names the problem (line or row number, sheet, contract column, what was expected) and never
quotes the file's content: no cell, no line, no unknown header, no sheet name a school typed (a
sheet is named only when its name is Excel's default or a class label, else by its position), and no
library message with the fragment of the file it quotes (`_library_reason`). The message goes to the
manifest, the feedback workbooks, the Dagster UI and the logs, where personal data must never be.
"""

from __future__ import annotations

import re

from daam.config import Settings
from daam.landing.normalise import parse_level


class _Reject(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def _human(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            value = f"{n / scale:.1f}".removesuffix(".0")
            return f"{value} {unit}"
    return f"{n} bytes"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# Excel's own names for a new sheet (English, French, Arabic, ...): structure, not content.
_DEFAULT_SHEET = re.compile(r"^(Sheet|Feuil|Feuille|Tabelle|Hoja|Foglio|Planilha|ورقة)\s?[0-9]{1,3}$", re.IGNORECASE)


def _sheet_label(name: str, position: int, settings: Settings) -> str:
    """How a refusal names a sheet: `sheet Feuil1` / `sheet 1APIC-3` when the name is Excel's default
    or a class label (`configs/levels.yaml`), else `the 3rd sheet`: a name a school typed could be
    anything, a pupil's name included."""
    text = (name or "").strip()
    if text and len(text) <= 31 and (_DEFAULT_SHEET.match(text)
                                     or parse_level(text, settings) is not None):
        return f"sheet {text}"
    return f"the {_ordinal(position)} sheet"


_QUOTED = re.compile(r"`[^`]*`|'[^']*'|\"[^\"]*\"|«[^»]*»|‘[^’]*’|“[^”]*”")
_MAX_REASON = 120


def _library_reason(exc: BaseException) -> str:
    """A reader library's message for a damaged file, without what it quotes of the file: the XML,
    ZIP and CSV parsers put the offending entity, tag, attribute or member name between quotes
    (`unrecognized entity \\`&x;\\``), and that text can be a cell's content. Quoted parts become `…`;
    the message is one line, cut at 120 characters."""
    text = " ".join(str(exc).split())
    text = _QUOTED.sub("…", text)
    if len(text) > _MAX_REASON:
        text = text[:_MAX_REASON].rstrip() + "…"
    return text or "damaged content"
