"""The published snapshot (warehouse/publish.py): readers of the published file are never locked
out by a load and never see a half-loaded warehouse, only the state before or after a whole load.

The working file is the counter-example: while a load writes it, DuckDB refuses to open it even
read-only ("IO Error: Could not set lock on file ... Conflicting lock is held"), and a reader that
gets in between two steps sees a partly loaded warehouse and blocks the next step's connection.
"""

from __future__ import annotations

import errno
import mmap
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from daam.demo.generator import generate
from pipelines.load import run_load
from warehouse import publish as publish_module
from warehouse.publish import PublishError, copy_file, publish, published_path

PROJECT = Path(__file__).resolve().parents[2]
DAAM = Path(sys.executable).with_name("daam")

# What an analyst asks, and what a BI dashboard refreshes: national totals, the files accounted
# for, and a join of core facts with mart indicators (enrolment facts vs the directorate's figure).
ANALYST_QUERIES = (
    """select school_year, indicator, sum(value) from mart.indicators
       where geo_level = 'national' group by all order by all""",
    "select status, count(*) from ops.file_manifest group by all order by all",
    """select e.school_year, e.province_code, count(*) as facts, any_value(m.value) as indicator
       from core.fct_enrolment e
       join mart.indicators m on m.geo_level = 'province' and m.geo_code = e.province_code
        and m.school_year = e.school_year and m.indicator = 'enrolled_pupils' and m.month is null
       group by all order by all""",
)


def _subprocess_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # an ephemeral Dagster instance
    env["TMPDIR"] = str(tmp)
    return env


def _state(db: Path) -> tuple:
    """What a reader sees in one connection: the analyst queries and every table's row count."""
    with duckdb.connect(str(db), read_only=True) as con:
        answers = tuple(tuple(con.execute(q).fetchall()) for q in ANALYST_QUERIES)
        tables = con.execute("select schema_name, table_name from duckdb_tables() order by all").fetchall()
        counts = tuple((s, t, con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]) for s, t in tables)
    return answers + (counts,)


def _make(db: Path, value: int) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("create or replace table t as select $v as v", {"v": value})


