"""`daam report`: the reports site, a static bilingual HTML report per directorate, region and
the nation built from the level products (warehouse/site/).

    daam report [--warehouse W] [--out DIR] [--level province|region|national] [--code C]
                [--lang ar|fr] [--school-year Y]

Missing or stale products are rebuilt first. Exit codes: 0 when the site is written; 2 for a
level, code or language that does not exist, or a product that can not be rebuilt (named).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.cli_common import WAREHOUSE_HELP, warehouse_arg


def cmd_report(args: argparse.Namespace) -> int:
    from daam.secret import SecretError
    from warehouse.site.build import SiteError, build_site, default_out

    warehouse = warehouse_arg(args)
    if warehouse is None:
        return 2
    out = Path(args.out) if args.out else default_out(warehouse)
    try:
        report = build_site(warehouse, out, level=args.level, code=args.code, lang=args.lang,
                            school_year=args.school_year)
    except (SiteError, SecretError) as exc:
        print(f"daam: {exc}", file=sys.stderr)
        return 2
    if report.rebuilt_products:
        print(f"rebuilt {len(report.rebuilt_products)} missing or stale product(s) first: "
              + ", ".join(report.rebuilt_products))
    print(f"{len(report.pages) - report.unchanged} page(s) drawn, {report.unchanged} unchanged (same product rows, "
          f"same code) in {report.seconds} s")
    print(f"Reports: {report.index}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="build the reports site: one bilingual HTML page per directorate, region and "
                       "the nation, from their products, and a data dictionary")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--out", help="the site's folder (default: site/ next to the warehouse)")
    p.add_argument("--level", help="only this level: province, region or national")
    p.add_argument("--code", help="only this directorate or region code (with --level)")
    p.add_argument("--lang", help="only this language: ar or fr")
    p.add_argument("--school-year", help="the school year shown (default: the latest in each product)")
    p.set_defaults(func=cmd_report)
