"""Partition digests: each (school year, directorate) partition's row count and sum of row hashes,
taken when the partition is written and kept in ops.partition_digest.

A directorate product's fingerprint holds, for each of its models, the rows' count and the sum of
their hashes (warehouse/product_fingerprint.py). For the facts and marts written partition by
partition, that sum over a directorate is the sum of its partitions' sums, so it can be added up
from the digests instead of hashing every row again: on a nation warehouse a republish after one
corrected file hashed the 70 M attendance rows and the other facts (6 of the 9 s of fingerprinting
the 82 directorates) although one partition had changed.

`record` runs in `materialize` (warehouse/build/__init__.py), the one writer of these models, right
after the partition's insert and in the same transaction, so a digest is never newer or older than
its rows; and in staging's writer (`stage_record_type`, warehouse/build/staging.py) for the staged
rows of each record type, which no product holds but core.pupil_listing's fingerprint reads
(staging.students: 0.7 s of hashing 7 M roster rows at every publish of a nation). `stored` gives
them back only when they account for the whole table (the partitions' row counts add up to the
table's, and every digest was taken with the table's current columns); else the caller hashes the
rows as before, e.g. in a warehouse loaded before digests existed.

What the digests cannot see: a statement that changes these tables' rows outside those two
writers and keeps their number (an `UPDATE` typed by hand). daam has none; after one, delete the model's
rows of ops.partition_digest and the next publish hashes the table again.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from warehouse.registry import Model

PARTITION = ("school_year", "province_code")


def digested(model: Model) -> bool:
    """Whether `model`'s partitions are digested when written: a table partitioned by (school year,
    directorate), written by `materialize`."""
    return model.materialized == "partition" and tuple(model.partition_by) == PARTITION


def signature(described: list[tuple]) -> str:
    """The columns and types of a table (`described`: DuckDB's `describe` rows), as a digest is taken of them."""
    return ", ".join(f"{name} {kind}" for name, kind, *_ in described)


def _describe(con: duckdb.DuckDBPyConnection, model: Model) -> list[tuple]:
    return con.execute(f"describe select * from {model.name}").fetchall()


def record(con: duckdb.DuckDBPyConnection, model: Model, school_year: str, province: str) -> None:
    """Take the digest of one partition of `model`, just written (in the writer's transaction)."""
    key = {"m": model.name, "y": school_year, "p": province}
    con.execute("delete from ops.partition_digest where model = $m and school_year = $y and province_code = $p", key)
    con.execute(f"""
        insert into ops.partition_digest
        select $m, $y, $p, $sig, count(*), sum(hash(t)::hugeint), $at
        from (select * from {model.name} where school_year = $y and province_code = $p) t""",
                {**key, "sig": signature(_describe(con, model)), "at": datetime.now()})


def stored(con: duckdb.DuckDBPyConnection, model: Model, codes: list[str],
           described: list[tuple] | None = None) -> dict[str, tuple[int, int | None]] | None:
    """directorate code -> (rows, sum of row hashes) of `model` over all its school years, for the
    codes of `codes` that have rows; None when the digests do not account for the whole table
    (`described`: the table's `describe` rows, when the caller has them)."""
    current = signature(described if described is not None else _describe(con, model))
    total, stale = con.execute("select coalesce(sum(rows), 0), count(*) filter (where signature <> $s) "
                               "from ops.partition_digest where model = $m", {"m": model.name, "s": current}).fetchone()
    if stale or total != con.execute(f"select count(*) from {model.name}").fetchone()[0]:
        return None
    return {code: (int(rows), digest) for code, rows, digest in con.execute(
        "select province_code, sum(rows), sum(digest)::hugeint from ops.partition_digest "
        "where model = $m and province_code in (select unnest($c::varchar[])) group by all having sum(rows) > 0",
        {"m": model.name, "c": codes}).fetchall()}
