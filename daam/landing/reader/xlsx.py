"""XLSX workbooks (Massar exports): the ZIP checked before it is opened (an Excel workbook, not
inflating above the limit, whatever its directory claims), then every worksheet read with calamine
within the row, column and cell limits, its cells turned into text as Excel shows them, and each
sheet made into a table; a workbook where no sheet has a header is refused with the reason.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import python_calamine

from daam.config import RecordTypeSpec, Settings
from daam.landing.reader.header import Row, _no_header, _other_record_type
from daam.landing.reader.reject import _human, _library_reason, _Reject, _sheet_label
from daam.landing.reader.table import _Table, _table


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
        raise _Reject("unreadable", "not a readable Excel or CSV file: damaged Excel file "
                                    f"({_library_reason(exc)})") from None
    except RuntimeError as exc:  # encrypted ZIP members
        raise _Reject("unreadable", f"not a readable Excel or CSV file: {_library_reason(exc)}") from None


# calamine raises its own errors, and ValueError/TypeError for some malformed XML values.
_CALAMINE_ERRORS = (python_calamine.CalamineError, ValueError, TypeError, OSError)


def _xlsx_tables(path: Path, spec: RecordTypeSpec, settings: Settings) -> list[tuple[str, _Table | None]]:
    limits = settings.limits
    _check_zip(path, limits["max_xlsx_uncompressed_bytes"])
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
    except _CALAMINE_ERRORS as exc:
        raise _Reject("unreadable", f"not a readable Excel or CSV file: {_library_reason(exc)}") from None
    tables: list[tuple[str, _Table | None]] = []
    headerless: list[list[Row]] = []
    cells = 0
    try:
        for position, meta in enumerate(wb.sheets_metadata, start=1):
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            name = meta.name
            label = _sheet_label(name, position, settings)  # never a name a school typed
            try:
                sheet = wb.get_sheet_by_name(name)
            except _CALAMINE_ERRORS as exc:
                raise _Reject("unreadable",
                              f"not a readable Excel or CSV file: {label}: {_library_reason(exc)}") from None
            end = sheet.end
            if end is None:
                tables.append((name, None))
                continue
            if end[0] + 1 > limits["max_rows_per_sheet"]:
                raise _Reject("sheet_too_large",
                              f"{label} has {end[0] + 1} rows (limit {limits['max_rows_per_sheet']})")
            if end[1] + 1 > limits["max_columns"]:
                raise _Reject("too_many_columns",
                              f"{label} has {end[1] + 1} columns (limit {limits['max_columns']})")
            # Rows and columns each within their limit can still make a grid of gigabytes once
            # turned into Python values: the cells of all sheets together are bounded too.
            cells += (end[0] + 1) * (end[1] + 1)
            if cells > limits["max_cells_per_file"]:
                raise _Reject("sheet_too_large",
                              f"the workbook's sheets span {cells:,} cells up to {label} "
                              f"(limit {limits['max_cells_per_file']:,})")
            # skip_empty_area=False starts the grid at A1, so list index + 1 is Excel's row number.
            grid = sheet.to_python(skip_empty_area=False)
            rows = _rows(enumerate(grid, start=1), _cell_text)
            table = _table(rows, spec, settings, name)
            if table is not None:
                table.sheet_label = label
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
