"""Keyed pseudonyms: binds the pseudonym secret (daam/secret.py) to a DuckDB connection.

`core.pupil_key` and `core.guardian_key` (warehouse/sql/core/functions.sql) are HMAC-SHA256 over
the Massar code or the CIN, computed in SQL so that keys are made set-wise by DuckDB. The HMAC's
key enters the connection as two session variables (the secret's inner and outer pads, RFC 2104):
session variables live in the connection's memory and are never written to the database file, so
the warehouse holds keys but nothing to recompute them with.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import duckdb

from daam.secret import SecretError, load_secret

BLOCK = 64  # SHA-256's block size in bytes


def pads(secret: bytes) -> tuple[bytes, bytes]:
    """The HMAC inner and outer pads of `secret` (hashed first when longer than a block)."""
    key = hashlib.sha256(secret).digest() if len(secret) > BLOCK else secret
    key = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def check_value(secret: bytes) -> str:
    """What `ops.pseudonym_key` keeps of a secret: an HMAC of a fixed text, which tells two secrets
    apart and says nothing about either."""
    return hmac.new(secret, b"daam-key-check", hashlib.sha256).hexdigest()


def bind_secret(con: duckdb.DuckDBPyConnection, secret: bytes | None = None) -> None:
    """Make `core.pupil_key` / `core.guardian_key` usable on `con`, keyed with `secret` (by default
    the file of DAAM_SECRET_FILE; a SecretError says what is wrong with it)."""
    ipad, opad = pads(load_secret() if secret is None else secret)
    # hex literals, not parameters: SET VARIABLE takes no prepared parameters; they stay in memory
    con.execute(f"set variable daam_hmac_ipad = unhex('{ipad.hex()}')")
    con.execute(f"set variable daam_hmac_opad = unhex('{opad.hex()}')")


def record_secret(con: duckdb.DuckDBPyConnection, secret: bytes | None = None) -> None:
    """Remember which secret this warehouse's keys are made with; refuse another one (keys made
    under two secrets would never join: the same pupil would count twice)."""
    value = check_value(load_secret() if secret is None else secret)
    known = [r[0] for r in con.execute("select check_value from ops.pseudonym_key").fetchall()]
    if not known and con.execute("select exists (from core.pupil_identity)").fetchone()[0]:
        raise SecretError(
            "this warehouse's pupil and guardian keys were made by a daam older than keyed pseudonyms "
            "(unkeyed hashes, which can be reversed): load the landing zone into a new warehouse.")
    if not known:
        con.execute("insert into ops.pseudonym_key values ($v, $at)", {"v": value, "at": datetime.now()})
    elif value not in known:
        raise SecretError(
            "this warehouse's pupil and guardian keys were made with another secret than the one of "
            "DAAM_SECRET_FILE: point DAAM_SECRET_FILE at the warehouse's secret, or load into a new "
            "warehouse (a new secret gives new keys and the same numbers).")


def reference_key(secret: bytes, domain: str, value: str) -> int:
    """The key `core.pupil_key` (domain 'daam-pupil') or `core.guardian_key` ('daam-guardian',
    value already normalised) computes, in Python: for tests and audits."""
    digest = hmac.new(secret, f"{domain}|{value}".encode(), hashlib.sha256).hexdigest()
    return int(digest[:15], 16)
