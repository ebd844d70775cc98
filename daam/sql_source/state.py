"""The state: the incremental marks in `<landing>/.daam-sql/state.json`, and the lock of a landing root."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from daam.sql_source.errors import SqlSourceError
from daam.sql_source.writer import _atomic_write

STATE_DIR = ".daam-sql"
STATE_FILE = "state.json"
LOCK_FILE = "lock"


def state_path(landing_root: str | Path) -> Path:
    return Path(landing_root) / STATE_DIR / STATE_FILE


def _source_key(engine: sa.Engine, schema: str | None) -> str:
    """Which database the marks belong to: driver, host, port, database and schema, no credentials."""
    url = engine.url
    backend = url.get_backend_name()
    where = url.database or ""
    if url.host or url.port:
        where = f"{url.host or ''}:{url.port or ''}/{where}"
    return f"{backend}://{where}" + (f"#{schema}" if schema else "")


def _encode_mark(value: Any) -> tuple[str, str]:
    if isinstance(value, dt.datetime):
        return value.isoformat(), "datetime"
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    if isinstance(value, bool | int):
        return str(int(value)), "int"
    if isinstance(value, decimal.Decimal | float):
        return str(value), "decimal"
    return str(value), "text"


def _decode_mark(entry: dict | None) -> Any:
    if not entry or entry.get("mark") is None:
        return None
    value, kind = entry["mark"], entry.get("kind", "datetime")
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "int":
        return int(value)
    if kind == "decimal":
        return decimal.Decimal(value)
    return value


def _load_state(root: Path) -> dict:
    path = state_path(root)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": 1, "sources": {}}
    except (OSError, ValueError) as exc:
        raise SqlSourceError(f"the extraction state {path} can not be read ({exc}); delete it to extract "
                             f"everything again") from None
    if not isinstance(state, dict) or state.get("version") != 1:
        raise SqlSourceError(f"the extraction state {path} is not a version-1 state file")
    return state


def _save_state(root: Path, state: dict) -> None:
    _atomic_write(state_path(root), (json.dumps(state, indent=2, sort_keys=True) + "\n").encode("utf-8"))


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One extraction at a time per landing root."""
    lock = root / STATE_DIR / LOCK_FILE
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SqlSourceError(f"another SQL extraction is writing into {root}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
