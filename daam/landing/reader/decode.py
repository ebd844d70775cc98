"""Sizes, formats and text decoding for a file that is not an XLSX workbook: other formats known by
their first bytes are refused with the reason (old .xls, password-protected Excel, empty ZIP, PDF),
the bytes are decoded with an encoding the contract allows (UTF-8, UTF-16, Windows-1256) or refused,
never guessed into mojibake, and the lengths and count of lines are checked against the limits.
"""

from __future__ import annotations

import re

from daam.landing.reader.reject import _human, _Reject

# --- sizes and formats --------------------------------------------------------------------------


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
_CONTROL_BYTES = bytes([*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x1a), *range(0x1b, 0x20), 0x7f])
_CONTROL_SPAN = 4 << 20  # characters looked at
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
            bad = len(_MOJIBAKE.findall(sample))
            # the words are counted only when there is mojibake to weigh: most Arabic files have none
            if bad and bad >= 0.05 * len(_NON_ASCII_WORD.findall(sample)):
                # The line is named, never its words: they are a pupil's name as often as not.
                line = sample.count("\n", 0, _MOJIBAKE.search(sample).start()) + 1
                raise _Reject(
                    "encoding_not_allowed",
                    "text encoding not allowed: neither UTF-8, UTF-16 nor Windows-1256 (from line "
                    f"{line} on, its words read as a mix of Arabic and Latin letters) {_ENCODING_HINT}",
                ) from None
    text = text.rstrip("\x1a")  # DOS end-of-file mark
    decoded = data[3:] if encoding == "utf-8-sig" else data
    if controls_in(text, decoded, encoding) > 0.005 * max(1, min(len(text), _CONTROL_SPAN)):
        raise _Reject("unreadable", "not a readable Excel or CSV file: binary content (control characters)")
    return text, encoding


def controls_in(text: str, data: bytes | None = None, encoding: str | None = None) -> int:
    """The control characters (`_CONTROL`) among the first `_CONTROL_SPAN` characters of `text`.

    Given the bytes `data` that `text` was decoded from and their `encoding`, they are counted on
    the bytes, at C speed, when that is exact: bytes no longer than the span (the text is then
    looked at whole), in Windows-1256 (one byte a character, and no byte decodes to a C1 control)
    or in UTF-8 without a 0xC2 byte, the first byte of every C1 control (U+0080 to U+009F): a C0
    control or DEL is one byte in both, never part of another character. The regular expression
    over the text was a twentieth of a reader's time."""
    if data is not None and len(data) <= _CONTROL_SPAN and (
            encoding == "cp1256" or encoding in ("utf-8", "utf-8-sig") and b"\xc2" not in data):
        return len(data) - len(data.translate(None, _CONTROL_BYTES))
    return len(_CONTROL.findall(text[:_CONTROL_SPAN]))


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
    # no line is longer than the file: most files are far below the limit, and are not split
    longest = max(map(len, data.split(b"\n"))) if len(data) > limit else 0
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
