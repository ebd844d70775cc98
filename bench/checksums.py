"""Table-by-table checksums of a warehouse, to prove that a refactoring changed nothing.

    .venv/bin/python bench/checksums.py data/warehouse.duckdb > before.json
    ... change the code, rebuild the warehouse from the same landing zone ...
    .venv/bin/python bench/checksums.py data/warehouse.duckdb --compare before.json

Every table and view of the raw, staging, core, mart and ops schemas gets its row count and an
order-independent checksum of its rows (the sum of each row's hash, so equal rows do not cancel
out). Columns that name a run or a moment of the run (run and load ids, `*_at` timestamps other
than file arrival times, the input fingerprint that hashes the code itself) are left out, as is
`ops.load_log`, the log of the runs.
"""

from __future__ import annotations

import argparse
import json
import sys

import duckdb

SCHEMAS = ("raw", "staging", "core", "mart", "ops")
SKIP_TABLES = {"ops.load_log"}
# received_at is the file's own time, written by the generator: it stays in.
RUN_COLUMNS = {"load_id", "run_id", "last_run_id", "input_fingerprint", "loaded_at", "scanned_at", "first_seen_at",
               "last_seen_at", "resolved_at", "run_at", "started_at", "finished_at", "closed_at", "reviewed_at",
               "signed_at", "at"}


def checksums(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    tables = con.execute("""
        select table_schema || '.' || table_name from information_schema.tables
        where table_schema in (select unnest($s)) order by 1
    """, {"s": list(SCHEMAS)}).fetchall()
    out = {}
    for (table,) in tables:
        if table in SKIP_TABLES:
            continue
        schema, name = table.split(".")
        cols = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = $s and table_name = $t "
            "order by ordinal_position", {"s": schema, "t": name}).fetchall() if c not in RUN_COLUMNS]
        body = ", ".join(f'"{c}"' for c in cols) or "1"
        rows, digest = con.execute(
            f"select count(*), coalesce(sum(hash({body})::hugeint), 0)::varchar from {table}").fetchone()
        out[table] = {"rows": rows, "checksum": digest, "columns": len(cols)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse")
    parser.add_argument("--compare", help="a JSON file written by an earlier run: print the differences")
    args = parser.parse_args()
    with duckdb.connect(args.warehouse, read_only=True) as con:
        now = checksums(con)
    if not args.compare:
        print(json.dumps(now, indent=1, sort_keys=True))
        return 0
    with open(args.compare, encoding="utf-8") as fh:
        before = json.load(fh)
    differ = sorted(t for t in before.keys() | now.keys() if before.get(t) != now.get(t))
    for table in differ:
        print(f"{table}: before {before.get(table)}, now {now.get(table)}")
    print(f"{len(before.keys() & now.keys()) - len(set(differ) & before.keys() & now.keys())} tables equal, "
          f"{len(differ)} different")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
