"""`daam outlier list | confirm | dismiss | reopen` on the hand-written landing zone, whose two
schools are too few to have peers: every metric is given bounds no value keeps (minmax, max 0), so
that each school aggregate is an outlier. Each test works on its own copy of the loaded warehouse."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

import assets.resources
from assets.resources import Warehouse
from daam.config import outlier_config
from pipelines.cli import main as daam
from pipelines.load import run_load
from tests.conftest import FILES, SCHOOL_A, YEAR, write_files
from warehouse import seeds
from warehouse.build import ops
from warehouse.build.ops import detect_outliers
from warehouse.products import product_path

BY = "monitor-110"
# a load's hold on the warehouse: another process with the file open for writing
HOLD = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('holding', flush=True); time.sleep(60)"


def _every_value_flagged():
    base = outlier_config()
    return dataclasses.replace(base, method="minmax", metrics={
        metric: {**spec, "method": "minmax", "min": 0, "max": 0} for metric, spec in base.metrics.items()})


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-written landing zone loaded, and its outliers found with those bounds (kept for the
    monitoring runs of the tests)."""
    root = tmp_path_factory.mktemp("outliers")
    write_files(root / "landing", FILES)
    mp = pytest.MonkeyPatch()
    mp.setenv("DAAM_GX_ROOT", str(root / "gx_root"))
    mp.setattr(ops, "outlier_config", _every_value_flagged)
    mp.setattr(seeds, "outlier_config", _every_value_flagged)  # what core.outlier_rule is loaded from
    report = run_load(root / "landing", root / "w.duckdb")
    assert report.ok, report.failed
    with Warehouse(database=str(root / "w.duckdb")).connect(keys=False) as con:
        assert detect_outliers(con, "first")["new"] >= 4
    yield root / "w.duckdb"
    mp.undo()


@pytest.fixture
def db(loaded: Path, tmp_path: Path) -> str:
    """A copy of the monitored warehouse (no products yet: a command that changes a status makes them)."""
    shutil.copy(loaded, tmp_path / "w.duckdb")
    return str(tmp_path / "w.duckdb")


def _id(month: str, metric: str, school: str = SCHOOL_A) -> str:
    """The short id, computed here from its definition (SHA-256 of the key)."""
    return hashlib.sha256(f"{YEAR}|{month}|{school}|{metric}".encode()).hexdigest()[:10]


ABSENCE = _id("2022-10", "absence_rate")
KITS = _id("", "kits_requested_per_eligible")


def _rows(db: str) -> dict[str, tuple]:
    """id → (status, reviewed_by, reviewed_at, note, last_run_id) of every outlier."""
    with duckdb.connect(db, read_only=True) as con:
        return {_id(month, metric, school): tuple(rest) for month, metric, school, *rest in con.execute(
            "select month, metric, school_code, status, reviewed_by, reviewed_at, note, last_run_id "
            "from ops.outlier").fetchall()}


