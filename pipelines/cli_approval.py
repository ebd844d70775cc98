"""`daam approve | unapprove | accept | approvals`: data approval from the command line
(warehouse/approval.py; contract levels.md, section 4).

    daam approve --province 110 --school-year 2022-2023 --period 2022-09..2023-06 \\
                 --by dp-110-planification --reason "audit of the directorate done" [--dry-run]
    daam accept --province 110 --school-year 2022-2023 --period 2022-09 --by aref-02-planification --reason ...
    daam unapprove ... --by aref-02-planification --reason "Oct. attendance of 3 schools re-sent"
    daam approvals [--province 110] [--school-year 2022-2023] [--waiting | --drift] [--verify]

An action (not a dry run) writes the warehouse, then runs the `publish_snapshot` job (drift, the
engineers' copy, the products) so that the region and national products show it at once
(`--no-publish` leaves that to the next load). Exit codes: 0 when every unit is done or already in
the state asked; 2 when the command is refused (who, what, which state, and who could), or when
every unit was refused; 1 when publishing failed.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

from assets.resources import Warehouse
from pipelines.cli_common import (
    BUSY,
    WAREHOUSE_HELP,
    print_frame,
    read_warehouse,
    republish,
    secret_ok,
    warehouse_arg,
)


def cmd_act(args: argparse.Namespace) -> int:
    """approve, accept or unapprove the units of --period."""
    from daam.config import ConfigError
    from warehouse.approval import DONE, ApprovalError, act

    warehouse = warehouse_arg(args)
    if warehouse is None:
        return 2
    publish = not args.dry_run and not args.no_publish
    if publish and not secret_ok():  # the products compute pupil keys
        return 2
    try:
        # the working warehouse's own connection: waits for a load that holds the file, sets up the
        # approval tables in an older warehouse, keeps the file private; approving computes no key
        with Warehouse(database=warehouse).connect(keys=False) as con:
            report = act(con, args.command, args.province, args.school_year, args.period, args.by, args.reason,
                         dry_run=args.dry_run)
    except (ApprovalError, ConfigError) as exc:
        print(f"daam: {args.command} refused: {exc}", file=sys.stderr)
        return 2
    except duckdb.IOException:
        print(f"daam: {BUSY.format(warehouse=warehouse)}", file=sys.stderr)
        return 2
    head = f"{args.command} {args.province} {args.school_year} by {args.by}"
    print(head + (" — dry run: nothing written" if args.dry_run else ""))
    for unit in report.units:
        arrow = f"{unit.state_before} → {unit.state_after}" if unit.outcome == "done" else unit.state_before
        print(f"  {unit.period:8} {arrow:22} {unit.message}")
        for warning in unit.warnings:
            print(f"  {'':8} {'':22} warning: {warning}")
        if unit.preview is not None and len(unit.preview):
            values = ", ".join(f"{r.indicator} {r.value:,.0f}" for r in unit.preview.itertuples())
            print(f"  {'':8} {'':22} directorate values: {values}")
    counts = {o: len(report.by_outcome(o)) for o in ("done", "unchanged", "skipped", "refused")}
    verb = ("would be " if args.dry_run else "") + DONE[args.command]
    print(f"{counts['done']} unit(s) {verb}, {counts['unchanged']} already so, {counts['skipped']} skipped, "
          f"{counts['refused']} refused")
    if report.refused_all:
        return 2
    if publish and counts["done"]:
        return republish(warehouse)
    return 0


def cmd_approvals(args: argparse.Namespace) -> int:
    """List units, their state and drift; --verify re-reads the audit."""
    from warehouse import approval

    warehouse = warehouse_arg(args)
    if warehouse is None:
        return 2
    con = read_warehouse(warehouse)
    if con is None:
        return 2
    with con:
        try:
            frame = approval.status(con, args.province, args.school_year,
                                    "waiting" if args.waiting else "drift" if args.drift else None)
        except duckdb.CatalogException:
            print("no approval yet in this warehouse (run `daam load` with this version of daam first)")
            return 0
        print(f"Approval units ({len(frame)}):")
        print_frame(frame) if len(frame) else print("  none")
        if args.drift and args.province:
            values, files = approval.drift_details(con, args.province, args.school_year)
            print("\nValues that moved since their signature (first 50):")
            print_frame(values) if len(values) else print("  none")
            print("\nFiles loaded after the signature (first 50):")
            print_frame(files) if len(files) else print("  none")
        if args.verify:
            problems = approval.verify(con)
            events = con.execute("select count(*) from ops.approval_event").fetchone()[0]
            if problems:
                print(f"\naudit: {len(problems)} problem(s) in {events} event(s):", file=sys.stderr)
                for problem in problems:
                    print(f"  {problem}", file=sys.stderr)
                return 1
            print(f"\naudit: {events} event(s), chain intact, every signed value matches its fingerprint")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    helps = {"approve": "sign a directorate's units (freeze their values with a SHA-256 fingerprint)",
             "accept": "accept, as the region, units its directorate approved",
             "unapprove": "withdraw a signature (the directorate while not accepted; its region or the centre at "
                          "any time)"}
    for action, text in helps.items():
        p = sub.add_parser(action, help=text)
        p.add_argument("--warehouse", help=WAREHOUSE_HELP)
        p.add_argument("--province", required=True, help="the directorate code, e.g. 110")
        p.add_argument("--school-year", required=True, help="e.g. 2022-2023")
        p.add_argument("--period", required=True,
                       help="a school month (2022-10), a range (2022-09..2023-06), `year` (the yearly indicators), "
                            "`all`, or a comma-separated list of those")
        p.add_argument("--by", required=True, help="your approver id in configs/approvers.yaml")
        p.add_argument("--reason", help="why (required, except with --dry-run): kept in the audit")
        p.add_argument("--dry-run", action="store_true", help="show the units and values, write nothing")
        p.add_argument("--no-publish", action="store_true",
                       help="do not rebuild the products now (the next load or `daam publish` will)")
        p.set_defaults(func=cmd_act)
    p = sub.add_parser("approvals", help="list the approval units: state, who signed, drift, open errors")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--province", help="only this directorate code")
    p.add_argument("--school-year", help="only this school year")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--waiting", action="store_true", help="only units waiting for approval (open)")
    group.add_argument("--drift", action="store_true",
                       help="only drifting units (with --province: the values that moved and the files)")
    p.add_argument("--verify", action="store_true",
                   help="re-read the audit: event chain and fingerprints of the signed values (exit 1 if broken)")
    p.set_defaults(func=cmd_approvals)


# What `daam demo` signs, so that every state shows in the products: the directorate approves the
# first term and the yearly indicators, its region accepts September and October; the other months
# stay open (provisional).
DEMO_ACTIONS = (("approve", "province", "{first}..{fourth},year", "first term and yearly records audited (demo)"),
                ("accept", "region", "{first}..{second}", "accepted for the region (demo)"))


def demo_approvals(warehouse: str, province: str, school_year: str) -> None:
    """The demo's approvals, by the first approvers configs/approvers.yaml names for the directorate
    and its region (none configured: said, and skipped). Idempotent: a second demo changes nothing."""
    from daam.config import load_settings
    from warehouse.approval import DONE, ApprovalError, act, load_approvers

    settings = load_settings()
    months = settings.months_of(school_year)
    codes = {"province": province, "region": settings.provinces[province].region_code}
    approvers = load_approvers(settings=settings)
    with Warehouse(database=warehouse).connect(keys=False) as con:
        for action, level, period, reason in DEMO_ACTIONS:
            by = next((a.id for a in approvers.values() if a.level == level and a.code == codes[level]), None)
            if by is None:
                print(f"  no {level} approver for {codes[level]} in configs/approvers.yaml: demo {action} skipped")
                continue
            period = period.format(first=months[0], second=months[1], fourth=months[3])
            try:
                report = act(con, action, province, school_year, period, by, reason, approvers=approvers)
            except ApprovalError as exc:
                print(f"  demo {action} refused: {exc}")
                continue
            done = [u.period for u in report.by_outcome("done")]
            print(f"  {action} {province} {school_year} {period} by {by}: "
                  + (f"{len(done)} unit(s) {DONE[action]}" if done else "already done"))
        print_frame(con.execute("select period, state, approved_by, accepted_by, values_signed, drift, open_errors "
                           "from mart.approval_status where province_code = $p and school_year = $y "
                           "order by period = 'year', period", {"p": province, "y": school_year}).df())
