"""`daam` command line: generate a demo landing zone, load a landing zone, run the demo, monitor
quality, print the scorecard, write the schools' feedback, approve data (pipelines/cli_approval.py).

Exit codes: 0 when the pipeline ran (data problems found in files are handled, quarantined and
reported: they are not failures); 1 when a run of the pipeline failed; 2 for bad arguments or a
missing landing zone.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import duckdb

from assets.resources import DEFAULT_LANDING, DEFAULT_WAREHOUSE
from daam.config import load_settings
from pipelines.cli_approval import add_parsers as add_approval_parsers
from pipelines.cli_common import BUSY, print_frame, print_products, secret_ok, warehouse_arg
from pipelines.cli_outlier import add_parsers as add_outlier_parsers
from pipelines.cli_report import add_parsers as add_report_parsers
from pipelines.progress import shown

DEMO_LANDING = "data/landing"
DEMO_YEARS = "2021-2022,2022-2023"


def cmd_generate(args: argparse.Namespace) -> int:
    from daam.demo.generator import generate

    years = [y.strip() for y in args.years.split(",") if y.strip()]
    summary = generate(Path(args.out), scale=args.scale, seed=args.seed, years=years, defects=args.defects,
                       truth=not args.no_truth)
    print(f"landing zone written to {args.out}: "
          + ", ".join(f"{k}={v}" for k, v in summary.items() if not isinstance(v, dict)))
    return 0


def print_summary(warehouse: str) -> None:
    from warehouse.report import load_summary, rejected_files

    with duckdb.connect(warehouse) as con:
        print("\nFiles and rows by record type (current state):")
        print_frame(load_summary(con))
        rejected = rejected_files(con)
        if len(rejected):
            print("\nRejected files (first 10; all are in ops.file_manifest):")
            for path, error in rejected.itertuples(index=False):
                print(f"  {path}: {error}")


def cmd_secret(args: argparse.Namespace) -> int:
    from daam.secret import SecretError, create_secret, load_secret

    try:
        if args.create:
            path = create_secret(args.create)
            print(f"new pseudonym secret written to {path} (mode 0600). Keep it outside the repository and "
                  f"the warehouse folder, back it up, and `export DAAM_SECRET_FILE={Path(path).resolve()}`.")
        else:
            load_secret()
            print("the secret of DAAM_SECRET_FILE is usable")
    except FileExistsError:
        print(f"daam: {args.create} exists: a secret is never overwritten (another secret gives other keys)",
              file=sys.stderr)
        return 2
    except SecretError as exc:
        print(f"daam: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """Build the level products from the working warehouse (no load may be writing it)."""
    from warehouse.products import ProductError, build_products
    from warehouse.schema import ensure_schema

    warehouse = warehouse_arg(args)
    if warehouse is None or not secret_ok():
        return 2
    provinces = [p.strip() for p in args.province.split(",") if p.strip()] if args.province else None
    kinds = tuple(args.kind.split(",")) if args.kind else ("province", "region", "national")
    if bad := set(kinds) - {"province", "region", "national"}:
        print(f"daam: unknown product kind {', '.join(sorted(bad))} (province, region, national)", file=sys.stderr)
        return 2
    try:
        with duckdb.connect(warehouse) as con:  # a warehouse of an older daam gains its new views
            ensure_schema(con, load_settings(), keys=False)
    except duckdb.IOException:
        print(f"daam: {BUSY.format(warehouse=warehouse)}", file=sys.stderr)
        return 2
    try:
        report = build_products(warehouse, provinces=provinces, kinds=kinds)
    except ProductError as exc:
        print(f"daam: {exc}", file=sys.stderr)
        return 2
    for product in report.products:
        print(f"{product.kind:9} {product.code:4} {product.path}  {product.size_bytes / 1e6:.1f} MB, "
              f"{len(product.tables)} tables, {product.seconds:.1f} s")
    if report.suppression:
        s = report.suppression
        print(f"suppression (k={s['k']}): {s['cells']} cells, {s['primary']} primary, {s['complementary']} "
              f"complementary, {s['derived']} derived; audit: {s['audited']} suppressed counts, every interval at "
              f"least {s['audit_min_width']} wide ({s['seconds_audit']:.1f} s)")
    print(f"{len(report.products)} product(s) in {report.seconds:.1f} s")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from pipelines.load import run_load

    landing = args.landing or os.environ.get("DAAM_LANDING") or DEFAULT_LANDING
    warehouse = args.warehouse or os.environ.get("DAAM_WAREHOUSE") or DEFAULT_WAREHOUSE
    if not Path(landing).is_dir():
        print(f"daam: the landing zone {landing} does not exist (give --landing or set DAAM_LANDING)", file=sys.stderr)
        return 2
    if not secret_ok():
        return 2
    started = time.monotonic()
    years = args.school_year.split(",") if getattr(args, "school_year", None) else None
    provinces = args.province.split(",") if getattr(args, "province", None) else None
    with shown("loading"):
        report = run_load(landing, warehouse, years=years, provinces=provinces, quiet=not args.verbose,
                          force=args.force)
    print(f"loaded {len(report.partitions)} partition(s) (school year × directorate) from {landing} "
          f"into {warehouse} in {time.monotonic() - started:.1f} s"
          + (f"; {len(report.unchanged)} unchanged since their last load, skipped" if report.unchanged else ""))
    print_summary(warehouse)
    print_products(warehouse, report.products)
    if report.failed:
        print("\nPipeline failures (the other partitions were loaded):", file=sys.stderr)
        for failure in report.failed:
            print(f"  {failure}", file=sys.stderr)
        return 1
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    """Reload a school year (optionally one directorate) from the landing zone, whatever changed."""
    from daam.config import ConfigError

    try:
        load_settings().programme_rules(args.school_year)
    except ConfigError as exc:
        print(f"daam: {exc}", file=sys.stderr)
        return 2
    if args.province and args.province not in load_settings().provinces:
        print(f"daam: unknown directorate code {args.province} (see configs/reference/provinces.csv)", file=sys.stderr)
        return 2
    load = argparse.Namespace(landing=args.landing, warehouse=args.warehouse, verbose=args.verbose,
                              school_year=args.school_year, province=args.province, force=True)
    return cmd_load(load)


def cmd_demo(args: argparse.Namespace) -> int:
    from daam.secret import SECRET_ENV, SecretError, ensure_secret
    from warehouse.products import product_path
    from warehouse.report import headline_indicators
    from warehouse.schema import SQL
    from warehouse.site.build import build_site, default_out

    landing, warehouse = Path(args.landing), Path(args.warehouse)
    # the demo's own secret, next to its warehouse, made once (levels.md: `make demo` creates it)
    secret = Path(os.environ.get(SECRET_ENV) or warehouse.parent / "daam.secret")
    try:
        secret, created = ensure_secret(secret)
    except SecretError as exc:
        print(f"daam: {exc}", file=sys.stderr)
        return 2
    os.environ[SECRET_ENV] = str(secret.resolve())
    print(("created the pseudonym secret " if created else "pseudonym secret: ") + str(secret))
    print(f"generating the demo landing zone ({args.scale} scale, {DEMO_YEARS}) in {landing} ...")
    gen = argparse.Namespace(out=str(landing), scale=args.scale, seed=args.seed, years=DEMO_YEARS,
                             defects=args.defects, no_truth=True)
    cmd_generate(gen)
    load = argparse.Namespace(landing=str(landing), warehouse=str(warehouse), verbose=False,
                              school_year=None, province=None, force=False)
    code = cmd_load(load)
    with duckdb.connect(str(warehouse)) as con:
        print("\nNational indicators (monthly ones summed over the year):")
        print_frame(headline_indicators(con, "national"))
        province = SQL.query(con, "reports/first_province.sql").fetchone()
        if province:
            print(f"\nDirectorate {province[0]}, enrolment and Tayssir:")
            frame = headline_indicators(con, "province", province[0])
            print_frame(frame[frame["indicator"].str.match(r"enrolled|tayssir")])
    if province:
        from pipelines.cli_approval import demo_approvals

        print(f"\nData approval (levels.md section 4): directorate {province[0]} signs a few months, its region "
              "accepts two ...")
        demo_approvals(str(warehouse), province[0], DEMO_YEARS.split(",")[-1])
    print("\nQuality monitoring (outliers, history, Data Docs; then the products, with the approvals) ...")
    monitor_code = cmd_monitor(argparse.Namespace(warehouse=str(warehouse), verbose=False))
    code = code or monitor_code
    site = default_out(warehouse) / "index.html"
    if not site.exists():  # the monitoring run's publish step draws it; a failed step leaves it to us
        build_site(warehouse, default_out(warehouse))
    print(f"\nWarehouse: {warehouse.resolve()}")
    print("Next: `.venv/bin/daam quality` prints the quality scorecard; `.venv/bin/daam feedback --out "
          "data/feedback` writes each school's feedback workbook.")
    print(f"Pseudonym secret: export {SECRET_ENV}={secret.resolve()} before other daam commands")
    national = product_path(warehouse, "national")
    print("Example query on the national product:\n  .venv/bin/python -c \"import duckdb; print(duckdb.connect('"
          f"{national}', read_only=True).sql(\\\"select geo_code, geo_name_fr, value from mart.indicators "
          "where geo_level = 'province' and indicator = 'tayssir_beneficiaries' and school_year = '2022-2023' "
          "order by value desc\\\"))\"")
    print(f"Reports (Arabic and French, open in a browser): {site}")
    return code


def cmd_monitor(args: argparse.Namespace) -> int:
    from pipelines.load import run_monitoring
    from quality_checks.data_docs import gx_root

    warehouse = warehouse_arg(args)
    if warehouse is None or not secret_ok():
        return 2
    started = time.monotonic()
    with shown("monitoring"):
        report = run_monitoring(warehouse, quiet=not args.verbose)
    if report.failed:
        print("\n".join(report.failed), file=sys.stderr)
        return 1
    index = gx_root() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    print(f"quality monitoring done in {time.monotonic() - started:.1f} s: ops.outlier, ops.quality_history and "
          f"mart.quality_score refreshed; Data Docs: {index.as_uri()}")
    print_products(warehouse, report.products)
    return 0


def cmd_quality(args: argparse.Namespace) -> int:
    from warehouse import scorecard

    warehouse = warehouse_arg(args)
    if warehouse is None:
        return 2
    with duckdb.connect(warehouse, read_only=True) as con:
        scope = f"directorate {args.province}" if args.province else "all directorates"
        print(f"Quality scorecard, {scope}\n")
        print("Completeness and timeliness (submissions expected per school x record type x month; "
              "not reported is not zero):")
        print_frame(scorecard.completeness(con, args.province))
        print("\nRules failing (open issues):")
        failing = scorecard.rules_failing(con, args.province)
        print_frame(failing) if len(failing) else print("  none")
        worst = scorecard.worst_schools(con, args.province)
        print("\nWorst schools (latest monitoring run, score out of 100):")
        if len(worst):
            print_frame(worst)
        else:
            print("  no monitoring run yet: run `daam monitor` (or the quality_monitoring job)")
        outliers = scorecard.open_outliers(con, args.province)
        print("\nOutliers to follow up:")
        print_frame(outliers) if len(outliers) else print("  none")
        try:
            waiting, drifting = scorecard.approvals(con, args.province)
        except duckdb.CatalogException:  # a warehouse no load of this daam version has touched yet
            print("\nData approval: not set up in this warehouse yet (the next `daam load` adds it)")
            return 0
        print("\nUnits waiting for approval (open; `daam approve`):")
        print_frame(waiting) if len(waiting) else print("  none")
        print("\nSigned units in drift (live values moved since the signature; `daam approvals --drift`):")
        print_frame(drifting) if len(drifting) else print("  none")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from warehouse.feedback import write_feedback

    warehouse = warehouse_arg(args)
    if warehouse is None:
        return 2
    from warehouse.schema import ensure_schema

    with duckdb.connect(warehouse) as con:
        # a warehouse written by an older daam gains its new columns; the workbooks compute no key
        ensure_schema(con, load_settings(), keys=False)
        with shown("feedback"):
            report = write_feedback(con, Path(args.out), province=args.province, school=args.school,
                                    school_year=args.school_year)
    print(f"{len(report.school_workbooks)} school workbook(s) and {len(report.directorate_workbooks)} "
          f"directorate summary workbook(s) written under {args.out}: {report.issues} open issue(s), "
          f"{report.rejected_files} rejected file(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    load_settings()  # a broken configs/ fails here, before any work
    parser = argparse.ArgumentParser(prog="daam", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a deterministic demo landing zone")
    gen.add_argument("--out", required=True, help="landing root to write")
    gen.add_argument("--scale", default="tiny", choices=["tiny", "province", "region", "nation"])
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--years", default=DEMO_YEARS, help="comma-separated school years, e.g. 2021-2022,2022-2023")
    gen.add_argument("--defects", type=float, default=0.0, help="fraction of rows given a defect (e.g. 0.02)")
    gen.add_argument("--no-truth", action="store_true", help="do not write the .daam-demo/ truth files")
    gen.set_defaults(func=cmd_generate)

    publish = sub.add_parser("publish", help="build the products of the directorates, regions and nation "
                             "(published/province/<code>.duckdb, published/region/<code>.duckdb, published/national.duckdb)")
    publish.add_argument("--warehouse", help=f"DuckDB file (default: $DAAM_WAREHOUSE or {DEFAULT_WAREHOUSE})")
    publish.add_argument("--province", help="only these directorate codes (comma-separated) and their regions; "
                         "a directorate without data gets an empty product")
    publish.add_argument("--kind", help="only these kinds (comma-separated): province, region, national")
    publish.set_defaults(func=cmd_publish)

    secret = sub.add_parser("secret", help="check the pseudonym secret of DAAM_SECRET_FILE, or create a new one")
    secret.add_argument("--create", metavar="PATH", help="write a new random secret to PATH (mode 0600)")
    secret.set_defaults(func=cmd_secret)

    load = sub.add_parser("load", help="load a landing zone into the warehouse through Dagster")
    load.add_argument("--landing", help=f"landing root (default: $DAAM_LANDING or {DEFAULT_LANDING})")
    load.add_argument("--warehouse", help=f"DuckDB file (default: $DAAM_WAREHOUSE or {DEFAULT_WAREHOUSE})")
    load.add_argument("--school-year", help="only these school years (comma-separated)")
    load.add_argument("--province", help="only these directorate codes (comma-separated)")
    load.add_argument("--verbose", action="store_true", help="show Dagster's own log")
    load.add_argument("--force", action="store_true",
                      help="reload every partition, even those whose inputs did not change")
    load.set_defaults(func=cmd_load)

    backfill = sub.add_parser("backfill", help="reload a school year (or one directorate-year) from the landing "
                              "zone, whether or not its files changed")
    backfill.add_argument("--school-year", required=True, help="e.g. 2022-2023")
    backfill.add_argument("--province", help="only this directorate code")
    backfill.add_argument("--landing", help=f"landing root (default: $DAAM_LANDING or {DEFAULT_LANDING})")
    backfill.add_argument("--warehouse", help=f"DuckDB file (default: $DAAM_WAREHOUSE or {DEFAULT_WAREHOUSE})")
    backfill.add_argument("--verbose", action="store_true", help="show Dagster's own log")
    backfill.set_defaults(func=cmd_backfill)

    demo = sub.add_parser("demo", help="generate the demo landing zone, load it, show indicators")
    demo.add_argument("--landing", default=DEMO_LANDING)
    demo.add_argument("--warehouse", default=DEFAULT_WAREHOUSE)
    demo.add_argument("--scale", default="province", choices=["tiny", "province", "region", "nation"])
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--defects", type=float, default=0.01)
    demo.set_defaults(func=cmd_demo)

    feedback = sub.add_parser("feedback", help="write each school's feedback workbook (open issues, "
                              "rejected and missing files) and a summary per directorate")
    feedback.add_argument("--warehouse", help=f"DuckDB file (default: $DAAM_WAREHOUSE or {DEFAULT_WAREHOUSE})")
    feedback.add_argument("--out", required=True, help="folder to write <province>/<school>.xlsx into")
    feedback.add_argument("--province", help="only this directorate code")
    feedback.add_argument("--school", help="only this school code")
    feedback.add_argument("--school-year", help="only this school year")
    feedback.set_defaults(func=cmd_feedback)

    monitor = sub.add_parser("monitor", help="run the quality monitoring job once (outliers, history and "
                             "scores, Great Expectations Data Docs)")
    monitor.add_argument("--warehouse", help=f"DuckDB file (default: $DAAM_WAREHOUSE or {DEFAULT_WAREHOUSE})")
    monitor.add_argument("--verbose", action="store_true", help="show Dagster's own log")
    monitor.set_defaults(func=cmd_monitor)

    quality = sub.add_parser("quality", help="print the quality scorecard: completeness, rules failing, "
                             "worst schools, outliers")
    quality.add_argument("--warehouse", help=f"DuckDB file (default: $DAAM_WAREHOUSE or {DEFAULT_WAREHOUSE})")
    quality.add_argument("--province", help="only this directorate code")
    quality.set_defaults(func=cmd_quality)

    add_approval_parsers(sub)
    add_outlier_parsers(sub)
    add_report_parsers(sub)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
