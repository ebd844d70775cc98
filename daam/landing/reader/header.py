"""Header matching: which row of a table names the columns of a record type (by the folded spellings
of configs/record_types.yaml), which other record type a headerless table looks like, the refusal
when no header is found, and the labelled values of the preamble above the header (school code,
school year, level, class). Every header cell is folded here, with `fold_header`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NoReturn

from daam.config import ColumnSpec, ConfigError, RecordTypeSpec, Settings
from daam.landing.normalise import fold_header, normalise_code_text, parse_school_year
from daam.landing.reader.reject import _Reject

_MAX_HEADER_CELL = 300  # characters: longer cells are never compared with the column names
_MEMO_CELLS = 1 << 16


@dataclass
class _Lookup:
    """Folded header spelling → canonical column, for one record type."""

    spec: RecordTypeSpec
    names: dict[str, str]
    # cell → match: the first rows of every file are searched for the header, and their cells
    # repeat across files (headers, and values such as 0 or an empty cell); bounded by _MEMO_CELLS
    memo: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: RecordTypeSpec) -> _Lookup:
        names: dict[str, str] = {}
        for col in spec.columns.values():
            for spelling in (col.name, *col.aliases):
                f = fold_header(spelling)
                if names.setdefault(f, col.name) != col.name:
                    raise ConfigError(f"record type {spec.name!r}: header {spelling!r} is an alias of both "
                                      f"{names[f]!r} and {col.name!r} (configs/record_types.yaml)")
        return cls(spec, names)

    def match(self, cell: str | None) -> str | None:
        if not cell or len(cell) > _MAX_HEADER_CELL:  # no header is a paragraph; folding one costs
            return None
        try:
            return self.memo[cell]
        except KeyError:
            pass
        if len(self.memo) >= _MEMO_CELLS:
            self.memo.clear()
        hit = self.memo[cell] = self._match(cell)
        return hit

    def _match(self, cell: str) -> str | None:
        f = fold_header(cell)
        hit = self.names.get(f)
        if hit is None and ("(" in f or "/" in f):
            # `Code Massar (CNE)`, `CNE / Code Massar`: a known name with a gloss or a second name.
            bare = fold_header(re.sub(r"\(.*?\)", " ", f))
            hit = self.names.get(bare)
            if hit is None and "/" in bare:
                hits = {self.names.get(part.strip()) for part in bare.split("/")} - {None}
                hit = hits.pop() if len(hits) == 1 else None
        return hit


def _lookup(spec: RecordTypeSpec) -> _Lookup:
    key = (spec.name, id(spec))
    hit = _LOOKUPS.get(key)
    if hit is None or hit.spec is not spec:
        hit = _LOOKUPS[key] = _Lookup.of(spec)
    return hit


_LOOKUPS: dict[tuple[str, int], _Lookup] = {}

Row = tuple[int, list]  # (row number as the user sees it, cells as text or None)


def _header_score(matches: list[str | None], spec: RecordTypeSpec) -> int:
    found = {m for m in matches if m}
    needed = min(2, len(spec.columns))
    if len(found) < needed or not any(spec.columns[c].required for c in found):
        return 0
    return len(found)


def _find_header(rows: list[Row], spec: RecordTypeSpec, search: int) -> tuple[int, list[str | None]] | None:
    """Index (in `rows`) and per-cell matches of the header row, or None."""
    lookup = _lookup(spec)
    best: tuple[int, int, list[str | None]] | None = None
    for i, (_, cells) in enumerate(rows[:search]):
        matches = [lookup.match(c) for c in cells]
        score = _header_score(matches, spec)
        if score and (best is None or score > best[0]):
            best = (score, i, matches)
    if best is None:
        return None
    score, i, matches = best
    # The French row under an Arabic header may name more columns and win; the Arabic row above
    # it is still the header when the winner is a pure alias row consistent with it.
    if i > 0 and _alias_only(rows[i][1], matches):
        above = [lookup.match(c) for c in rows[i - 1][1]]
        above_score = _header_score(above, spec)
        consistent = all(a == b for a, b in zip(above, matches, strict=False) if a and b)
        if above_score >= max(2, score // 2) and consistent:
            return i - 1, above
    return i, matches


def _alias_only(cells: list, matches: list[str | None]) -> bool:
    present = [(c, m) for c, m in zip(cells, matches, strict=False) if c is not None]
    return bool(present) and all(m is not None for _, m in present)


def _aliases(col: ColumnSpec) -> str:
    arabic = next((a for a in col.aliases if re.search("[\u0600-\u06ff]", a)), None)
    latin = next((a for a in col.aliases if re.search("[A-Za-z]", a) and a != col.name), None)
    shown = " / ".join(a for a in (arabic, latin) if a)
    return f"{col.name} ({shown})" if shown else col.name


def _other_record_type(rows: list[Row], spec: RecordTypeSpec, settings: Settings, search: int) -> str | None:
    """Another record type whose header, with all its required columns, is in these rows."""
    best: tuple[int, str] | None = None
    for other in settings.record_types.values():
        if other.name == spec.name:
            continue
        found = _find_header(rows, other, search)
        if found is None:
            continue
        names = {m for m in found[1] if m}
        if set(other.required) <= names and (best is None or len(names) > best[0]):
            best = (len(names), other.name)
    return best[1] if best else None


def _no_header(rows: list[Row], spec: RecordTypeSpec, settings: Settings, where: str) -> NoReturn:
    search = settings.limits["header_search_rows"]
    other = _other_record_type(rows, spec, settings, search)
    first = spec.columns[spec.required[0]] if spec.required else next(iter(spec.columns.values()))
    shown = " / ".join([a for a in first.aliases if re.search("[\u0600-\u06ff]", a)][:1]
                       + [a for a in first.aliases if re.search("[A-Za-z]", a)][:1])
    message = (f"no header row found: none of {where.format(n=search)} names the columns of a "
               f"{spec.name} file (expected e.g. {shown or first.name})")
    if other:
        raise _Reject("wrong_record_type", f"{message}; its columns are those of a {other} file")
    raise _Reject("no_header", message)


SCHOOL_YEAR_LABELS = ("السنة الدراسية", "Année scolaire", "School year")


def _preamble(rows: list[Row], spec: RecordTypeSpec, settings: Settings) -> dict[str, str]:
    """Labelled values above the header: `رمز المؤسسة : 16698Z`, `السنة الدراسية : 2022/2023`, and
    the level / class labels of the record type (`المستوى :`, `القسم :`)."""
    labels: dict[str, str] = {fold_header(x): "school_code" for x in settings.preamble_school_code_labels}
    labels.update({fold_header(x): "school_year" for x in SCHOOL_YEAR_LABELS})
    for name in ("level", "class_name"):
        if name in spec.columns:
            col = spec.columns[name]
            labels.update({fold_header(x): name for x in (col.name, *col.aliases)})
    raw: dict[str, str] = {}
    for _, cells in rows:
        for j, cell in enumerate(cells):
            if cell is None:
                continue
            label, colon, rest = cell.partition(":")
            key = labels.get(fold_header(label)) if colon else labels.get(fold_header(cell))
            if key is None or key in raw:
                continue
            value = rest.strip() if colon and rest.strip() else next(
                (c for c in cells[j + 1:] if c is not None and c.strip(" :")), None)
            if value:
                raw[key] = value
    out: dict[str, str] = {}
    code = normalise_code_text(raw["school_code"]) if "school_code" in raw else None
    if code:  # a label followed by nothing but spaces or invisible marks names no school
        out["school_code"] = code
    if "school_year" in raw:
        out["school_year"] = parse_school_year(raw["school_year"]) or raw["school_year"]
    for name in ("level", "class_name"):
        if name in raw:
            out[name] = raw[name]
    return out
