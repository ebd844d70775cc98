"""What the `daam` commands share: printing a frame, the warehouse argument, opening it read-only
while a load may hold it, the secret check, republishing after a change, the list of products a
command wrote."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb
import pandas as pd
from dagster._utils.backoff import backoff

from assets.resources import DEFAULT_WAREHOUSE

WAREHOUSE_HELP = f"DuckDB file (default: $DAAM_WAREHOUSE or {DEFAULT_WAREHOUSE})"
BUSY = "the warehouse {warehouse} is being written by another process (a load?): try again when it ends"


def print_frame(frame: pd.DataFrame) -> None:
    with pd.option_context("display.max_rows", 200, "display.max_columns", 20, "display.width", 160):
        print(frame.to_string(index=False))


def secret_ok() -> bool:
    """The pseudonym secret is usable (daam/secret.py); otherwise say why, before anything is written."""
    from daam.secret import SecretError, load_secret

    try:
        load_secret()
    except SecretError as exc:
        print(f"daam: {exc}", file=sys.stderr)
        return False
    return True


def print_products(warehouse: str | Path, paths: list[Path]) -> None:
    """Which file each level opens (levels.md section 2)."""
    from warehouse.products import products_dir
    from warehouse.publish import published_path

    if not paths:
        return
    root = products_dir(warehouse)
    kinds = {"province": [], "region": [], "national": []}
    for path in paths:
        rel = path.relative_to(root)
        kinds["national" if len(rel.parts) == 1 else rel.parts[0]].append(path)
    print(f"\nProducts (open read-only), under {root}:")
    print(f"  directorates ({len(kinds['province'])}): " + ", ".join(str(p.relative_to(root)) for p in kinds["province"]))
    print(f"  regions ({len(kinds['region'])}): " + ", ".join(str(p.relative_to(root)) for p in kinds["region"]))
    for path in kinds["national"]:
        print(f"  nation: {path.relative_to(root)}")
    print(f"  engineers' read copy of the whole warehouse: {published_path(warehouse)}")


def warehouse_arg(args: argparse.Namespace) -> str | None:
    warehouse = args.warehouse or os.environ.get("DAAM_WAREHOUSE") or DEFAULT_WAREHOUSE
    if not Path(warehouse).is_file():
        print(f"daam: the warehouse {warehouse} does not exist (run `daam load` first)", file=sys.stderr)
        return None
    return warehouse


def read_warehouse(warehouse: str) -> duckdb.DuckDBPyConnection | None:
    """The warehouse read-only, waiting a little for a load that holds it; None (said why) if it stays busy."""
    try:
        return backoff(fn=duckdb.connect, retry_on=(duckdb.IOException,),
                       kwargs={"database": warehouse, "read_only": True}, max_retries=5)
    except duckdb.IOException:
        print(f"daam: {BUSY.format(warehouse=warehouse)}", file=sys.stderr)
        return None


def republish(warehouse: str) -> int:
    """Run the `publish_snapshot` job after a command changed the warehouse, so the products (and
    the reports) show it at once; 0, or 1 with the failures said."""
    from pipelines.load import run_publish

    result = run_publish(warehouse)
    if result.failed:
        print("\n".join(result.failed), file=sys.stderr)
        return 1
    print_products(warehouse, result.products)
    return 0
