"""Bytes of hostile landing files, built in code: CSV in every encoding, XLSX workbooks, ZIPs by hand."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from collections.abc import Iterable, Sequence

import xlsxwriter

FIXED_TIME = dt.datetime(2022, 10, 1, 8, 0, 0)


def csv_bytes(rows: Iterable[Sequence[str]], delimiter: str = ",", encoding: str = "utf-8",
              newline: str = "\n", preamble: Sequence[str] = ()) -> bytes:
    """Rows joined by `delimiter` (cells written as given, so quoting is the caller's), one
    `newline` after each line, encoded; `encoding` may be a BOM-less codec, see `bom`."""
    lines = [*preamble, *(delimiter.join(r) for r in rows)]
    return "".join(line + newline for line in lines).encode(encoding)


def bom(data_codec: str) -> bytes:
    return {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff",
            "utf-32-le": b"\xff\xfe\x00\x00"}[data_codec]


# --- XLSX with xlsxwriter ---------------------------------------------------------------------

Cell = tuple[int, int, object]  # (row0, col0, value)


def grid(rows: Sequence[Sequence[object] | None], first_row: int = 0) -> list[Cell]:
    """Cells of a block of rows starting at `first_row` (0-based); None cells and rows are left empty."""
    return [(first_row + i, j, v) for i, row in enumerate(rows) for j, v in enumerate(row or []) if v is not None]


def xlsx_bytes(sheets: dict[str, list[Cell]], rtl: bool = False,
               merges: dict[str, list[tuple[int, int, int, int, object]]] | None = None) -> bytes:
    """A workbook {sheet: cells}; datetimes get a date format, str cells are written as text
    (numbers stored as text stay text), numbers as numbers. `merges`: {sheet: [(r1, c1, r2, c2, value)]}."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": FIXED_TIME})
    date_format = wb.add_format({"num_format": "dd/mm/yyyy"})
    merged_format = wb.add_format({"align": "center", "valign": "vcenter", "bold": True})
    for name, cells in sheets.items():
        ws = wb.add_worksheet(name)
        if rtl:
            ws.right_to_left()
        for r1, c1, r2, c2, value in (merges or {}).get(name, []):
            ws.merge_range(r1, c1, r2, c2, value, merged_format)
        for r, c, v in cells:
            if isinstance(v, dt.datetime):
                ws.write_datetime(r, c, v, date_format)
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            else:
                ws.write_number(r, c, v)
    wb.close()
    return buf.getvalue()


# --- ZIP by hand (for archives whose sizes a library would not let us write) ------------------

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b"</Types>"
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>massar_code</t></is></c></row>'
)
SHEET_TAIL = b"</sheetData></worksheet>"


class _Member:
    """One stored member: raw deflate stream, CRC-32 and the sizes written in the headers."""

    def __init__(self, name: str, deflated: bytes, crc: int, size: int):
        self.name, self.deflated, self.crc, self.size = name.encode(), deflated, crc, size


def _deflated(data: bytes) -> _Member:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return _Member("", c.compress(data) + c.flush(), zlib.crc32(data), len(data))


def _zip(members: list[_Member]) -> bytes:
    out = bytearray()
    central = bytearray()
    for m in members:
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, m.crc, len(m.deflated), m.size,
                           len(m.name), 0) + m.name + m.deflated
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, m.crc, len(m.deflated),
                               m.size, len(m.name), 0, 0, 0, 0, 0, offset) + m.name
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), cd_offset, 0)
    return bytes(out)


def _named(name: str, m: _Member) -> _Member:
    m.name = name.encode()
    return m


def _workbook_members(sheet: _Member) -> list[_Member]:
    return [_named("[Content_Types].xml", _deflated(_CONTENT_TYPES)), _named("_rels/.rels", _deflated(_RELS)),
            _named("xl/workbook.xml", _deflated(_WORKBOOK)),
            _named("xl/_rels/workbook.xml.rels", _deflated(_WORKBOOK_RELS)), _named("xl/worksheets/sheet1.xml", sheet)]


def space_bomb(inflated_mib: int) -> _Member:
    """A sheet XML padded with `inflated_mib` MiB of spaces, deflated without ever holding it:
    after a full flush deflate restarts its history, so every 1 MiB block compresses to the same bytes."""
    chunk = b" " * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(SHEET_HEAD) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.compress(SHEET_TAIL) + c.flush()
    crc = zlib.crc32(SHEET_HEAD)
    for _ in range(inflated_mib):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(SHEET_TAIL, crc)
    size = len(SHEET_HEAD) + inflated_mib * len(chunk) + len(SHEET_TAIL)
    return _Member("xl/worksheets/sheet1.xml", head + block * inflated_mib + tail, crc, size)


def zip_bomb_xlsx(inflated_mib: int) -> bytes:
    """An .xlsx whose one sheet honestly declares that it inflates to `inflated_mib` MiB."""
    return _zip(_workbook_members(space_bomb(inflated_mib)))


def lying_zip_bomb_xlsx(inflated_mib: int) -> bytes:
    """The same bomb, but the ZIP headers claim the sheet is its first 4 KB (with their CRC-32)."""
    m = space_bomb(inflated_mib)
    shown = (SHEET_HEAD + b" " * 4096)[:4096]
    m.size, m.crc = len(shown), zlib.crc32(shown)
    return _zip(_workbook_members(m))


def entity_bomb_xlsx(levels: int = 9) -> bytes:
    """"Billion laughs": a sheet whose one cell is an entity defined as ten of the previous one, nine deep."""
    defs = b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"lol") * 10)
                    for i in range(1, levels + 1))
    sheet = (b'<?xml version="1.0"?><!DOCTYPE lolz [' + defs + b"]>"
             b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol%d;</t></is></c></row></sheetData></worksheet>' % levels)
    m = _deflated(sheet)
    m.name = b"xl/worksheets/sheet1.xml"
    return _zip(_workbook_members(m))