def _value(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select v from t").fetchone()[0]


def _published_then_changed(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse w.duckdb whose table t says 1 in its published snapshot and 2 in the working file."""
    db = tmp_path / "w.duckdb"
    _make(db, 1)
    pub = publish(db)
    _make(db, 2)
    return db, pub


def _hold_open(db: Path, read_only: bool) -> subprocess.Popen:
    """Another process holding `db` open until its stdin closes; returns once it holds it."""
    code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == '1'); "
            "print('open', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), "1" if read_only else "0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open"
    return proc


def _release(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(timeout=30)


def test_published_path_is_next_to_the_warehouse():
    assert published_path(Path("data/warehouse.duckdb")) == Path("data/warehouse.published.duckdb")
    assert published_path("/srv/daam/w.db") == Path("/srv/daam/w.published.db")
    assert published_path("w") == Path("w.published.duckdb")
    with pytest.raises(ValueError, match="already a published snapshot"):
        published_path("data/warehouse.published.duckdb")


def test_publish_swaps_atomically_and_open_readers_keep_their_snapshot(tmp_path: Path):
    db = tmp_path / "w.duckdb"
    with pytest.raises(FileNotFoundError):
        publish(db)
    _make(db, 1)
    pub = publish(db)
    assert pub == published_path(db) and pub.stat().st_mode & 0o777 == 0o400  # private like the working file: it holds everything
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb", "w.published.duckdb"]  # no temporary left

    old = duckdb.connect(str(pub), read_only=True)
    assert _value(old) == 1
    _make(db, 2)
    publish(db)
    # the reader that had the old file open keeps reading it, whole (POSIX: the inode outlives the name)
    assert _value(old) == 1
    # another process opening the name gets the new snapshot
    read = "import duckdb, sys; print(duckdb.connect(sys.argv[1], read_only=True).execute('select v from t').fetchone()[0])"
    out = subprocess.run([sys.executable, "-c", read, str(pub)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"
    # DuckDB's instance cache: in the same process, a new connection while the old one is open is
    # a connection to the same (old) database instance; close them all to see the new snapshot.
    again = duckdb.connect(str(pub), read_only=True)
    assert _value(again) == 1
    again.close()
    old.close()
    with duckdb.connect(str(pub), read_only=True) as fresh:
        assert _value(fresh) == 2


def test_publish_waits_for_a_writer_and_leaves_the_snapshot_alone_when_it_cannot(tmp_path: Path):
    db, pub = _published_then_changed(tmp_path)
    writer = _hold_open(db, read_only=False)
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            publish(db, lock_timeout=0.5)
    finally:
        _release(writer)
    with duckdb.connect(str(pub), read_only=True) as con:
        assert _value(con) == 1  # still the previous snapshot
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb", "w.published.duckdb"]

    # a writer that finishes within the timeout: publish waits for it, then publishes
    writer = _hold_open(db, read_only=False)
    threading.Timer(0.5, _release, [writer]).start()
    publish(db, lock_timeout=30)
    with duckdb.connect(str(pub), read_only=True) as con:
        assert _value(con) == 2


def test_publish_removes_copies_left_by_a_killed_publish(tmp_path: Path):
    db = tmp_path / "w.duckdb"
    _make(db, 1)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()  # a pid that no longer runs
    stale = tmp_path / f"w.published.duckdb.tmp-{dead}"
    stale.write_bytes(b"half a copy")
    publish(db)
    assert not stale.exists()


def test_a_copy_that_does_not_match_is_not_published(tmp_path: Path, monkeypatch):
    db, other = tmp_path / "w.duckdb", tmp_path / "other.duckdb"
    _make(db, 1)
    pub = publish(db)
    with duckdb.connect(str(other)) as con:
        con.execute("create table t as select * from range(3) r(v)")
    monkeypatch.setattr(publish_module, "copy_file", lambda src, dst: shutil.copyfile(other, dst))  # a torn copy
    with pytest.raises(PublishError, match="differs from it in 1 table"):
        publish(db)
    monkeypatch.undo()
    with duckdb.connect(str(pub), read_only=True) as con:
        assert _value(con) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.duckdb", "w.duckdb", "w.published.duckdb"]


def test_work_alongside_the_copy_reads_the_warehouse_while_it_is_copied(tmp_path: Path, monkeypatch):
    db, pub = _published_then_changed(tmp_path)
    events = []
    copying, read = threading.Event(), threading.Event()

    def slow_copy(src, dst):  # the copy is not over until the work has read: one after the other would hang
        copying.set()
        events.append(("work done before the copy", read.wait(10)))
        shutil.copyfile(src, dst)

    def read_it():  # the level products attach the working file read-only, in this process
        assert copying.wait(10)
        with duckdb.connect() as con:
            con.execute(f"attach '{db}' as w (read_only)")
            events.append(("read", con.execute("select v from w.t").fetchone()[0]))
        read.set()

    monkeypatch.setattr(publish_module, "copy_file", slow_copy)
    assert publish(db, alongside=read_it) == pub
    assert sorted(events) == [("read", 2), ("work done before the copy", True)]
    with duckdb.connect(str(pub), read_only=True) as con:
        assert _value(con) == 2


def test_a_failing_work_alongside_is_raised_once_the_snapshot_is_published(tmp_path: Path):
    db, pub = _published_then_changed(tmp_path)

    def fails():
        raise RuntimeError("the products could not be built")

    with pytest.raises(RuntimeError, match="products could not be built"):
        publish(db, alongside=fails)
    with duckdb.connect(str(pub), read_only=True) as con:
        assert _value(con) == 2  # the engineers' copy is published all the same
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb", "w.published.duckdb"]


def test_a_warehouse_written_while_it_is_copied_is_not_published(tmp_path: Path, monkeypatch):
    db, pub = _published_then_changed(tmp_path)
    written = threading.Event()

    def copy_during_the_write(src, dst):
        shutil.copyfile(src, dst)  # the copy is half written...
        assert written.wait(10)  # ...when the write lands

    def write():
        # Against the contract, another writer gets in once the checkpointed file is closed: its
        # commit reaches the file (a checkpoint when its connection closes) while the copy is made.
        _make(db, 3)
        written.set()

    monkeypatch.setattr(publish_module, "copy_file", copy_during_the_write)
    with pytest.raises(PublishError, match="was written while it was being copied"):
        publish(db, alongside=write)
    with duckdb.connect(str(pub), read_only=True) as con:
        assert _value(con) == 1  # the previous snapshot stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb", "w.published.duckdb"]


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 8192, 3 * 8192 + 5])
def test_copy_file_copies_every_byte_whatever_the_size(tmp_path: Path, size: int):
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(os.urandom(size))
    target.write_bytes(b"an older, longer file " * 2000)  # replaced, not written over
    copy_file(source, target, chunk=8192)  # several chunks, and a partial last block
    assert target.read_bytes() == source.read_bytes()


def _takes_direct_writes(folder: Path) -> bool:
    buffer = mmap.mmap(-1, 4096)
    try:
        fd = os.open(folder / "probe", os.O_WRONLY | os.O_CREAT | getattr(os, "O_DIRECT", 0))
        try:
            os.write(fd, buffer)
        finally:
            os.close(fd)
    except OSError:
        return False
    finally:
        buffer.close()
    return hasattr(os, "O_DIRECT")


def test_copy_file_writes_around_the_page_cache_where_it_can(tmp_path: Path, monkeypatch):
    if not _takes_direct_writes(tmp_path):
        pytest.skip("this file system takes no direct writes")
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(os.urandom(20000))
    fell_back = []
    monkeypatch.setattr(shutil, "copyfile", lambda *a: fell_back.append(a))
    copy_file(source, target, chunk=8192)
    assert fell_back == []
    assert target.read_bytes() == source.read_bytes()


def test_copy_file_falls_back_where_direct_writes_are_refused_and_reports_other_errors(tmp_path: Path,
                                                                                      monkeypatch):
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(os.urandom(10000))

    def refused(src, dst, direct, chunk):
        Path(dst).write_bytes(b"half")  # tmpfs: EINVAL, possibly after the file was made
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(publish_module, "_copy_direct", refused)
    copy_file(source, target)
    assert target.read_bytes() == source.read_bytes()

    def full(src, dst, direct, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(publish_module, "_copy_direct", full)
    with pytest.raises(OSError, match="No space left"):
        copy_file(source, target)


def test_readers_of_the_published_file_see_before_or_after_a_load_never_a_mix(tmp_path: Path):
    landing, db = tmp_path / "landing", tmp_path / "w.duckdb"
    generate(landing, scale="tiny", years=["2022-2023"], defects=0.02, truth=False)
    first = run_load(landing, db)  # publishes at its end
    assert first.ok, first.failed
    pub = first.published
    assert pub == published_path(db)
    before = _state(pub)
    assert before == _state(db)

    # the landing zone changes: schools of both directorates resend corrected files (rosters,
    # attendance, ...) and a new referential snapshot arrives, so both partitions are reloaded
    generate(tmp_path / "next", scale="tiny", years=["2022-2023", "2023-2024"], defects=0.02, truth=False)
    for folder in ("2022-2023", "reference"):
        shutil.copytree(tmp_path / "next" / folder, landing / folder, dirs_exist_ok=True)

    outcome: dict[str, subprocess.CompletedProcess] = {}

    def load() -> None:  # another process, as `daam load` from cron would be; it publishes at its end
        outcome["load"] = subprocess.run([str(DAAM), "load", "--landing", str(landing), "--warehouse", str(db)],
                                         cwd=PROJECT, env=_subprocess_env(tmp_path), capture_output=True,
                                         text=True, check=False)

    worker = threading.Thread(target=load)
    worker.start()
    states, errors = [], []
    working = {"locked": [], "opened": 0}
    next_probe = time.monotonic()
    while worker.is_alive():
        try:
            states.append(_state(pub))
        except Exception as exc:  # noqa: BLE001 - any failure of a reader is what this test counts
            errors.append(repr(exc))
        # The working file, read-only, as a naive analyst would: refused while a step writes it.
        # Probe it rarely and only until the first refusal: a reader that does get in between two
        # steps holds a lock that makes the load's next connection fail, which would break this load.
        if not working["locked"] and time.monotonic() >= next_probe:
            next_probe = time.monotonic() + 1.0
            try:
                duckdb.connect(str(db), read_only=True).close()
                working["opened"] += 1
            except duckdb.IOException as exc:
                working["locked"].append(str(exc))
    worker.join()

    loaded = outcome["load"]
    assert loaded.returncode == 0, loaded.stdout[-2000:] + loaded.stderr[-4000:]
    after = _state(pub)
    assert after == _state(db)  # the snapshot is the whole warehouse as the load left it
    assert after != before

    assert errors == []
    assert len(states) >= 20, f"only {len(states)} reads during the load"
    mixed = [i for i, s in enumerate(states) if s not in (before, after)]
    assert mixed == [], f"{len(mixed)} of {len(states)} reads saw neither the state before nor after the load"
    assert states[0] == before  # the load took long enough for readers to see the old state, then the new
    assert states.count(before) + states.count(after) == len(states)

    assert working["locked"], "the working file was never found locked by the load"
    assert "Could not set lock" in working["locked"][0] and "Conflicting lock is held" in working["locked"][0]
