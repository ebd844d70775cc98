"""Assembling the result: the `ReadResult` type, and the tables of a file (the sheets of a workbook,
or the one table of a CSV) checked for required columns and consistent preambles, then put into one
DataFrame of canonical columns followed by `sheet`, `row_number` and `extra`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from daam import codes
from daam.config import RecordTypeSpec, Settings
from daam.landing.reader.header import _aliases
from daam.landing.reader.reject import _Reject
from daam.landing.reader.table import _Table

META_COLUMNS = ("sheet", "row_number", "extra")  # after the canonical columns of every frame


@dataclass
class ReadResult:
    """What `read_file` found in one file.

    `table` has one list per column and one value per data row: every canonical column of the
    record type found in the file (text as read, None for an empty cell), then `sheet` (sheet
    name, None for CSV), `row_number` (the row as Excel shows it / the physical line of a CSV) and
    `extra` (JSON object of the non-empty extra-column values of that row, None when there are
    none). `frame` is the same as a DataFrame. Both are None exactly when `error` is set.
    """

    table: dict[str, list] | None
    encoding: str | None
    extra_columns: list[str]
    preamble: dict[str, str]
    header_row: int | None
    error: str | None
    error_kind: str | None = None
    skipped_sheets: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.table["row_number"]) if self.table is not None else 0

    @property
    def frame(self) -> pd.DataFrame | None:
        """`table` as a DataFrame: text columns of Python objects, `row_number` int64."""
        if self.table is None:
            return None
        frame = pd.DataFrame({c: v for c, v in self.table.items() if c != "row_number"}, dtype=object)
        frame.insert(len(frame.columns) - 1, "row_number", pd.Series(self.table["row_number"], dtype="int64"))
        return frame


def _assemble(tables: list[tuple[str | None, _Table | None]], spec: RecordTypeSpec, settings: Settings,
              encoding: str, skipped: list[str]) -> ReadResult:
    found = [(s, t) for s, t in tables if t is not None]
    bearing = [(s, t) for s, t in found if t.rows] or found
    for sheet, t in bearing:
        missing = [c for c in spec.required if c not in t.columns and c not in t.filled]
        if missing:
            # the contract's names of the columns, never the file's own header cells
            cols = ", ".join(_aliases(spec.columns[c]) for c in missing)
            where = f" in {_where(sheet, t)}" if sheet is not None and len(tables) > 1 else ""
            raise _Reject("missing_required_column", f"required column(s) missing{where}: {cols}")
    preamble: dict[str, str] = {}
    first: dict[str, str] = {}  # the sheet each preamble value was first read from
    for sheet, t in found:
        for key in ("school_code", "school_year"):
            value = t.preamble.get(key)
            if value is None:
                continue
            if key in preamble and preamble[key] != value:
                what = key.replace("_", " ")
                if codes.quotable(key, preamble[key]) and codes.quotable(key, value):
                    values = f"{preamble[key]} and {value}"
                else:
                    values = "two different values"
                raise _Reject("conflicting_preamble",
                              f"the sheets disagree on the {what}: {values} ({first[key]} and {_where(sheet, t)})")
            preamble.setdefault(key, value)
            first.setdefault(key, _where(sheet, t))
    present = {c for _, t in found for c in (*t.columns, *t.filled)}
    names = [c for c in spec.columns if c in present]
    tables = [_columns(s, t, names) for s, t in found]
    table = tables[0] if len(tables) == 1 else {c: [v for t in tables for v in t[c]] for c in tables[0]}
    extra_columns: list[str] = []
    for _, t in found:
        for written, _j in t.extras:
            if written not in extra_columns:
                extra_columns.append(written)
    return ReadResult(table, encoding, extra_columns, preamble, found[0][1].header_row, None, None, skipped)


def _where(sheet: str | None, t: _Table) -> str:
    """The sheet as a refusal may name it (reject._sheet_label), never a name a school typed."""
    return t.sheet_label or ("the sheet" if sheet is not None else "the file")


def _columns(sheet: str | None, t: _Table, names: list[str]) -> dict[str, list]:
    """One table's rows as lists, one per column: canonical columns, sheet, row_number, extra."""
    n = len(t.rows)
    data: dict[str, list] = {}
    cells = [c for _, c in t.rows]
    for name in names:
        if name in t.columns:
            j = t.columns[name]
            data[name] = [c[j] if j < len(c) else None for c in cells]
        elif name in t.filled:
            data[name] = [t.filled[name]] * n
        else:
            data[name] = [None] * n
    data["sheet"] = [sheet] * n
    data["row_number"] = [r for r, _ in t.rows]
    extras = t.extras
    if extras:
        dumped = []
        for c in cells:
            values = {w: c[j] for w, j in extras if j < len(c) and c[j] is not None}
            dumped.append(json.dumps(values, ensure_ascii=False) if values else None)
        data["extra"] = dumped
    else:
        data["extra"] = [None] * n
    return data
