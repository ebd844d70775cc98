"""The benchmark's own logic (bench/floor.py, bench/run.py): the floor reads every row of a generated
landing zone, the incremental step changes exactly one cell, the README table renders. No time is
measured or asserted here."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from bench import floor, run
from daam.demo.generator import generate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "landing"
    generate(out, scale="tiny", seed=0, years=["2022-2023"], defects=0.0, truth=False)
    return out


def _expected_rows(path: Path) -> int:
    """Non-empty rows of a file, counted another way than the floor: calamine's row iterator for a
    workbook, non-blank lines of the text for a CSV (the defect-free demo quotes no line break)."""
    if path.suffix == ".xlsx":
        wb = CalamineWorkbook.from_path(str(path))
        n = sum(1 for name in wb.sheet_names for row in wb.get_sheet_by_name(name).iter_rows()
                if any(v not in ("", None) for v in row))
        wb.close()
        return n
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        text = data.decode("utf-8-sig")
    elif data.startswith(b"\xff\xfe"):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1256")
    return sum(1 for line in text.splitlines() if line.strip(" \t,;\r\n\ufeff"))


def test_floor_reads_every_row_of_every_file(landing, tmp_path):
    import duckdb

    files = sorted(p for p in landing.rglob("*") if p.is_file() and ".daam-demo" not in p.parts)
    expected = {p.relative_to(landing).as_posix(): _expected_rows(p) for p in files}
    assert {Path(k).suffix for k in expected} == {".csv", ".xlsx"}
    db = tmp_path / "floor.duckdb"

    result = floor.measure_floor(landing, db, batch_rows=500)  # small batches: many inserts

    assert result.files == len(files) and result.unreadable == 0
    assert result.rows == sum(expected.values()) > 1000
    with duckdb.connect(str(db), read_only=True) as con:
        stored = dict(con.execute("select f.path, count(c.file_id) from files f left join cells c using (file_id) "
                                  "group by all").fetchall())
        cells, rows = con.execute("select sum(len(cells)), count(*) from cells").fetchone()
        header = con.execute("select c.cells from cells c join files f using (file_id) "
                             "where f.path like '%/attendance/%' and f.kind = 'csv' and c.row_number = 1 "
                             "limit 1").fetchone()[0]
    assert stored == expected
    assert (rows, cells) == (result.rows, result.cells)
    assert any("Massar" in h or "مسار" in h or "التلميذ" in h or "massar" in h for h in header)


def test_incremental_change_is_one_cell_in_the_same_encoding(landing, tmp_path):
    import shutil

    copy = tmp_path / "landing"
    shutil.copytree(landing, copy)
    changed = run.change_one_attendance_file(copy)
    path = copy / changed["file"]
    before, after = (landing / changed["file"]).read_bytes(), path.read_bytes()
    assert before[:3] == after[:3]  # mark kept
    old_rows, new_rows = floor.csv_rows(before), floor.csv_rows(after)
    diffs = [(r, c) for r, (a, b) in enumerate(zip(old_rows, new_rows, strict=True))
             for c, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    assert len(diffs) == 1
    r, c = diffs[0]
    assert (old_rows[r][c].strip(), new_rows[r][c].strip()) == (changed["old"], changed["new"])
    assert abs(int(changed["old"]) - int(changed["new"])) == 1


def test_a_roster_sent_again_is_the_same_pupils_in_a_new_file(landing, tmp_path):
    import shutil

    copy = tmp_path / "landing"
    shutil.copytree(landing, copy)
    resent = run.resend_one_roster_file(copy)
    assert "/students/" in resent["file"] and resent["file"].startswith(max(
        p.name for p in copy.iterdir() if p.name[:4].isdigit()))  # the latest school year
    before, after = (landing / resent["file"]).read_bytes(), (copy / resent["file"]).read_bytes()
    assert before != after and len(before) == len(after)
    old_rows, new_rows = floor.csv_rows(before), floor.csv_rows(after)
    assert sorted(old_rows) == sorted(new_rows) and old_rows[:-2] == new_rows[:-2]
    assert (new_rows[-2], new_rows[-1]) == (old_rows[-1], old_rows[-2])
    a, b = resent["lines_swapped"]
    assert b == a + 1 and before.splitlines()[a - 1] == after.splitlines()[b - 1]


def test_load_log_breakdown_counts_overlaps_once():
    t0 = datetime(2026, 1, 1, 8)
    rows = [("run1", "raw", "2022-2023|110", t0, t0 + timedelta(seconds=4)),
            ("run1", "staging", "2022-2023|110", t0 + timedelta(seconds=2), t0 + timedelta(seconds=6)),
            ("run2", "raw", "2022-2023|111", t0 + timedelta(seconds=10), t0 + timedelta(seconds=11))]
    b = run.breakdown(rows, wall=20.0)
    assert b["steps"]["raw"] == {"count": 2, "seconds": 5.0, "max_seconds": 4.0, "partitions": 2}
    assert (b["sum_of_steps_seconds"], b["union_of_steps_seconds"]) == (9.0, 7.0)
    assert (b["outside_steps_seconds"], b["outside_union_seconds"], b["runs"]) == (11.0, 13.0, 2)


def test_load_phases_split_the_wall_time_at_the_partition_steps():
    t0 = datetime(2026, 1, 1, 8)
    rows = [("scan", "landing_inventory", None, t0 + timedelta(seconds=1), t0 + timedelta(seconds=2.5)),
            ("run1", "raw", "110|2022-2023", t0 + timedelta(seconds=3), t0 + timedelta(seconds=5)),
            ("run1", "mart", "110|2022-2023", t0 + timedelta(seconds=9), t0 + timedelta(seconds=9.5)),
            ("run2", "raw", "111|2022-2023", t0 + timedelta(seconds=10), t0 + timedelta(seconds=11)),
            ("run2", "mart", "111|2022-2023", t0 + timedelta(seconds=17), t0 + timedelta(seconds=18.25)),
            ("pub", "roster_twins", None, t0 + timedelta(seconds=20), t0 + timedelta(seconds=21))]
    phases = run.load_phases(rows, started_epoch=t0.timestamp() - 0.5, wall=30.0)
    assert phases == {"before_partitions_seconds": 3.5, "partitions_seconds": 15.25, "after_partitions_seconds": 11.25}
    assert run.load_phases(rows[:1] + rows[-1:], started_epoch=t0.timestamp(), wall=5.0) is None  # nothing loaded

    result = _result("province", 30.0)
    result["steps"][0]["phases"] = phases
    result["ratio_partitions_to_floor"] = run.ratio(phases["partitions_seconds"], {"seconds": 40.0}, None)
    table = run.render_table([result, _result("region", 100.0)])
    assert table.count("s before the partitions") == 1  # the region's result has no phases
    line = next(x for x in table.splitlines() if x.startswith("Where the first load's time went"))
    assert line.endswith(": province 3.5 s before the partitions, 15.2 s of partitions (0.4× the floor), "
                         "11.2 s after them.")
    assert "Where the first load" not in run.render_table([_result("region", 100.0)])


def test_analyst_queries_come_from_the_warehouse_readme():
    queries = run.analyst_queries(ROOT / "warehouse/README.md")
    assert len(queries) >= 5
    assert all(sql.lstrip().lower().startswith(("select", "with")) for _, sql in queries)
    assert all(";" not in sql for _, sql in queries)


def _result(scale: str, load_s: float, ok: bool = True) -> dict:
    def step(name, seconds, **more):
        return {"step": name, "seconds": seconds, "ok": True, "exit_code": 0, "cpu_percent": 61.4,
                "peak_rss_mib": 1234.5, **more}

    return {
        "when": "2026-12-03T10:00:00+00:00", "scale": scale, "years": ["2021-2022", "2022-2023"],
        "machine": {"cpu": "Test CPU", "logical_cores": 2, "ram_gib": 23.5, "os": "Linux", "python": "3.11.7",
                    "duckdb": "2.0.1", "dagster": "1.13.27", "git_commit": "abcdef0123456789", "git_dirty": False},
        "landing": {"files": 12345, "bytes": 1, "rows": 4567890},
        "floor": {"seconds": 40.0},
        "ratio_load_to_floor": round(load_s / 40.0, 2),
        "steps": [
            {**step("load", load_s), "ok": ok, "exit_code": 0 if ok else 1},
            step("monitor", 30.0), step("feedback", 20.0), step("publish", 10.0),
            step("incremental load", 15.5, partitions_loaded=1, partitions_unchanged=15,
                 published_at={"engineers_copy": 6.1, "products": 11.25, "site": 15.0}),
            step("roster load", 21.0, partitions_loaded=1, partitions_unchanged=15,
                 published_at={"engineers_copy": 9.0, "products": 16.5, "site": 20.0}),
            step("rerun load", 5.0, partitions_loaded=0, partitions_unchanged=16),
        ],
        "queries": [{"query": "a", "status": "ok", "median_ms": 12.25},
                    {"query": "b", "status": "ok", "median_ms": 3.0},
                    {"query": "c", "status": "skipped", "reason": "absent"}],
    }


def test_published_at_times_what_a_load_wrote_and_only_that(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    copy = tmp_path / "w.published.duckdb"
    products = tmp_path / "published" / "province"
    products.mkdir(parents=True)
    for path in (copy, products / "101.duckdb", products / "102.duckdb"):
        path.write_bytes(b"x")
    os.utime(copy, (1_000_050.0, 1_000_050.0))
    os.utime(products / "101.duckdb", (1_000_020.0, 1_000_020.0))
    os.utime(products / "102.duckdb", (1_000_031.5, 1_000_031.5))
    assert run.published_at(warehouse, 1_000_000.0) == {"engineers_copy": 50.0, "products": 31.5, "site": None}
    assert run.published_at(warehouse, 1_000_040.0) == {"engineers_copy": 10.0, "products": None, "site": None}


def test_readme_table_from_results(tmp_path):
    table = run.render_table([_result("region", 100.0, ok=False), _result("province", 90.0)])
    lines = table.splitlines()
    assert lines[0].startswith("| scale | years | files | rows | floor s | load s | load / floor |")
    assert lines[2].startswith("| province |") and lines[3].startswith("| region |")  # scale order
    assert lines[2] == ("| province | 2021-2022, 2022-2023 | 12,345 | 4,567,890 | 40.0 | 90.0 | 2.2× | 61 | 1,234 "
                        "| 15.5 (1 loaded; products at 11.2) | 21.0 (1 loaded; products at 16.5) | 5.0 (0 loaded) "
                        "| 30.0 | 20.0 | 10.0 | 12.2 |")
    assert "| 100.0 (exit 1) |" in lines[3]
    assert "*" not in table
    bracketed = run.render_table([{**_result("region", 100.0), "floor_after": {"seconds": 32.5},
                                   "ratio_load_to_floor": run.ratio(100.0, {"seconds": 40.0}, {"seconds": 32.5})}])
    assert "| 40.0 / 32.5 | 100.0 | 2.8× |" in bracketed.splitlines()[2]
    edited = run.render_table([{**_result("region", 100.0), "code_fingerprint": {"changed": True}}])
    assert edited.splitlines()[2].startswith("| region* |") and "\\* daam's code changed" in edited
    assert lines[-1] == ("Machine for province (2026-12-03), region (2026-12-03): Test CPU, 2 logical cores, "
                         "23.5 GiB RAM, Linux; Python 3.11.7, DuckDB 2.0.1, Dagster 1.13.27; commit abcdef0123.")

    results = tmp_path / "results"
    results.mkdir()
    (results / "province.json").write_text(json.dumps(_result("province", 90.0)), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nText.\n", encoding="utf-8")
    run.update_readme(readme, results)
    first = readme.read_text(encoding="utf-8")
    assert first.startswith("# Title\n\nText.\n\n## Benchmarks\n")
    assert first.count(run.START) == 1 and "| province |" in first
    (results / "nation.json").write_text(json.dumps(_result("nation", 900.0)), encoding="utf-8")
    run.update_readme(readme, results)
    second = readme.read_text(encoding="utf-8")
    assert second.count("## Benchmarks") == 1 and second.count(run.END) == 1
    assert second.index("| province |") < second.index("| nation |")


def test_the_ratio_is_to_the_mean_of_the_floors_around_the_load():
    assert run.floor_seconds({"seconds": 40.0}, {"seconds": 30.0}) == 35.0
    assert run.floor_seconds({"seconds": 40.0}, None) == 40.0
    assert run.floor_seconds(None, None) is None
    assert run.ratio(105.0, {"seconds": 40.0}, {"seconds": 30.0}) == 3.0
    assert run.ratio(105.0, {"seconds": 40.0}, None) == 2.62
    assert run.ratio(105.0, {"seconds": None}, None) is None


def test_warming_the_cache_reads_every_landing_file_whole(tmp_path):
    sizes = {"a.csv": 10, "2022-2023/attendance/2022-10/1.csv": 5000, "reference/schools/x.csv": 0,
             ".hidden/y.xlsx": 9 << 20}  # one larger than a read, one empty
    for name, size in sizes.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * size)
    warmed = run.warm_cache(tmp_path, chunk=4096)
    assert warmed["files"] == len(sizes) and warmed["bytes"] == sum(sizes.values())
    assert warmed["seconds"] >= 0


def test_the_incremental_column_is_the_median_run_with_the_range():
    def incremental(name, seconds, products):
        return {"step": name, "seconds": seconds, "ok": True, "exit_code": 0, "partitions_loaded": 1,
                "partitions_unchanged": 15, "published_at": {"products": products}}

    runs = [incremental("incremental load", 40.4, 32.5), incremental("incremental load 2", 24.0, 21.5),
            incremental("incremental load 3", 29.0, 22.0)]
    result = {**_result("nation", 900.0), "steps": [s for s in _result("nation", 900.0)["steps"]
                                                    if s["step"] != "incremental load"] + runs}
    assert [s["step"] for s in run.incremental_steps(result["steps"])] == [s["step"] for s in runs]
    row = run.render_table([result]).splitlines()[2]
    assert "| 29.0 (1 loaded; products at 22.0), median of 3: 24.0–40.4 |" in row
    summary = run.incremental_summary(run.incremental_steps(result["steps"]))
    assert summary == {"runs": 3, "seconds": [40.4, 24.0, 29.0], "products_at": [32.5, 21.5, 22.0],
                       "median_step": "incremental load 3", "median_seconds": 29.0, "median_products_at": 22.0}
    # an even number of runs: the lower middle one, a run's own numbers
    assert run.median_step(runs[:2])["step"] == "incremental load 2"
    assert run.incremental_summary([]) is None and run.median_step([]) is None
    # one run: its numbers alone, as before
    assert "| 15.5 (1 loaded; products at 11.2) |" in run.render_table([_result("province", 90.0)]).splitlines()[2]
