"""How the reader refuses a whole file: `_Reject` carries a stable kind (one of `ERROR_KINDS`) and a
message in plain English, is raised wherever the reader meets a reason to refuse, and `read_file` turns
it into a `ReadResult` with `error`/`error_kind`; `_human` writes the sizes those messages quote.
"""

from __future__ import annotations


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
