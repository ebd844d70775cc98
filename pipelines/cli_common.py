"""What the `daam` commands share: printing a frame, the warehouse argument, the secret check,
the list of products a command wrote."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

from assets.resources import DEFAULT_WAREHOUSE


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
