"""`daam outlier list | confirm | dismiss | reopen`: the quality monitors' follow-up of the outliers
the monitoring finds (ops.outlier, warehouse/follow_up.py), without SQL.

    daam outlier list [--province 110] [--school-year 2022-2023] [--status open,confirmed | all] [--metric M]
    daam outlier confirm 3f2a9c01bd [ID ...] --by monitor-110 [--note "asked the school to check October"]
    daam outlier dismiss 3f2a9c01bd [ID ...] --by monitor-110 --note "new building: the absences are real"
    daam outlier reopen 3f2a9c01bd --by monitor-110

An id is the one `list` shows (the start of it will do while it names one outlier). `confirm` sets
`confirmed` (an anomaly the school must check or correct), `dismiss` sets `explained` (the value is
genuine, the note says why), `reopen` sets `open` again; each records who and when, and the
monitoring keeps them. A change writes the warehouse, then runs the `publish_snapshot` job so that
the products show the new status at once (`--no-publish` leaves that to the next load or monitoring
run). Exit codes: 0 when done (or already so); 2 when refused, with nothing written: an unknown or
ambiguous id, a resolved outlier, a missing --by or --note, an unknown status, metric or
directorate, a warehouse busy with a load; 1 when publishing failed.
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

# command → the status it sets, and the words that say it
ACTIONS = {"confirm": ("confirmed", "confirmed"), "dismiss": ("explained", "dismissed (explained)"),
           "reopen": ("open", "reopened")}


def _statuses(text: str) -> tuple[str, ...] | None:
    """The statuses of --status (a comma-separated list, or `all`); None (said why) when one is unknown."""
    from warehouse.follow_up import OUTLIER_STATES

    if text.strip() == "all":
        return OUTLIER_STATES
    asked = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not asked or (bad := [s for s in asked if s not in OUTLIER_STATES]):
        wrong = ", ".join(bad) if asked else "nothing"
        print(f"daam: --status {wrong} is not an outlier status: give some of {', '.join(OUTLIER_STATES)} "
              f"(comma-separated), or all", file=sys.stderr)
        return None
    return asked


def _filters_ok(args: argparse.Namespace) -> bool:
    """--metric names a metric of configs/outliers.yaml and --province a directorate (else said)."""
    from daam.config import load_settings, outlier_config

    metrics = outlier_config().metrics
    if args.metric and args.metric not in metrics:
        print(f"daam: unknown metric {args.metric} (configs/outliers.yaml has {', '.join(metrics)})",
              file=sys.stderr)
        return False
    if args.province and args.province not in load_settings().provinces:
        print(f"daam: unknown directorate code {args.province} (see configs/reference/provinces.csv)",
              file=sys.stderr)
        return False
    return True


def cmd_list(args: argparse.Namespace) -> int:
    """Print the outliers to follow up, with the ids the other commands take."""
    from warehouse.follow_up import list_outliers

    warehouse = warehouse_arg(args)
    statuses = _statuses(args.status)
    if warehouse is None or statuses is None or not _filters_ok(args):
        return 2
    con = read_warehouse(warehouse)
    if con is None:
        return 2
    with con:
        try:
            frame = list_outliers(con, statuses, args.province, args.school_year, args.metric)
        except (duckdb.CatalogException, duckdb.BinderException):
            print(f"daam: the warehouse {warehouse} has no outlier follow-up yet: run `daam monitor` with this "
                  f"version of daam first", file=sys.stderr)
            return 2
    print(f"Outliers ({', '.join(statuses)}): {len(frame)}")
    if len(frame):
        print_frame(frame.fillna(""))
        print("\nFollow up with `daam outlier confirm | dismiss | reopen ID --by NAME [--note TEXT]`.")
    else:
        print("  none")
    return 0


def cmd_follow_up(args: argparse.Namespace) -> int:
    """confirm, dismiss or reopen the outliers named by their ids."""
    from warehouse.follow_up import OutlierFollowUpError, follow_up_outliers

    status, done = ACTIONS[args.action]
    by = args.by.strip()
    note = args.note.strip() if args.note is not None else None
    if not by:
        print("daam: --by must name who follows the outliers up", file=sys.stderr)
        return 2
    if args.action == "dismiss" and not note:
        print("daam: dismiss needs --note: say why the value is genuine", file=sys.stderr)
        return 2
    warehouse = warehouse_arg(args)
    if warehouse is None:
        return 2
    if not args.no_publish and not secret_ok():  # the products compute pupil keys
        return 2
    try:
        # the working warehouse's own connection: waits a little for a load that holds the file, gives an
        # older warehouse the reviewer columns, keeps the file private; the follow-up computes no key
        with Warehouse(database=warehouse).connect(keys=False) as con:
            changes = follow_up_outliers(con, args.ids, status, by, note or None)
    except OutlierFollowUpError as exc:
        print(f"daam: outlier {args.action} refused, nothing written:", file=sys.stderr)
        for problem in str(exc).splitlines():
            print(f"  {problem}", file=sys.stderr)
        return 2
    except duckdb.IOException:
        print(f"daam: {BUSY.format(warehouse=warehouse)}", file=sys.stderr)
        return 2
    written = [c for c in changes if c.written]
    print(f"outlier {args.action} by {by}: {len(written)} outlier(s) {done}, {len(changes) - len(written)} "
          f"already so")
    for c in changes:
        arrow = f"{c.before} → {c.after}" if c.written else f"{c.after} (unchanged)"
        print(f"  {c.id}  {c.school_code}  {c.metric:28} {c.period:9}  {arrow}")
    if written and not args.no_publish:
        return republish(warehouse)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    outlier = sub.add_parser("outlier", help="follow up the outliers the monitoring found: list, confirm, "
                             "dismiss, reopen")
    actions = outlier.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", help="the outliers to follow up, with their ids")
    p.add_argument("--warehouse", help=WAREHOUSE_HELP)
    p.add_argument("--province", help="only this directorate code")
    p.add_argument("--school-year", help="only this school year, e.g. 2022-2023")
    p.add_argument("--status", default="open,confirmed",
                   help="only these statuses, comma-separated (open, confirmed, explained, corrected, resolved), "
                        "or all (default: open,confirmed, the ones to follow up)")
    p.add_argument("--metric", help="only this metric of configs/outliers.yaml, e.g. absence_rate")
    p.set_defaults(func=cmd_list)
    helps = {"confirm": "confirm outliers: anomalies the school must check or correct",
             "dismiss": "dismiss outliers: the values are genuine (--note says why); status explained",
             "reopen": "set outliers back to open"}
    for action, text in helps.items():
        p = actions.add_parser(action, help=text)
        p.add_argument("ids", nargs="+", metavar="ID", help="an outlier's id from `daam outlier list`")
        p.add_argument("--warehouse", help=WAREHOUSE_HELP)
        p.add_argument("--by", required=True, help="who follows them up (kept with the status)")
        p.add_argument("--note", required=action == "dismiss",
                       help="why the value is genuine (required)" if action == "dismiss"
                       else "a note for the school or the next monitor (the previous note is kept without one)")
        p.add_argument("--no-publish", action="store_true",
                       help="do not rebuild the products now (the next load or monitoring run will)")
        p.set_defaults(func=cmd_follow_up)
