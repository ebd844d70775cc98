"""Delimited text (CSV): the delimiter chosen among comma, semicolon and tab by the header it finds
in the first rows, the text parsed into non-empty records with their first line number, within the
column and record-length limits, and made into one table; HTML or XML saved with a spreadsheet name,
and a file with no header, are refused with the reason.
"""

from __future__ import annotations

import csv
import io
import re

from daam.config import RecordTypeSpec, Settings
from daam.landing.reader.header import Row, _find_header, _header_score, _no_header
from daam.landing.reader.reject import _library_reason, _Reject
from daam.landing.reader.table import _Table, _table

_DELIMITERS = (",", ";", "\t")


_MAX_RECORD_LINES = 50  # a cell of a school record with more lines is an unclosed quote


def _parse_csv(text: str, delimiter: str, max_columns: int) -> list[Row]:
    """Non-empty records with their first line; a record wider than `max_columns` stops the parse
    there, before a file of huge lines is held in memory as millions of cells."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    out: list[Row] = []
    line = 0
    for record in reader:
        start, line = line + 1, reader.line_num
        if line - start >= _MAX_RECORD_LINES:
            raise _Reject("unreadable", f'not a readable Excel or CSV file: a quote (") opened on line {start} '
                                        f"is not closed within {_MAX_RECORD_LINES} lines")
        cells = [v.strip() or None for v in record]  # a cell as text, trimmed; empty: None
        while cells and cells[-1] is None:
            cells.pop()
        if len(cells) > max_columns:
            raise _Reject("too_many_columns", f"line {start} has {len(cells)} columns (limit {max_columns})")
        if cells:
            out.append((start, cells))
    return out


def _count_outside_quotes(line: str, delimiter: str) -> int:
    return sum(part.count(delimiter) for part in line.split('"')[::2])


def _csv_table(text: str, spec: RecordTypeSpec, settings: Settings) -> _Table:
    limits = settings.limits
    if text.lstrip("\ufeff").strip() == "":
        raise _Reject("no_header", "no header row found: the file contains no text")
    if text.lstrip()[:1] == "<" and re.search(r"<(html|table|\?xml)", text[:4096], re.IGNORECASE):
        raise _Reject("unreadable", "not a readable Excel or CSV file: an HTML or XML page saved with a "
                                    "spreadsheet name (open it in Excel and save it as .xlsx or CSV)")
    csv.field_size_limit(max(csv.field_size_limit(), limits["max_line_bytes"] * 4))
    search = limits["header_search_rows"]
    end = -1
    for _ in range(search * 3):
        end = text.find("\n", end + 1)
        if end == -1:
            break
    head = text if end == -1 else text[:end]
    scored = []
    refused: _Reject | None = None
    quoted = '"' in head
    for d in _DELIMITERS:
        if d not in head and not quoted:
            # Every row would be one cell, which names at most one column, and no quote can make the
            # parse fail: it cannot score, and skipping it changes nothing (most files: 2 of 3 parses).
            continue
        try:
            rows = _parse_csv(head, d, limits["max_columns"])
        except _Reject as r:  # a quote left open or a line too wide: likely with the file's own delimiter
            refused = refused or r
            continue
        except csv.Error:
            continue
        found = _find_header(rows, spec, search)
        score = _header_score(found[1], spec) if found else 0
        count = next((_count_outside_quotes(line, d) for line in head.split("\n") if line.strip()), 0)
        scored.append((score, count, d))
    if refused is not None and not any(score for score, _, _ in scored):
        raise refused  # no other delimiter finds a header: that is what makes the file unreadable
    delimiter = max(scored, key=lambda x: (x[0], x[1]))[2] if scored else ","
    try:
        rows = _parse_csv(text, delimiter, limits["max_columns"])
    except csv.Error as exc:
        raise _Reject("unreadable", f"not a readable Excel or CSV file: {_library_reason(exc)}") from None
    if not rows:
        raise _Reject("no_header", "no header row found: the file contains no values")
    table = _table(rows, spec, settings, None)
    if table is None:
        _no_header(rows, spec, settings, "the first {n} rows")
    if len(table.rows) > limits["max_rows_per_sheet"]:
        raise _Reject("sheet_too_large",
                      f"the file has {len(table.rows)} rows (limit {limits['max_rows_per_sheet']})")
    return table
