"""One contract-driven reader for every landing-zone file: XLSX (Massar exports) and CSV.

`read_file(path, spec)` finds the header row by the column aliases of the record type
(configs/record_types.yaml), skips preamble and sub-header rows, and returns every data row as
text with its sheet and real row number. It never raises on bad input: a file that cannot be
read whole comes back with `error` (plain English, for a secretary or an engineer) and
`error_kind` (a stable code for the manifest). Values are not normalised here; staging does that
with `daam.landing.normalise`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pandas as pd
import python_calamine

from daam.config import ColumnSpec, ConfigError, RecordTypeSpec, Settings, load_settings
from daam.landing.normalise import fold_header, normalise_code, parse_levels, parse_school_year

__all__ = ["ERROR_KINDS", "META_COLUMNS", "ReadResult", "read_file"]

log = logging.getLogger(__name__)

ERROR_KINDS = (
    "empty_file",               # 0 bytes
    "file_too_large",           # above limits.max_file_bytes
    "unreadable",               # not XLSX nor text, damaged, password-protected, old .xls, HTML, ...
    "encoding_not_allowed",     # text that is not UTF-8, UTF-16 or Windows-1256
    "line_too_long",            # a CSV line above limits.max_line_bytes
    "xlsx_too_large",           # inflates above limits.max_xlsx_uncompressed_bytes
    "sheet_too_large",          # more rows than limits.max_rows_per_sheet, or cells than max_cells_per_file
    "too_many_columns",         # more columns than limits.max_columns
    "no_header",                # no row names the columns of the record type
    "wrong_record_type",        # no header for this record type, but one of another record type
    "missing_required_column",  # header found, a required column absent
    "conflicting_preamble",     # sheets of one workbook give different school codes / years
)

SCHOOL_YEAR_LABELS = ("السنة الدراسية", "Année scolaire", "School year")
META_COLUMNS = ("sheet", "row_number", "extra")  # after the canonical columns of every frame


@dataclass
class ReadResult:
    """What `read_file` found in one file.

    `frame` has one row per data row: every canonical column of the record type found in the file
    (text as read, None for an empty cell), then `sheet` (sheet name, None for CSV), `row_number`
    (the row as Excel shows it / the physical line of a CSV) and `extra` (JSON object of the
    non-empty extra-column values of that row, None when there are none). `frame` is None exactly
    when `error` is set.
    """

    frame: pd.DataFrame | None
    encoding: str | None
    extra_columns: list[str]
    preamble: dict[str, str]
    header_row: int | None
    error: str | None
    error_kind: str | None = None
    skipped_sheets: list[str] = field(default_factory=list)


class _Reject(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def read_file(path: Path, spec: RecordTypeSpec, settings: Settings | None = None) -> ReadResult:
    """Read one landing-zone file (XLSX or CSV, decided by its bytes) as rows of `spec`'s columns.

    Never raises on bad input: every reason to reject the whole file is in `error`/`error_kind`.
    """
    settings = settings or load_settings()
    state: dict[str, str | None] = {"encoding": None}
    try:
        return _read(Path(path), spec, settings, state)
    except _Reject as r:
        return ReadResult(None, state["encoding"], [], {}, None, r.message, r.kind)
    except ConfigError:
        raise
    except MemoryError:
        return ReadResult(None, state["encoding"], [], {}, None,
                          "the file is too large to read in memory", "file_too_large")
    except Exception as exc:  # a reader library choking on a malformed file is bad input too
        log.warning("unreadable file %s", path, exc_info=True)
        return ReadResult(None, state["encoding"], [], {}, None,
                          f"not a readable Excel or CSV file: {type(exc).__name__}: {exc}", "unreadable")


def _read(path: Path, spec: RecordTypeSpec, settings: Settings, state: dict) -> ReadResult:
    limits = settings.limits
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _Reject("unreadable", f"the file cannot be opened: {exc.strerror or exc}") from None
    if size == 0:
        raise _Reject("empty_file", "the file is empty (0 bytes)")
    if size > limits["max_file_bytes"]:
        raise _Reject("file_too_large", f"file too large: {_human(size)} (limit {_human(limits['max_file_bytes'])})")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04"):
        state["encoding"] = "xlsx"
        tables = _xlsx_tables(path, spec, settings)
        skipped = [name for name, t in tables if t is None]
        return _assemble(tables, spec, settings, "xlsx", skipped)
    data = path.read_bytes()
    _refuse_binary_formats(data)
    text, encoding = _decode(data)
    state["encoding"] = encoding
    _check_lines(data, limits)
    table = _csv_table(text, spec, settings)
    return _assemble([(None, table)], spec, settings, encoding, [])


# --- sizes and formats --------------------------------------------------------------------------


def _human(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            value = f"{n / scale:.1f}".removesuffix(".0")
            return f"{value} {unit}"
    return f"{n} bytes"


def _refuse_binary_formats(data: bytes) -> None:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise _Reject("unreadable", "not a readable Excel or CSV file: the Excel file is password-protected "
                                        "(save it again without a password)")
        raise _Reject("unreadable", "not a readable Excel or CSV file: an old Excel 97-2003 (.xls) file "
                                    "(save it as .xlsx or CSV)")
    if data.startswith(b"PK\x05\x06"):
        raise _Reject("unreadable", "not a readable Excel or CSV file: an empty ZIP archive")
    if data.startswith(b"%PDF"):
        raise _Reject("unreadable", "not a readable Excel or CSV file: a PDF document")


# --- text decoding ------------------------------------------------------------------------------

_ENCODING_HINT = "(use UTF-8, UTF-16 or Windows-1256)"
_UTF8_SEQ = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH = bytes(range(0x80, 0x100))
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x19\x1b-\x1f\x7f\x80-\x9f]")
_ARABIC = "\u0621-\u064a\u0671-\u06d3"
_LATIN = "A-Za-z\u00c0-\u00ff"
# Windows-1256 decodes every byte, so another code page comes out as words that mix Arabic and
# Latin letters (ISO-8859-6, DOS 720: `رâه`) or glue letters with typographic symbols (DOS 850: `Pr‚nom`).
_MOJIBAKE = re.compile(f"[{_ARABIC}][{_LATIN}]|[{_LATIN}][{_ARABIC}]|[{_LATIN}][‚ƒ„†‡ˆ‰‹›•™€][{_LATIN}]")
_NON_ASCII_WORD = re.compile(r"[^\s,;\t]*[^\x00-\x7f][^\s,;\t]*")


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes) -> tuple[str, str]:
    """Decode with the encoding the contract allows, or reject; never guess into mojibake."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise _Reject("encoding_not_allowed", f"text encoding not allowed: UTF-32 {_ENCODING_HINT}")
    if data.startswith(b"\xef\xbb\xbf"):
        text, encoding = _strict(data[3:], "utf-8", "utf-8-sig", "a UTF-8 mark but invalid UTF-8 bytes"), "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding = _strict(data, "utf-16", "utf-16", "a UTF-16 mark but invalid UTF-16"), "utf-16"
    elif b"\x00" in data:
        codec = _utf16_without_bom(data)
        if codec is None:
            raise _Reject("unreadable", "not a readable Excel or CSV file: binary content (NUL bytes)")
        text, encoding = _strict(data, codec, "utf-16", "UTF-16 without a mark and invalid UTF-16"), "utf-16"
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            high = len(data) - len(data.translate(None, _HIGH))
            utf8 = sum(len(m) for m in _UTF8_SEQ.findall(data))
            if utf8 * 2 >= high:
                raise _Reject(
                    "encoding_not_allowed",
                    "text encoding not allowed: mostly UTF-8 but with invalid bytes (first on line "
                    f"{_line_of(data, exc.start)}), probably edited in two encodings; save it again as UTF-8",
                ) from None
            text, encoding = data.decode("cp1256"), "cp1256"
            sample = text[: 4 << 20]
            words = len(_NON_ASCII_WORD.findall(sample))
            bad = len(_MOJIBAKE.findall(sample))
            if bad and bad >= 0.05 * words:
                example = next(_NON_ASCII_WORD.finditer(sample[_MOJIBAKE.search(sample).start():])).group()
                raise _Reject(
                    "encoding_not_allowed",
                    f"text encoding not allowed: neither UTF-8, UTF-16 nor Windows-1256 (it reads as "
                    f"{example[:30]!r}) {_ENCODING_HINT}",
                ) from None
    text = text.rstrip("\x1a")  # DOS end-of-file mark
    controls = len(_CONTROL.findall(text[: 4 << 20]))
    if controls > 0.005 * max(1, min(len(text), 4 << 20)):
        raise _Reject("unreadable", "not a readable Excel or CSV file: binary content (control characters)")
    return text, encoding


