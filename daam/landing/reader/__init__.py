"""One contract-driven reader for every landing-zone file: XLSX (Massar exports) and CSV.

`read_file(path, spec)` finds the header row by the column aliases of the record type
(configs/record_types.yaml), skips preamble and sub-header rows, and returns every data row as
text with its sheet and real row number. It never raises on bad input: a file that cannot be
read whole comes back with `error` (plain English, for a secretary or an engineer) and
`error_kind` (a stable code for the manifest). Values are not normalised here; staging does that
with `daam.landing.normalise`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from daam.config import ConfigError, RecordTypeSpec, Settings, load_settings
from daam.landing.reader.assemble import META_COLUMNS, ReadResult, _assemble
from daam.landing.reader.decode import _check_lines, _decode, _refuse_binary_formats
from daam.landing.reader.delimited import _csv_table
from daam.landing.reader.reject import _human, _Reject
from daam.landing.reader.xlsx import _xlsx_tables

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
    except Exception as exc:  # noqa: BLE001 - a reader library choking on a malformed file is bad input too
        # Neither the message nor the traceback is logged or returned: a library's message can quote
        # the cell it choked on. The exception's type and where it was raised are enough to debug.
        log.warning("unreadable file %s: %s raised at %s", path, type(exc).__name__, _raised_at(exc))
        return ReadResult(None, state["encoding"], [], {}, None,
                          "not a readable Excel or CSV file: its content could not be read (damaged or "
                          "not what its format says)", "unreadable")


def _raised_at(exc: BaseException) -> str:
    """`module.py:123` of the innermost frame of `exc`'s traceback (no message, no locals)."""
    tb = exc.__traceback__
    if tb is None:
        return "?"
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


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
