"""A load killed at any point (SIGKILL: no cleanup, no rollback handler, no atexit) leaves nothing
half-done: rerunning `daam load` to completion gives exactly the warehouse of one clean run.

Every table of raw, staging, core, mart and ops is compared by a checksum of its rows, except what
legitimately differs between runs: the tables that record runs (`ops.load_log`,
`ops.partition_load`), run and load ids, and the clock times a run stamps (`*_at` columns, of which
only null or not null is compared, so that "resolved" vs "open" still counts). `received_at` and
`modified_at` come from the files' modification times and are compared in full.

Two situations: a new warehouse loaded from a landing zone of 2 school years x 2 directorates
(killed during the landing scan, after the first partition's raw step, between two partitions,
in the second school year, in the last partition), and the same warehouse reloaded after schools resent files (new versions
supersede loaded ones, issues resolve), killed after the first partition's raw step. The clean
references are one clean run, and the clean load followed by one clean reload.

Kill points are events, not times: the test reads the load's progress lines as they come (each
step says its line as it ends: `raw 110|2022-2023: 1.5 s, ...`), so it knows how many steps have
ended, and kills part of the way into the next one (its duration taken from the clean run's
`ops.load_log`); before the first step, it waits for the landing scan to open the warehouse (its
write-ahead log appears). After the kill, the killed run's own `ops.load_log` rows say which
steps it committed; the test checks that the kill landed where it was aimed, then reruns.

Readers' side: the published snapshot (warehouse/publish.py) is untouched by the crash (still the
previous complete load, or absent before the first one) and equals the warehouse after the rerun.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from daam.demo.generator import generate
from warehouse.publish import publish, published_path

# A clean load, a clean reload, six killed loads and their reruns take ~5 min: one kill point runs
# in every `make test`, the others are slow (`make test-all`).
IN_EVERY_RUN = "fresh-between_partitions"

PROJECT = Path(__file__).resolve().parents[2]
DAAM = Path(sys.executable).with_name("daam")
YEARS = ["2022-2023", "2023-2024"]
SCHEMAS = ("raw", "staging", "core", "mart", "ops")
RUN_TABLES = {"ops.load_log", "ops.partition_load"}
RUN_IDS = {"load_id", "run_id", "last_run_id"}
FILE_TIMES = {"received_at", "modified_at"}  # from the landing files' mtimes: equal between runs


def _volatile(column: str) -> bool:
    return column in RUN_IDS or (column.endswith("_at") and column not in FILE_TIMES)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """column -> the expression compared: the column, or for a volatile one whether it is null."""
    schema, name = table.split(".")
    cols = con.execute("select column_name from duckdb_columns() where database_name = current_database() "
                       "and schema_name = $s and table_name = $t order by column_index",
                       {"s": schema, "t": name}).fetchall()
    return {c: f'"{c}" is null' if _volatile(c) else f'"{c}"' for (c,) in cols}


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("select schema_name || '.' || table_name from duckdb_tables() "
                       f"where schema_name in {SCHEMAS} order by all").fetchall()
    return [t for (t,) in rows if t not in RUN_TABLES]


def checksums(db: Path) -> dict[str, tuple[int, str]]:
    """table -> (rows, md5 of its rows, sorted): equal iff the tables hold the same multiset of rows."""
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"""
                    select count(*), md5(coalesce(string_agg(r, chr(10) order by r), ''))
                    from (select struct_pack({", ".join(f'"{c}" := {e}' for c, e in _columns(con, t).items())})::varchar as r
                          from {t})
                """).fetchone() for t in _tables(con)}


def differences(clean: Path, db: Path, tables: list[str], limit: int = 5) -> str:
    """The rows of `tables` in one warehouse and not the other (first few of each way)."""
    lines = []
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute(f"attach '{clean}' as clean (read_only)")
        for t in tables:
            exprs = ", ".join(f'{e} as "{c}"' for c, e in _columns(con, t).items())
            for label, a, b in (("only after kill+rerun", "", "clean."), ("only in the clean run", "clean.", "")):
                rows = con.execute(f"select {exprs} from {a}{t} except all select {exprs} from {b}{t} "
                                   f"limit {limit}").fetchall()
                lines += [f"{t} {label}: {r}" for r in rows]
    return "\n".join(lines)


def committed_steps(db: Path, since: datetime) -> list[str]:
    """The steps of the run started at `since` whose transaction committed (from ops.load_log)."""
    if not db.exists():
        return []
    with duckdb.connect(str(db), read_only=True) as con:
        if not con.execute("select count(*) from duckdb_tables() where schema_name = 'ops' "
                           "and table_name = 'load_log'").fetchall()[0][0]:
            return []  # killed before the schema was first set up
        return [f"{s} {p or ''}".strip() for s, p in con.execute(
            "select step, partition_key from ops.load_log where started_at >= $t order by started_at",
            {"t": since}).fetchall()]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # an ephemeral Dagster instance
    env["TMPDIR"] = str(tmp)  # what a killed run leaves in its temporary folder stays in the test's
    return env


@dataclass
class Run:
    returncode: int
    output: str
    started: datetime  # wall clock, when the process was started
    seconds: float


@dataclass
class KillAt:
    steps_done: int  # wait for this many steps' lines (0: for the scan to open the warehouse) ...
    delay: float  # ... then this many seconds more


# A step's progress line (warehouse/db.py `log_step`), said as its transaction ends: "[  0:03] raw
# 110|2021-2022: 1.5 s, ..." or "[  0:01] landing_inventory: 0.6 s, ..."
STEP_LINE = re.compile(r"^\[[ 0-9:]+\] [a-z_]+(?: [0-9]+\|[0-9-]+)?: [0-9.]+ s\b")


def daam_load(landing: Path, db: Path, tmp: Path, kill: KillAt | None = None) -> Run:
    """`daam load` in a process group of its own. With `kill`, SIGKILL the whole group (the load
    and the file-reading processes it starts) at that point.

    The point is found from the load's progress lines, read as they come: one line per step, in
    the order of a clean run's `ops.load_log`. A step says its line as its transaction ends: the
    kill's delay (half a step at least, but between partitions) covers the commit. Before the first
    step, the landing scan's opening of the warehouse is seen from outside: its write-ahead log
    appears (the schema's `create or replace view`)."""
    wal = Path(f"{db}.wal")
    started, clock = datetime.now(), time.monotonic()
    proc = subprocess.Popen([str(DAAM), "load", "--landing", str(landing), "--warehouse", str(db)],
                            cwd=PROJECT, env=_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    opened, armed = False, None
    while proc.poll() is None:
        opened = opened or wal.exists()
        steps = sum(1 for line in list(lines) if STEP_LINE.match(line))
        if kill is not None and armed is None and opened and steps >= kill.steps_done:
            armed = time.monotonic()
        if armed is not None and time.monotonic() >= armed + kill.delay:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    reader.join()
    return Run(proc.returncode, "".join(lines), started, time.monotonic() - clock)


@dataclass
class Clean:
    """A landing zone, the warehouse before the load (None: none), and the clean load's outcome."""

    landing: Path
    start_from: Path | None
    db: Path
    steps: list[tuple[str, str | None, float]]  # the clean load's steps in order: step, partition, seconds
    checksums: dict[str, tuple[int, str]]

    def kill_at(self, step: str, partition_index: int | None, fraction: float) -> tuple[KillAt, list[str]]:
        """Kill `fraction` of the way into that step (of the partition_index-th partition loaded):
        when the steps before it are done; and the names of those steps."""
        parts = list(dict.fromkeys(p for _, p, _ in self.steps if p))
        part = parts[partition_index] if partition_index is not None else None
        i = next(i for i, (s, p, _) in enumerate(self.steps) if (s, p) == (step, part))
        return KillAt(i, fraction * self.steps[i][2]), [f"{s} {p or ''}".strip() for s, p, _ in self.steps[:i]]


def _clean_load(root: Path, landing: Path, start_from: Path | None, name: str) -> Clean:
    db = root / f"{name}.duckdb"
    if start_from is not None:
        shutil.copyfile(start_from, db)
    run = daam_load(landing, db, root)
    assert run.returncode == 0, run.output[-4000:]
    with duckdb.connect(str(db), read_only=True) as con:
        steps = con.execute("select step, partition_key, epoch(finished_at - started_at) from ops.load_log "
                            "where started_at >= $t order by started_at", {"t": run.started}).fetchall()
    return Clean(landing, start_from, db, steps, checksums(db))


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kill")


@pytest.fixture(scope="module")
def fresh(root: Path) -> Clean:
    """A landing zone of 2 school years x 2 directorates (4 partitions), loaded into a new warehouse."""
    landing = root / "landing"
    generate(landing, scale="tiny", years=YEARS, defects=0.02, truth=False)
    return _clean_load(root, landing, None, "clean")


@pytest.fixture(scope="module")
def reload(root: Path, fresh: Clean) -> Clean:
    """The same landing zone after schools resent the first year's files and a new referential
    snapshot arrived (new versions supersede loaded ones, issues resolve), loaded into the
    warehouse of `fresh`: every partition is reloaded."""
    landing = root / "landing2"
    shutil.copytree(fresh.landing, landing)
    generate(root / "resent", scale="tiny", years=YEARS[:1], defects=0.02, truth=False)
    for folder in (YEARS[0], "reference"):
        shutil.copytree(root / "resent" / folder, landing / folder, dirs_exist_ok=True)
    return _clean_load(root, landing, fresh.db, "clean_reload")


KILL_POINTS = {
    # name: (clean run, step, index of its partition in load order, how far into the step)
    "fresh-during_landing_scan": ("fresh", "landing_inventory", None, 0.5),
    "fresh-after_first_raw": ("fresh", "staging", 0, 0.5),
    "fresh-between_partitions": ("fresh", "raw", 1, 0.0),  # mart committed; partition_load maybe not
    "fresh-second_school_year_raw": ("fresh", "raw", 2, 0.5),
    "fresh-last_partition_staging": ("fresh", "staging", 3, 0.5),
    "reload-after_first_raw": ("reload", "staging", 0, 0.5),
}


@pytest.mark.parametrize("point", [p if p == IN_EVERY_RUN else pytest.param(p, marks=pytest.mark.slow)
                                   for p in KILL_POINTS])
def test_killed_load_then_rerun_equals_a_clean_run(request, root: Path, point: str):
    which, step, partition_index, fraction = KILL_POINTS[point]
    clean: Clean = request.getfixturevalue(which)
    db = root / f"{point}.duckdb"
    readers_before = None  # what readers of the published snapshot see before the load
    if clean.start_from is not None:
        shutil.copyfile(clean.start_from, db)
        readers_before = checksums(publish(db))
    kill, done = clean.kill_at(step, partition_index, fraction)
    killed = daam_load(clean.landing, db, root, kill=kill)
    assert killed.returncode == -signal.SIGKILL, (
        f"the load was meant to be killed after {done} but ended with {killed.returncode} after "
        f"{killed.seconds:.1f} s:\n{killed.output[-2000:]}")
    wal_left = Path(f"{db}.wal").exists()  # committed transactions not yet checkpointed into the file
    committed = committed_steps(db, killed.started)
    print(f"\n{point}: killed {killed.seconds:.1f} s after start, write-ahead log left: {wal_left}, "
          f"steps committed: {committed}")
    # the kill landed where it was aimed (one step later at most, on a machine much faster than
    # during the clean run): the test covers the phase its name says
    assert committed[:len(done)] == done and len(committed) <= len(done) + 1, (done, committed)

    # the readers' copy is untouched by the crash: the previous complete load, or none yet
    if readers_before is None:
        assert not published_path(db).exists()
    else:
        assert checksums(published_path(db)) == readers_before

    rerun = daam_load(clean.landing, db, root)
    assert rerun.returncode == 0, rerun.output[-4000:]
    got = checksums(db)
    assert checksums(published_path(db)) == got  # `daam load` published its complete result
    assert got.keys() == clean.checksums.keys()
    differ = [t for t in clean.checksums if got[t] != clean.checksums[t]]
    assert not differ, (
        f"killed after these steps had committed: {committed}; after the rerun these tables differ "
        "from a clean run (rows clean, rows after kill and rerun): "
        f"{ {t: (clean.checksums[t][0], got[t][0]) for t in differ} }\n" + differences(clean.db, db, differ))
