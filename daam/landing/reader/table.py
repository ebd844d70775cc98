"""One table (a sheet or a CSV): the `_Table` type, and how non-empty rows become one: header and
sub-header located, canonical and extra columns assigned (an unnamed column that holds values gets
its Excel letter), the preamble read, and level / class filled from the sheet name or the preamble.
"""

from __future__ import annotations

from dataclasses import dataclass

from daam.config import RecordTypeSpec, Settings
from daam.landing.normalise import parse_level
from daam.landing.reader.header import Row, _alias_only, _find_header, _lookup, _preamble


@dataclass
class _Table:
    header_row: int
    columns: dict[str, int]            # canonical -> column index
    extras: list[tuple[str, int]]      # extra header as written (deduplicated) -> column index
    rows: list[Row]                    # data rows
    preamble: dict[str, str]
    filled: dict[str, str]             # canonical -> constant value (sheet name / preamble)
    sheet_label: str | None = None     # how a refusal names the sheet (reject._sheet_label)


def _column_letter(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _table(rows: list[Row], spec: RecordTypeSpec, settings: Settings, sheet: str | None) -> _Table | None:
    """Locate header, sub-header, preamble and data in non-empty rows; None when no header."""
    search = settings.limits["header_search_rows"]
    found = _find_header(rows, spec, search)
    if found is None:
        return None
    h, matches = found
    lookup = _lookup(spec)
    header_cells = rows[h][1]
    sub_cells: list = []
    start = h + 1
    if start < len(rows):
        below = [lookup.match(c) for c in rows[start][1]]
        if _alias_only(rows[start][1], below):
            sub_cells = rows[start][1]
            matches = [m or (below[j] if j < len(below) else None) for j, m in enumerate(matches)]
            matches += below[len(matches):]
            start += 1
    data = rows[start:]
    width = max((len(c) for _, c in rows[h:]), default=0)
    columns: dict[str, int] = {}
    extras: list[tuple[str, int]] = []
    seen: dict[str, int] = {}
    for j in range(width):
        canon = matches[j] if j < len(matches) else None
        if canon and canon not in columns:
            columns[canon] = j
            continue
        written = _cell(header_cells, j) or _cell(sub_cells, j)
        if written is None:
            if not any(_cell(cells, j) is not None for _, cells in data):
                continue
            written = f"column_{_column_letter(j)}"
        n = seen[written] = seen.get(written, 0) + 1
        extras.append((written if n == 1 else f"{written} ({n})", j))
    preamble = _preamble(rows[:h], spec, settings)
    filled = _fill_from_context(columns, sheet, preamble, spec, settings)
    return _Table(rows[h][0], columns, extras, data, preamble, filled)


def _cell(cells: list, j: int):
    return cells[j] if j < len(cells) else None


def _fill_from_context(columns: dict[str, int], sheet: str | None, preamble: dict[str, str],
                       spec: RecordTypeSpec, settings: Settings) -> dict[str, str]:
    """A roster sheet per class (`1APIC-3`) carries level and class in its name, or its preamble."""
    if "class_name" not in spec.columns or "level" not in spec.columns:
        return {}
    filled: dict[str, str] = {}

    def is_class(value: str | None) -> bool:
        return bool(value) and parse_level(value, settings) is not None

    if "class_name" not in columns:
        if is_class(sheet):
            filled["class_name"] = sheet
        elif preamble.get("class_name"):
            filled["class_name"] = preamble["class_name"]
    if "level" not in columns:
        for candidate in (sheet, preamble.get("level"), preamble.get("class_name")):
            if is_class(candidate):
                filled["level"] = candidate
                break
    return filled