def _strict(data: bytes, codec: str, name: str, what: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise _Reject("encoding_not_allowed",
                      f"text encoding not allowed: {what} (byte {exc.start}) {_ENCODING_HINT}") from None


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NUL bytes sit on one side of the byte pairs, as ASCII text
    (tabs, digits, codes, line ends) in UTF-16 puts them; None otherwise (binary)."""
    sample = data[: 1 << 16]
    pairs = max(1, len(sample) // 2)
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd >= 0.1 * pairs and even <= 0.01 * pairs:
        return "utf-16-le"
    if even >= 0.1 * pairs and odd <= 0.01 * pairs:
        return "utf-16-be"
    return None


def _check_lines(data: bytes, limits: dict) -> None:
    limit = limits["max_line_bytes"]
    longest = max(map(len, data.split(b"\n")))
    if longest > limit:
        # A file with old Mac line ends (CR only) has no LF at all; measure it by CR.
        longest = max(max(map(len, part.split(b"\r"))) for part in data.split(b"\n") if len(part) > limit)
        if longest > limit:
            raise _Reject("line_too_long", f"a line of {_human(longest)}: not a school record file "
                                           f"(limit {_human(limit)} a line)")
    lines = data.count(b"\n") + 1
    if lines > 2 * limits["max_rows_per_sheet"] + limits["header_search_rows"]:
        raise _Reject("sheet_too_large",
                      f"the file has {lines} lines (limit {limits['max_rows_per_sheet']} rows)")


# --- header matching ----------------------------------------------------------------------------


_MAX_HEADER_CELL = 300  # characters: longer cells are never compared with the column names


@dataclass
class _Lookup:
    """Folded header spelling → canonical column, for one record type."""

    spec: RecordTypeSpec
    names: dict[str, str]

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


# --- one table (a sheet or a CSV) ---------------------------------------------------------------


@dataclass
class _Table:
    header_row: int
    columns: dict[str, int]            # canonical -> column index
    extras: list[tuple[str, int]]      # extra header as written (deduplicated) -> column index
    rows: list[Row]                    # data rows
    preamble: dict[str, str]
    filled: dict[str, str]             # canonical -> constant value (sheet name / preamble)


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
    if "school_code" in raw:
        out["school_code"] = normalise_code(pd.Series([raw["school_code"]])).iloc[0]
    if "school_year" in raw:
        out["school_year"] = parse_school_year(raw["school_year"]) or raw["school_year"]
    for name in ("level", "class_name"):
        if name in raw:
            out[name] = raw[name]
    return out


def _fill_from_context(columns: dict[str, int], sheet: str | None, preamble: dict[str, str],
                       spec: RecordTypeSpec, settings: Settings) -> dict[str, str]:
    """A roster sheet per class (`1APIC-3`) carries level and class in its name, or its preamble."""
    if "class_name" not in spec.columns or "level" not in spec.columns:
        return {}
    filled: dict[str, str] = {}

    def is_class(value: str | None) -> bool:
        return bool(value) and pd.notna(parse_levels(pd.Series([value]), settings).iloc[0])

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


# --- XLSX ---------------------------------------------------------------------------------------


def _check_zip(path: Path, limit: int) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if not any(i.filename.lower() == "xl/workbook.xml" for i in infos):
                raise _Reject("unreadable", "not a readable Excel or CSV file: a ZIP archive that is not "
                                            "an Excel workbook (.xlsx)")
            declared = sum(i.file_size for i in infos)
            if declared > limit:
                raise _Reject("xlsx_too_large",
                              f"the Excel file inflates to {_human(declared)} (limit {_human(limit)})")
            # Sizes in the ZIP directory can lie; inflate once, counting, to be sure.
            total = 0
            for info in infos:
                with zf.open(info) as fh:
                    while chunk := fh.read(1 << 20):
                        total += len(chunk)
                        if total > limit:
                            raise _Reject("xlsx_too_large",
                                          f"the Excel file inflates to more than {_human(limit)} "
                                          f"(limit {_human(limit)})")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as exc:
        raise _Reject("unreadable", f"not a readable Excel or CSV file: damaged Excel file ({exc})") from None
    except RuntimeError as exc:  # encrypted ZIP members
        raise _Reject("unreadable", f"not a readable Excel or CSV file: {exc}") from None


# calamine raises its own errors, and ValueError/TypeError for some malformed XML values.
_CALAMINE_ERRORS = (python_calamine.CalamineError, ValueError, TypeError, OSError)


def _xlsx_tables(path: Path, spec: RecordTypeSpec, settings: Settings) -> list[tuple[str, _Table | None]]:
    limits = settings.limits
    _check_zip(path, limits["max_xlsx_uncompressed_bytes"])
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
    except _CALAMINE_ERRORS as exc:
        raise _Reject("unreadable", f"not a readable Excel or CSV file: {exc}") from None
    tables: list[tuple[str, _Table | None]] = []
    headerless: list[list[Row]] = []
    cells = 0
    try:
        for meta in wb.sheets_metadata:
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            name = meta.name
            try:
                sheet = wb.get_sheet_by_name(name)
            except _CALAMINE_ERRORS as exc:
                raise _Reject("unreadable", f"not a readable Excel or CSV file: sheet {name}: {exc}") from None
            end = sheet.end
            if end is None:
                tables.append((name, None))
                continue
            if end[0] + 1 > limits["max_rows_per_sheet"]:
                raise _Reject("sheet_too_large",
                              f"sheet {name} has {end[0] + 1} rows (limit {limits['max_rows_per_sheet']})")
            if end[1] + 1 > limits["max_columns"]:
                raise _Reject("too_many_columns",
                              f"sheet {name} has {end[1] + 1} columns (limit {limits['max_columns']})")
            # Rows and columns each within their limit can still make a grid of gigabytes once
            # turned into Python values: the cells of all sheets together are bounded too.
            cells += (end[0] + 1) * (end[1] + 1)
            if cells > limits["max_cells_per_file"]:
                raise _Reject("sheet_too_large",
                              f"the workbook's sheets span {cells:,} cells up to sheet {name} "
                              f"(limit {limits['max_cells_per_file']:,})")
            # skip_empty_area=False starts the grid at A1, so list index + 1 is Excel's row number.
            grid = sheet.to_python(skip_empty_area=False)
            rows = _rows(enumerate(grid, start=1), _cell_text)
            table = _table(rows, spec, settings, name)
            tables.append((name, table))
            if table is None:
                headerless.append(rows[: limits["header_search_rows"]])
    finally:
        wb.close()
    if all(t is None for _, t in tables):
        if not headerless:
            raise _Reject("no_header", "no header row found: every sheet of the workbook is empty")
        # Report the sheet that looks like another record type, if any, else the first one.
        rows = next((r for r in headerless if _other_record_type(r, spec, settings, len(r))), headerless[0])
        where = "the first {n} rows of any sheet" if len(tables) > 1 else "the first {n} rows"
        _no_header(rows, spec, settings, where)
    return tables


def _rows(numbered, convert) -> list[Row]:
    """Non-empty rows, cells converted, trailing empty cells dropped."""
    out: list[Row] = []
    for number, raw in numbered:
        cells = [convert(v) for v in raw]
        while cells and cells[-1] is None:
            cells.pop()
        if cells:
            out.append((number, cells))
    return out


_MIDNIGHT = dt.time(0, 0)


def _cell_text(v) -> str | None:
    t = type(v)
    if t is str:
        v = v.strip()
        return v or None
    if t is float:
        return str(int(v)) if v.is_integer() else repr(v)
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is dt.date:
        return v.isoformat()
    if t is dt.datetime:
        return v.date().isoformat() if v.time() == _MIDNIGHT else v.isoformat(sep=" ")
    if v is None:
        return None
    text = str(v).strip()
    return text or None


# --- CSV ----------------------------------------------------------------------------------------

_DELIMITERS = (",", ";", "\t")


def _text_cell(v: str) -> str | None:
    v = v.strip()
    return v or None


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
        cells = [_text_cell(v) for v in record]
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
    for d in _DELIMITERS:
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
        raise _Reject("unreadable", f"not a readable Excel or CSV file: {exc}") from None
    if not rows:
        raise _Reject("no_header", "no header row found: the file contains no values")
    table = _table(rows, spec, settings, None)
    if table is None:
        _no_header(rows, spec, settings, "the first {n} rows")
    if len(table.rows) > limits["max_rows_per_sheet"]:
        raise _Reject("sheet_too_large",
                      f"the file has {len(table.rows)} rows (limit {limits['max_rows_per_sheet']})")
    return table


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


# --- assembling the result ----------------------------------------------------------------------


def _assemble(tables: list[tuple[str | None, _Table | None]], spec: RecordTypeSpec, settings: Settings,
              encoding: str, skipped: list[str]) -> ReadResult:
    found = [(s, t) for s, t in tables if t is not None]
    bearing = [(s, t) for s, t in found if t.rows] or found
    for sheet, t in bearing:
        missing = [c for c in spec.required if c not in t.columns and c not in t.filled]
        if missing:
            cols = ", ".join(_aliases(spec.columns[c]) for c in missing)
            where = f" in sheet {sheet}" if sheet is not None and len(tables) > 1 else ""
            raise _Reject("missing_required_column", f"required column(s) missing{where}: {cols}")
    preamble: dict[str, str] = {}
    for sheet, t in found:
        for key in ("school_code", "school_year"):
            value = t.preamble.get(key)
            if value is None:
                continue
            if key in preamble and preamble[key] != value:
                raise _Reject("conflicting_preamble",
                              f"the sheets disagree on the {key.replace('_', ' ')}: {preamble[key]} and "
                              f"{value} (sheet {sheet})")
            preamble.setdefault(key, value)
    present = {c for _, t in found for c in (*t.columns, *t.filled)}
    names = [c for c in spec.columns if c in present]
    frames = [_frame(s, t, names) for s, t in found]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    extra_columns: list[str] = []
    for _, t in found:
        for written, _j in t.extras:
            if written not in extra_columns:
                extra_columns.append(written)
    return ReadResult(frame, encoding, extra_columns, preamble, found[0][1].header_row, None, None, skipped)


def _frame(sheet: str | None, t: _Table, names: list[str]) -> pd.DataFrame:
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
    frame = pd.DataFrame(data, columns=names, dtype=object)
    frame["sheet"] = pd.Series([sheet] * n, dtype=object)
    frame["row_number"] = pd.Series([r for r, _ in t.rows], dtype="int64")
    extras = t.extras
    if extras:
        dumped = []
        for c in cells:
            values = {w: c[j] for w, j in extras if j < len(c) and c[j] is not None}
            dumped.append(json.dumps(values, ensure_ascii=False) if values else None)
        frame["extra"] = pd.Series(dumped, dtype=object)
    else:
        frame["extra"] = pd.Series([None] * n, dtype=object)
    return frame