def _run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = daam(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_shows_the_outliers_to_follow_up_with_their_ids(db: str, capsys: pytest.CaptureFixture):
    rows = _rows(db)
    assert {ABSENCE, KITS} <= set(rows) and {r[0] for r in rows.values()} == {"open"}
    code, out, _ = _run(["outlier", "list", "--warehouse", db], capsys)
    assert code == 0
    assert f"Outliers (open, confirmed): {len(rows)}" in out
    for oid in rows:
        assert oid in out
    absence = next(line for line in out.splitlines() if ABSENCE in line)
    assert "110" in absence and SCHOOL_A in absence and "absence_rate" in absence and "2022-10" in absence
    kits = next(line for line in out.splitlines() if KITS in line)
    assert "3.0" in kits and YEAR in kits  # 3 kits requested for 1 eligible pupil; a yearly metric
    code, out, _ = _run(["outlier", "list", "--warehouse", db, "--metric", "absence_rate"], capsys)
    assert code == 0 and "Outliers (open, confirmed): 1" in out and ABSENCE in out and KITS not in out
    code, out, _ = _run(["outlier", "list", "--warehouse", db, "--status", "explained"], capsys)
    assert code == 0 and "Outliers (explained): 0" in out and "none" in out


def test_confirm_and_dismiss_record_who_when_and_why_and_reach_the_products(db: str, capsys):
    before = datetime.now()
    code, out, _ = _run(["outlier", "dismiss", KITS[:6], "--warehouse", db, "--by", BY, "--no-publish",
                         "--note", "three kits: the pupil's siblings are counted at the other school"], capsys)
    assert code == 0 and "open → explained" in out
    assert not product_path(db, "national").exists()
    code, out, _ = _run(["outlier", "confirm", ABSENCE, "--warehouse", db, "--by", BY,
                         "--note", "asked the school to check its October register"], capsys)
    assert code == 0
    assert "1 outlier(s) confirmed, 0 already so" in out and "open → confirmed" in out
    assert "nation: national.duckdb" in out
    rows = _rows(db)
    status, by, at, note, run = rows[ABSENCE]
    assert (status, by, note) == ("confirmed", BY, "asked the school to check its October register")
    assert before <= at <= datetime.now()
    assert rows[KITS][:2] == ("explained", BY) and rows[KITS][3].startswith("three kits")
    assert {r[0] for i, r in rows.items() if i not in (ABSENCE, KITS)} == {"open"}
    assert all(r[1] is None and r[2] is None for i, r in rows.items() if i not in (ABSENCE, KITS))

    def national() -> dict[str, tuple]:
        with duckdb.connect(str(product_path(db, "national")), read_only=True) as con:
            return {_id(m, k, s): tuple(rest) for m, k, s, *rest in con.execute(
                "select month, metric, school_code, status, reviewed_by from ops.outlier").fetchall()}

    assert national()[ABSENCE] == ("confirmed", BY) and national()[KITS] == ("explained", BY)
    code, out, _ = _run(["outlier", "list", "--warehouse", db], capsys)
    assert ABSENCE in out and KITS not in out  # explained: followed up, no longer listed by default

    # the next monitoring run finds both again and keeps what the monitor decided
    assert daam(["monitor", "--warehouse", db]) == 0
    again = _rows(db)
    assert again[ABSENCE][:4] == rows[ABSENCE][:4] and again[KITS][:4] == rows[KITS][:4]
    assert again[ABSENCE][4] != run  # seen by the new run
    assert national()[ABSENCE] == ("confirmed", BY)


def test_bad_input_is_refused_with_nothing_written(db: str, capsys: pytest.CaptureFixture):
    rows = _rows(db)
    code, _, err = _run(["outlier", "confirm", ABSENCE, "0123456789", "--warehouse", db, "--by", BY], capsys)
    assert code == 2
    assert "no outlier has the id '0123456789'" in err and "nothing written" in err
    # a prefix two ids share: a third outlier whose id starts like the absence one's
    school = next(s for n in range(100000) if _id("2022-10", "absence_rate", s := f"9{n:04d}Z")[:3] == ABSENCE[:3])
    with duckdb.connect(db) as con:
        con.execute("insert into ops.outlier (school_year, month, province_code, school_code, metric, status) "
                    "values ($y, '2022-10', '110', $s, 'absence_rate', 'open')", {"y": YEAR, "s": school})
    code, _, err = _run(["outlier", "confirm", ABSENCE[:3], "--warehouse", db, "--by", BY], capsys)
    assert code == 2 and f"the id '{ABSENCE[:3]}' is the start of 2 outliers' ids" in err
    code, _, err = _run(["outlier", "dismiss", ABSENCE, "--warehouse", db, "--by", BY, "--note", "  "], capsys)
    assert code == 2 and "dismiss needs --note" in err
    code, _, err = _run(["outlier", "list", "--warehouse", db, "--status", "open,closed"], capsys)
    assert code == 2 and "--status closed is not an outlier status" in err
    for argv in (["outlier", "dismiss", ABSENCE, "--by", BY], ["outlier", "confirm", ABSENCE]):
        with pytest.raises(SystemExit) as exit_:
            daam([*argv, "--warehouse", db])
        assert exit_.value.code == 2
        assert ("--note" if "dismiss" in argv else "--by") in capsys.readouterr().err
    # a resolved outlier: the monitoring no longer finds it
    with duckdb.connect(db) as con:
        con.execute("update ops.outlier set status = 'resolved' where metric = 'kits_requested_per_eligible'")
    code, _, err = _run(["outlier", "confirm", KITS, ABSENCE, "--warehouse", db, "--by", BY], capsys)
    assert code == 2 and f"outlier {KITS} ({SCHOOL_A}, kits_requested_per_eligible, {YEAR}) is resolved" in err
    assert {i: r[:2] for i, r in _rows(db).items() if i in rows} == {
        i: ("resolved" if i == KITS else "open", None) for i in rows}
    assert not product_path(db, "national").exists()  # nothing was republished either


def test_reopen_and_an_older_warehouse(db: str, capsys: pytest.CaptureFixture):
    # a warehouse of an older daam: ops.outlier without the reviewer columns
    with duckdb.connect(db) as con:
        con.execute("alter table ops.outlier drop column reviewed_by")
        con.execute("alter table ops.outlier drop column reviewed_at")
        con.execute("delete from ops.schema_version")
    code, _, err = _run(["outlier", "list", "--warehouse", db], capsys)
    assert code == 2 and "no outlier follow-up yet: run `daam monitor`" in err
    code, out, _ = _run(["outlier", "confirm", ABSENCE, "--warehouse", db, "--by", BY, "--no-publish"], capsys)
    assert code == 0 and _rows(db)[ABSENCE][:2] == ("confirmed", BY)
    code, out, _ = _run(["outlier", "confirm", ABSENCE, "--warehouse", db, "--by", BY, "--no-publish"], capsys)
    assert code == 0 and "0 outlier(s) confirmed, 1 already so" in out
    code, out, _ = _run(["outlier", "reopen", ABSENCE, "--warehouse", db, "--by", "monitor-111", "--no-publish"],
                        capsys)
    assert code == 0 and "confirmed → open" in out
    assert _rows(db)[ABSENCE][:2] == ("open", "monitor-111")
    # the monitoring's outliers in that warehouse: one found anew is inserted with the new columns
    with Warehouse(database=db).connect(keys=False) as con:
        con.execute("delete from ops.outlier where metric = 'kits_requested_per_eligible'")
        assert detect_outliers(con, "after-upgrade")["new"] == 1
    rows = _rows(db)
    assert rows[KITS][:3] == ("open", None, None) and rows[ABSENCE][:2] == ("open", "monitor-111")


def test_a_warehouse_busy_with_a_load_is_said(db: str, capsys: pytest.CaptureFixture, monkeypatch):
    # no waiting for the load here (the command waits about 100 s for it to end)
    real = assets.resources.backoff
    monkeypatch.setattr(assets.resources, "backoff", lambda *a, **kw: real(*a, **{**kw, "max_retries": 0}))
    holder = subprocess.Popen([sys.executable, "-c", HOLD, db], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        code, _, err = _run(["outlier", "confirm", ABSENCE, "--warehouse", db, "--by", BY], capsys)
    finally:
        holder.kill()
        holder.wait()
    assert code == 2 and "is being written by another process (a load?)" in err
    assert _rows(db)[ABSENCE][0] == "open"
