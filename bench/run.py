"""The national-scale benchmark: the raw-read floor of a landing zone, then every daam step on it.

    .venv/bin/python bench/run.py --scale province|region|nation [--years Y,Y] [--landing PATH] [--no-floor-after]
    make bench SCALE=region

1. Generates the landing zone (`daam generate --defects 0.01 --no-truth`) into
   bench/out/<scale>/landing, unless `--landing` names one to reuse (as it is: nation-scale
   generation takes long; its one changed attendance file, step 4, stays changed).
2. Reads every landing file once (untimed: the floor and the load then both read from the page
   cache), then measures the raw-read floor of those files (bench/floor.py, in its own process).
3. Runs each daam step in its own process, into a new warehouse bench/out/<scale>/warehouse.duckdb:
   load, then the floor again (`--floor-after`, by default but at nation scale: the ratio is to
   the two floors' mean), monitor, feedback, publish; then incremental loads (`--incremental-runs`,
   3 by default: each after one attendance file of one school and month is changed in place, one
   absence-days cell; the table shows their median), a load after one roster is sent again (its
   last two pupils' lines swapped) and a rerun with nothing new. For each: wall
   seconds, CPU % of all cores (user + system seconds of the process tree / wall / cores), peak
   RSS of the process tree (the child and all its descendants, summed, sampled
   every 0.2 s), exit code and the tail of its output. A failing step is recorded, and the run goes on.
4. Reads the per-step times of each load from the warehouse's ops.load_log.
5. Times each analyst query of warehouse/README.md ("Example queries") on the national product,
   5 runs each, median milliseconds, read-only.
6. Writes bench/results/<scale>.json and rewrites the table between `<!-- bench:start -->` and
   `<!-- bench:end -->` in README.md from every bench/results/*.json.

Nothing here asserts a time: the numbers are for reading (bench/README.md says what each means).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

try:  # run as a script (bench/ is sys.path[0]) or imported as bench.run (the tests)
    from bench import floor as floor_module
except ImportError:  # pragma: no cover
    import floor as floor_module  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
SCALES = ("tiny", "province", "region", "nation")
DEFAULT_YEARS = {"nation": "2022-2023"}  # the others: two school years
TWO_YEARS = "2021-2022,2022-2023"
SAMPLE_SECONDS = 0.2
TAIL_LINES = 15
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def now() -> str:
    return datetime.now().strftime("%H:%M:%S")


def say(line: str) -> None:
    print(f"[{now()}] {line}", flush=True)


# --- one step, in its own process tree --------------------------------------------------------


class _Tree:
    """Samples the child's process tree: summed RSS now, CPU seconds last seen per process."""

    def __init__(self, pid: int):
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(pid)
        self.known: dict[int, psutil.Process] = {}
        self.cpu: dict[tuple[int, float], float] = {}
        self.peak_rss = 0
        self.max_processes = 0

    def sample(self) -> None:
        ps = self.psutil
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except (ps.NoSuchProcess, ps.ZombieProcess):
            return
        rss = 0
        for proc in procs:
            proc = self.known.setdefault(proc.pid, proc)
            try:
                rss += proc.memory_info().rss
                times = proc.cpu_times()
                self.cpu[(proc.pid, proc.create_time())] = times.user + times.system
            except (ps.NoSuchProcess, ps.ZombieProcess, ps.AccessDenied):
                continue
        self.peak_rss = max(self.peak_rss, rss)
        self.max_processes = max(self.max_processes, len(procs))


def _tail(path: Path, n: int = TAIL_LINES) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    return [ln.rstrip()[:300] for ln in lines if ln.strip()][-n:]


def run_step(name: str, argv: list[str], logs: Path, env: dict[str, str]) -> dict:
    """Run `argv` as a child (cwd: the repository), sampling its process tree until it ends."""
    logs.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    out_path, err_path = logs / f"{slug}.out", logs / f"{slug}.err"
    say(f"start {name}: {' '.join(str(a) for a in argv)}")
    cores = os.cpu_count() or 1
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started, started_epoch = time.monotonic(), time.time()
        proc = subprocess.Popen([str(a) for a in argv], cwd=ROOT, env=env, stdout=out, stderr=err)
        tree = _Tree(proc.pid)
        ended: dict = {}

        def reap() -> None:  # wait4: the exit status and the CPU of the child and its reaped descendants
            _, status, usage = os.wait4(proc.pid, 0)
            ended.update(at=time.monotonic(), status=status, usage=usage)

        waiter = threading.Thread(target=reap, daemon=True)
        waiter.start()
        while waiter.is_alive():
            tree.sample()
            waiter.join(SAMPLE_SECONDS)
    proc.returncode = code = os.waitstatus_to_exitcode(ended["status"])
    wall = ended["at"] - started
    usage = ended["usage"]
    cpu_seconds = max(usage.ru_utime + usage.ru_stime, sum(tree.cpu.values()))
    result = {
        "step": name,
        "argv": [str(Path(a).relative_to(ROOT)) if str(a).startswith(str(ROOT)) else str(a) for a in argv],
        "exit_code": code,
        "ok": code == 0,
        "seconds": round(wall, 2),
        "started_epoch": round(started_epoch, 3),
        "cpu_seconds": round(cpu_seconds, 2),
        "cpu_percent": round(100 * cpu_seconds / wall / cores, 1) if wall > 0 else None,
        "peak_rss_mib": round(tree.peak_rss / 2**20, 1),
        "max_single_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "max_processes": tree.max_processes,
        "output_tail": _tail(out_path),
        "stderr_tail": _tail(err_path),
        "log": str(out_path.relative_to(ROOT)) if out_path.is_relative_to(ROOT) else str(out_path),
    }
    flag = "ok" if code == 0 else f"FAILED (exit {code}; see {err_path})"
    say(f"end   {name}: {flag}, {wall:.1f} s, CPU {result['cpu_percent']} % of {cores} cores, "
        f"peak RSS {result['peak_rss_mib']:,.0f} MiB")
    return result


def load_counts(step: dict) -> dict:
    """Partitions loaded and skipped, from `daam load`'s own line (the first of its output)."""
    path = ROOT / step["log"]
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []
    for line in lines:
        m = re.search(r"loaded (\d+) partition\(s\).* in ([\d.]+) s(?:; (\d+) unchanged)?", line)
        if m:
            return {"partitions_loaded": int(m[1]), "partitions_unchanged": int(m[3] or 0),
                    "seconds_reported": float(m[2])}
    return {}


# --- the warehouse's own log ------------------------------------------------------------------


def load_log_rows(warehouse: Path) -> list[tuple]:
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute("select load_id, step, partition_key, started_at, finished_at from ops.load_log "
                               "order by started_at").fetchall()
    except duckdb.Error:
        return []


def breakdown(rows: list[tuple], wall: float) -> dict:
    """Seconds per step name; the time of the step's process outside them (wall − their sum, and
    wall − the union of their intervals, which differs when steps overlap)."""
    steps: dict[str, dict] = {}
    spans = []
    for _, step, partition, started, finished in rows:
        seconds = (finished - started).total_seconds()
        s = steps.setdefault(step, {"count": 0, "seconds": 0.0, "max_seconds": 0.0, "partitions": set()})
        s["count"] += 1
        s["seconds"] += seconds
        s["max_seconds"] = max(s["max_seconds"], seconds)
        if partition:
            s["partitions"].add(partition)
        spans.append((started, finished))
    union = 0.0
    end = None
    for a, b in sorted(spans):
        if end is None or a > end:
            union += (b - a).total_seconds()
            end = b
        elif b > end:
            union += (b - end).total_seconds()
            end = b
    total = sum(s["seconds"] for s in steps.values())
    return {
        "steps": {k: {"count": v["count"], "seconds": round(v["seconds"], 2), "max_seconds": round(v["max_seconds"], 2),
                      "partitions": len(v["partitions"])}
                  for k, v in sorted(steps.items(), key=lambda kv: -kv[1]["seconds"])},
        "runs": len({r[0] for r in rows}),
        "sum_of_steps_seconds": round(total, 2),
        "union_of_steps_seconds": round(union, 2),
        "outside_steps_seconds": round(wall - total, 2),
        "outside_union_seconds": round(wall - union, 2),
    }


def load_phases(rows: list[tuple], started_epoch: float, wall: float) -> dict | None:
    """Where a load's wall time went, from its own `ops.load_log` rows: before its first partition
    step (Python's start, the imports, the landing scan), the partitions (the first partition
    step's start to the last one's end: raw, staging, core, the checks, the mart, and Dagster
    between them), and after them (the held connection's close and checkpoint, then the publishing:
    roster twins, approval drift, the engineers' copy, the level products, the reports site).
    None when the load loaded no partition."""
    spans = [(started, finished) for _, _, partition, started, finished in rows if partition]
    if not spans:
        return None
    first = min(s for s, _ in spans).timestamp() - started_epoch
    last = max(f for _, f in spans).timestamp() - started_epoch
    return {"before_partitions_seconds": round(first, 2), "partitions_seconds": round(last - first, 2),
            "after_partitions_seconds": round(wall - last, 2)}


# --- the incremental case ---------------------------------------------------------------------

_UNJUSTIFIED = ("non justifi", "غير المبرر")


def _fold(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold().strip()


def _absence_column(header: list[str]) -> int | None:
    folded = [_fold(h) for h in header]
    for i, h in enumerate(folded):
        if any(key in h for key in _UNJUSTIFIED):
            return i
    for i, h in enumerate(folded):
        if "absence" in h or "الغياب" in h:
            return i
    return None


def _encoding_of(data: bytes) -> tuple[str, bytes]:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8", b"\xef\xbb\xbf"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ("utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"), data[:2]
    try:
        data.decode("utf-8")
        return "utf-8", b""
    except UnicodeDecodeError:
        return "cp1256", b""


def _change_csv(path: Path) -> dict | None:
    """Change one unjustified-absence cell of a data line in place (+1 on 0, else −1), keeping the
    file's encoding, mark, delimiter and line ends. None when the file has no such plain cell."""
    data = path.read_bytes()
    encoding, mark = _encoding_of(data)
    text = data[len(mark):].decode(encoding)
    lines = text.splitlines(keepends=True)
    delimiter = floor_module.delimiter_of(text)
    column = None
    for n, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if '"' in body or not body.strip():
            continue
        cells = body.split(delimiter)
        if column is None:
            column = _absence_column(cells)
            continue
        if column < len(cells) and cells[column].strip().isascii() and cells[column].strip().isdigit():
            old = cells[column].strip()
            new = str(int(old) + 1 if int(old) == 0 else int(old) - 1)
            cells[column] = cells[column].replace(old, new)
            lines[n] = delimiter.join(cells) + line[len(body):]
            path.write_bytes(mark + "".join(lines).encode(encoding))
            return {"line": n + 1, "column": column + 1, "old": old, "new": new}
    return None


def _change_xlsx(path: Path) -> dict | None:
    """Rewrite the workbook with xlsxwriter (cells as text), one unjustified-absence cell changed."""
    import python_calamine
    import xlsxwriter

    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    sheets = [(name, wb.get_sheet_by_name(name).to_python(skip_empty_area=False)) for name in wb.sheet_names]
    wb.close()
    change = None
    for _, grid in sheets:
        column = None
        for r, row in enumerate(grid):
            texts = [floor_module.cell_text(v) for v in row]
            if column is None:
                column = _absence_column(texts) if any(texts) else None
                continue
            if change is None and column < len(texts) and texts[column].isascii() and texts[column].isdigit():
                old = int(texts[column])
                row[column] = old + 1 if old == 0 else old - 1
                change = {"row": r + 1, "column": column + 1, "old": str(old), "new": str(row[column])}
        if change:
            break
    if change is None:
        return None
    out = xlsxwriter.Workbook(str(path))
    for name, grid in sheets:
        ws = out.add_worksheet(name)
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if v not in ("", None):
                    ws.write(r, c, v if isinstance(v, int | float) else floor_module.cell_text(v))
    out.close()
    return change


def change_one_attendance_file(landing: Path) -> dict:
    """One attendance file of one school and month of the latest school year: a CSV if there is
    one (changed in place), else an XLSX (rewritten)."""
    years = sorted(p for p in landing.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}-\d{4}", p.name))
    for year in reversed(years):
        months = sorted((year / "attendance").glob("????-??"), reverse=True)
        for suffix, change in ((".csv", _change_csv), (".xlsx", _change_xlsx)):
            for month in months:
                for path in sorted(month.iterdir()):
                    if path.suffix.lower() != suffix or path.name.startswith((".", "~$")):
                        continue
                    try:
                        done = change(path)
                    except Exception:  # noqa: BLE001, S112 - a deliberately broken file of the demo: try the next one
                        continue
                    if done:
                        return {"file": str(path.relative_to(landing)), **done}
    raise RuntimeError(f"no attendance file with an absence-days cell to change under {landing}")


def resend_one_roster_file(landing: Path) -> dict:
    """One roster (CSV) of the latest school year sent again with its last two pupils' lines in the
    other order: the same pupils, a new version of the file (new content), as a school that
    exported its roster again. A file with quoted cells (a line may hold a line end) is passed."""
    years = sorted(p for p in landing.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}-\d{4}", p.name))
    for year in reversed(years):
        for path in sorted((year / "students").glob("*.csv")):
            data = path.read_bytes()
            lines = data.splitlines(keepends=True)
            filled = [n for n, line in enumerate(lines) if line.strip()]
            if b'"' in data or len(filled) < 3:
                continue
            a, b = filled[-2], filled[-1]
            first, second = lines[a].rstrip(b"\r\n"), lines[b].rstrip(b"\r\n")
            if first == second:
                continue
            lines[a], lines[b] = second + lines[a][len(first):], first + lines[b][len(second):]
            path.write_bytes(b"".join(lines))
            return {"file": str(path.relative_to(landing)), "lines_swapped": [a + 1, b + 1]}
    raise RuntimeError(f"no roster CSV of at least two pupils to send again under {landing}")


# --- analyst queries --------------------------------------------------------------------------


def analyst_queries(readme: Path) -> list[tuple[str, str]]:
    """(name, SQL) of each query of the "Example queries" section of warehouse/README.md."""
    text = readme.read_text(encoding="utf-8")
    m = re.search(r"^## Example queries\n(.*?)(?=^## |\Z)", text, re.DOTALL | re.MULTILINE)
    if not m:
        return []
    out = []
    for block in re.findall(r"```sql\n(.*?)```", m[1], re.DOTALL):
        for statement in re.split(r";\s*$", block, flags=re.MULTILINE):
            lines = statement.strip().splitlines()
            comments = [ln.lstrip("- ").strip() for ln in lines if ln.startswith("--")]
            sql = "\n".join(ln for ln in lines if not ln.startswith("--")).strip()
            if sql:
                out.append((comments[0] if comments else sql.splitlines()[0], sql))
    return out


def time_queries(products: list[tuple[str, Path]], queries: list[tuple[str, str]], runs: int = 5) -> list[dict]:
    """Each query on the first product (level, file) that holds its tables: the national product
    first, then a directorate's (the queries on quarantined rows and history are a directorate
    analyst's, and only the directorate's product holds those tables)."""
    import duckdb

    present = [(label, path) for label, path in products if path.exists()]
    if not present:
        return [{"query": name, "status": "skipped", "reason": "no product found"} for name, _ in queries]
    cons = [(label, duckdb.connect(str(path), read_only=True)) for label, path in present]
    results = []
    try:
        for name, sql in queries:
            missing = []
            for label, con in cons:
                times, rows = [], None
                try:
                    for _ in range(runs):
                        t = time.perf_counter()
                        rows = len(con.execute(sql).fetchall())
                        times.append((time.perf_counter() - t) * 1000)
                except duckdb.CatalogException as exc:
                    missing.append(f"{label}: {str(exc).splitlines()[0]}")
                    continue
                except duckdb.Error as exc:
                    results.append({"query": name, "product": label, "status": "error",
                                    "reason": str(exc).splitlines()[0]})
                    break
                results.append({"query": name, "product": label, "status": "ok", "rows": rows, "runs": runs,
                                "median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)})
                break
            else:
                results.append({"query": name, "status": "skipped", "reason": "; ".join(missing)})
    finally:
        for _, con in cons:
            con.close()
    return results


# --- the machine ------------------------------------------------------------------------------


def machine() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    cpu = ram = None
    try:
        cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name")), None)
        kib = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                   if ln.startswith("MemTotal"))
        ram = round(kib / 2**20, 1)
    except (OSError, StopIteration):
        pass
    # read-only git: no index refresh (GIT_OPTIONAL_LOCKS=0), nothing written
    git_env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], check=False, cwd=ROOT, env=git_env, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    # what an earlier scale of the same session wrote (its results, the README's table of them) is
    # not a change to what is measured
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench/results",
                 ":(exclude)README.md")
    return {
        "cpu": cpu, "logical_cores": os.cpu_count(), "ram_gib": ram, "os": platform.platform(),
        "python": platform.python_version(), "duckdb": pkg("duckdb"), "dagster": pkg("dagster"),
        "git_commit": commit, "git_dirty": bool(status) if status is not None else None,
    }


# --- README table -----------------------------------------------------------------------------


def published_at(warehouse: Path, started_epoch: float) -> dict[str, float | None]:
    """Seconds from a load's start until each published output was last written (None: not during
    that load): the engineers' copy, the level products (a kept product is touched when found
    current) and the reports site, which the load draws last."""
    from warehouse.products import products_dir
    from warehouse.publish import published_path
    from warehouse.site.build import default_out

    def after(paths: list[Path]) -> float | None:
        times = [p.stat().st_mtime for p in paths if p.exists()]
        latest = max(times, default=0.0)
        return round(latest - started_epoch, 1) if latest > started_epoch else None

    return {"engineers_copy": after([published_path(warehouse)]),
            "products": after(list(products_dir(warehouse).rglob("*.duckdb"))),
            "site": after([default_out(warehouse) / "index.html"])}


def _step(result: dict, name: str) -> dict | None:
    return next((s for s in result.get("steps", []) if s["step"] == name), None)


INCREMENTAL = "incremental load"
# one roster sent again: its directorate-year alone reloads (the roster-twins step carries the rest)
ROSTER = "roster load"


def incremental_steps(steps: list[dict]) -> list[dict]:
    """The incremental loads among a run's steps, in order: "incremental load", "incremental load 2", …"""
    return [s for s in steps if re.fullmatch(rf"{INCREMENTAL}( \d+)?", s["step"])]


def median_step(steps: list[dict]) -> dict | None:
    """The step of the median wall time (of an even number, the lower of the two middle ones): one
    run's own numbers, not a mix of several."""
    ordered = sorted(steps, key=lambda s: s["seconds"])
    return ordered[(len(ordered) - 1) // 2] if ordered else None


def incremental_summary(steps: list[dict]) -> dict | None:
    """Each incremental load's wall time and time to the products, and the median run's. One run
    alone says little: the machine's speed drifts from one run to the next (bench/README.md)."""
    middle = median_step(steps)
    if middle is None:
        return None
    return {"runs": len(steps), "seconds": [s["seconds"] for s in steps],
            "products_at": [(s.get("published_at") or {}).get("products") for s in steps],
            "median_step": middle["step"], "median_seconds": middle["seconds"],
            "median_products_at": (middle.get("published_at") or {}).get("products")}


def _incremental(result: dict) -> str:
    """The incremental column: the median run (`_secs`), and the range over the runs when there were several."""
    steps = incremental_steps(result.get("steps", []))
    text = _secs(median_step(steps), partitions=True)
    if len(steps) > 1:
        seconds = [s["seconds"] for s in steps]
        text += f", median of {len(steps)}: {min(seconds):,.1f}–{max(seconds):,.1f}"
    return text


def _secs(step: dict | None, partitions: bool = False) -> str:
    if not step:
        return "–"
    text = f"{step['seconds']:,.1f}"
    if partitions and "partitions_loaded" in step:
        products = (step.get("published_at") or {}).get("products")
        text += f" ({step['partitions_loaded']} loaded" + (f"; products at {products:,.1f})" if products else ")")
    return text if step.get("ok", True) else f"{text} (exit {step['exit_code']})"


def _phases_line(r: dict) -> str:
    p = _step(r, "load")["phases"]
    share = r.get("ratio_partitions_to_floor")
    return (f"{r['scale']} {p['before_partitions_seconds']:,.1f} s before the partitions, "
            f"{p['partitions_seconds']:,.1f} s of partitions" + (f" ({share:.1f}× the floor)" if share else "")
            + f", {p['after_partitions_seconds']:,.1f} s after them")


def _machine_line(m: dict) -> str:
    commit = (m.get("git_commit") or "?")[:10] + (" + local changes" if m.get("git_dirty") else "")
    return (f"{m.get('cpu') or 'unknown CPU'}, {m.get('logical_cores')} logical cores, {m.get('ram_gib')} GiB RAM, "
            f"{m.get('os')}; Python {m.get('python')}, DuckDB {m.get('duckdb')}, Dagster {m.get('dagster')}; "
            f"commit {commit}")


def warm_cache(landing: Path, chunk: int = 8 << 20) -> dict:
    """Read every file under `landing` once, untimed as a step, so that the floor and the load both
    read it from the page cache. A landing zone reused from an earlier run (`--landing`) is
    otherwise cold for the floor, which runs first and waits on the disk, and warm for the load
    after it: the nation's floor once ran at 41 % CPU, and a load on a cold landing zone spent
    98 s instead of 16 s in its scan alone."""
    started, files, size = time.perf_counter(), 0, 0
    buffer = bytearray(chunk)
    for folder, _, names in os.walk(landing):
        for name in names:
            with open(os.path.join(folder, name), "rb", buffering=0) as fh:
                while n := fh.readinto(buffer):
                    size += n
            files += 1
    return {"files": files, "bytes": size, "seconds": round(time.perf_counter() - started, 2)}


def floor_seconds(floor: dict | None, floor_after: dict | None) -> float | None:
    """The floor a load is compared with: the mean of the floors measured before and after it (the
    one before alone when the bench did not measure it again)."""
    measured = [f["seconds"] for f in (floor, floor_after) if f and f.get("seconds")]
    return sum(measured) / len(measured) if measured else None


def ratio(load_seconds: float, floor: dict | None, floor_after: dict | None) -> float | None:
    seconds = floor_seconds(floor, floor_after)
    return round(load_seconds / seconds, 2) if seconds else None


def _floors(r: dict) -> str:
    """The floor column: the floor, or "before / after" when it was measured on both sides of the load."""
    after = r.get("floor_after")
    before = f"{r['floor']['seconds']:,.1f}"
    return f"{before} / {after['seconds']:,.1f}" if after and after.get("seconds") else before


def render_table(results: list[dict]) -> str:
    """The Markdown table of the top-level README: one row per scale, then the machine(s)."""
    order = {s: i for i, s in enumerate(SCALES)}
    results = sorted(results, key=lambda r: (order.get(r["scale"], len(order)), r["scale"]))
    head = ("| scale | years | files | rows | floor s | load s | load / floor | CPU % | peak RSS MiB | "
            "incremental s | roster s | rerun s | monitor s | feedback s | products s | slowest query ms |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in results:
        load = _step(r, "load")
        queries = [q for q in r.get("queries", []) if q.get("status") == "ok"]
        slowest = max(queries, key=lambda q: q["median_ms"]) if queries else None
        ratio = r.get("ratio_load_to_floor")
        lines.append("| " + " | ".join([
            r["scale"] + ("*" if r.get("code_fingerprint", {}).get("changed") else ""),
            ", ".join(r.get("years", [])),
            f"{r['landing']['files']:,}",
            f"{r['landing']['rows']:,}",
            _floors(r),
            _secs(load),
            f"{ratio:.1f}×" if ratio is not None else "–",
            f"{load['cpu_percent']:.0f}" if load and load.get("cpu_percent") is not None else "–",
            f"{load['peak_rss_mib']:,.0f}" if load else "–",
            _incremental(r),
            _secs(_step(r, ROSTER), partitions=True),
            _secs(_step(r, "rerun load"), partitions=True),
            _secs(_step(r, "monitor")),
            _secs(_step(r, "feedback")),
            _secs(_step(r, "publish")),
            f"{slowest['median_ms']:,.1f}" if slowest else "–",
        ]) + " |")
    phases = [_phases_line(r) for r in results if (_step(r, "load") or {}).get("phases")]
    if phases:
        lines += ["", "Where the first load's time went (`ops.load_log`; the partitions / floor ratio leaves out the "
                  "start, the close and the publishing): " + "; ".join(phases) + "."]
    machines: dict[str, list[str]] = {}
    for r in results:
        machines.setdefault(_machine_line(r.get("machine", {})), []).append(f"{r['scale']} ({r['when'][:10]})")
    lines.append("")
    if any(r.get("code_fingerprint", {}).get("changed") for r in results):
        lines.append("\\* daam's code changed while this scale ran (the tree was being edited): its numbers may mix "
                     "two versions, and a load after the change reloaded every partition.\n")
    for line, scales in machines.items():
        lines.append(f"Machine for {', '.join(scales)}: {line}.")
    return "\n".join(lines)


SECTION = """
## Benchmarks

`make bench SCALE=province|region|nation` (bench/README.md says what each number means; nothing
asserts a time). CPU % is of all cores; peak RSS sums the load's processes; load / floor compares
`daam load` with reading the same files into DuckDB as text in one process (bench/floor.py), both
from the page cache (the bench reads the landing zone once first), the floor measured before the
load and, but at nation scale, again right after it ("before / after"; the ratio is to their mean:
the machine's speed drifts).

{start}
{end}
"""


def update_readme(readme: Path, results_dir: Path) -> None:
    """Rewrite the table between the markers from every results JSON (the markers and a short
    Benchmarks section are appended to the README when missing)."""
    results = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(results_dir.glob("*.json"))]
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        text = text.rstrip("\n") + "\n" + SECTION.format(start=START, end=END)
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    readme.write_text(f"{before}{START}\n{render_table(results)}\n{END}{after}", encoding="utf-8")


# --- the run ----------------------------------------------------------------------------------


def code_fingerprint() -> str | None:
    """daam's own hash of configs/ and the code (warehouse/fingerprint.py), computed afresh: a load
    skips a partition only when it and its inputs are unchanged, so a tree edited during the run
    turns the incremental load and the rerun into full reloads."""
    try:
        from warehouse.fingerprint import code_fingerprint as fingerprint
    except ImportError:
        return None
    return getattr(fingerprint, "__wrapped__", fingerprint)()


def child_env(out: Path) -> dict[str, str]:
    """The daam children's environment: the caller's, with the bench's own secret (unless
    DAAM_SECRET_FILE is set), Data Docs and alerts under bench/out, an ephemeral Dagster instance."""
    from daam.secret import SECRET_ENV, ensure_secret

    env = dict(os.environ)
    if not env.get(SECRET_ENV):
        env[SECRET_ENV] = str(ensure_secret(out / "daam.secret")[0].resolve())
    env["DAAM_GX_ROOT"] = str(out / "gx")
    env["DAAM_ALERT_LOG"] = str(out / "alerts.log")
    env["DAAM_ALERT_WEBHOOK"] = ""
    env["GX_ANALYTICS_ENABLED"] = "False"
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    for name in ("DAGSTER_HOME", "DAAM_LANDING", "DAAM_WAREHOUSE"):
        env.pop(name, None)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", required=True, choices=SCALES)
    parser.add_argument("--years", help="school years to generate (default: two; nation: 2022-2023)")
    parser.add_argument("--landing", help="reuse this landing zone instead of generating one (one attendance "
                        "file in it is changed in place by the incremental step)")
    parser.add_argument("--out", default=str(ROOT / "bench/out"), help="work folder (git-ignored)")
    parser.add_argument("--results", default=str(ROOT / "bench/results"), help="folder of <scale>.json")
    parser.add_argument("--readme", default=str(ROOT / "README.md"), help="README whose table is rewritten")
    parser.add_argument("--query-runs", type=int, default=5)
    parser.add_argument("--incremental-runs", type=int, default=3,
                        help="incremental loads, each after one more attendance cell changed (default 3; the "
                             "README shows their median)")
    parser.add_argument("--floor-after", action=argparse.BooleanOptionalAction, default=None,
                        help="measure the floor again right after the load (default: yes, but not at nation "
                             "scale, where it takes about 8 minutes)")
    args = parser.parse_args(argv)
    if args.floor_after is None:
        args.floor_after = args.scale != "nation"

    years = args.years or DEFAULT_YEARS.get(args.scale, TWO_YEARS)
    out = Path(args.out).resolve() / args.scale
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    env = child_env(out)
    python, daam = sys.executable, str(Path(sys.executable).with_name("daam"))
    when = datetime.now(UTC).isoformat(timespec="seconds")
    code_at_start = code_fingerprint()
    say(f"bench {args.scale}, years {years}, work folder {out}")
    steps: list[dict] = []

    if args.landing:
        landing = Path(args.landing).resolve()
        if not landing.is_dir():
            print(f"bench: {landing} is not a folder", file=sys.stderr)
            return 2
        generated = False
    else:
        landing = out / "landing"
        shutil.rmtree(landing, ignore_errors=True)
        gen = run_step("generate", [daam, "generate", "--out", landing, "--scale", args.scale, "--years", years,
                                    "--defects", "0.01", "--no-truth"], logs, env)
        steps.append(gen)
        if not gen["ok"]:
            print("bench: the landing zone could not be generated; see the output above", file=sys.stderr)
            return 1
        generated = True

    def measure_floor(name: str) -> tuple[dict | None, dict]:
        """bench/floor.py on the landing zone, in its own process: its JSON and its process step."""
        floor_json = out / f"{name.replace(' ', '_')}.json"
        floor_json.unlink(missing_ok=True)
        step = run_step(name, [python, ROOT / "bench/floor.py", landing, "--db", out / "floor.duckdb",
                               "--json", floor_json], logs, env)
        found = json.loads(floor_json.read_text(encoding="utf-8")) if floor_json.exists() else None
        step.pop("output_tail")  # its JSON is recorded whole in the results
        if found:
            say(f"{name}: {found['files']:,} files, {found['rows']:,} rows, {found['seconds']:.1f} s")
        (out / "floor.duckdb").unlink(missing_ok=True)
        return found, step

    warmed = warm_cache(landing)
    say(f"landing zone read once into the page cache: {warmed['files']:,} files, "
        f"{warmed['bytes'] / 2**20:,.0f} MiB, {warmed['seconds']:.1f} s")
    floor, floor_step = measure_floor("floor")

    warehouse = out / "warehouse.duckdb"
    from warehouse.products import product_path, products_dir, solved_components_path
    from warehouse.publish import published_path
    from warehouse.site.build import default_out

    # From nothing: what a previous run left beside the warehouse would be reused (the audit's
    # solutions, pages whose products did not change) and the load would not be measured whole.
    for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal"), solved_components_path(warehouse),
                  published_path(warehouse)):
        stale.unlink(missing_ok=True)
    shutil.rmtree(products_dir(warehouse), ignore_errors=True)
    shutil.rmtree(default_out(warehouse), ignore_errors=True)
    shutil.rmtree(out / "feedback", ignore_errors=True)
    shutil.rmtree(out / "gx", ignore_errors=True)

    load_args = [daam, "load", "--landing", landing, "--warehouse", warehouse]
    seen: set[str] = set()
    logged: dict[str, dict] = {}

    def log_of(step: dict) -> list[tuple]:
        rows = load_log_rows(warehouse)
        new = [r for r in rows if r[0] not in seen]
        seen.update(r[0] for r in rows)
        logged[step["step"]] = breakdown(new, step["seconds"])
        return new

    fingerprints: list[str | None] = [code_at_start]

    def timed_load(name: str, **more) -> dict:
        """A `daam load`, with the partitions it loaded and whether the code changed since the last one."""
        fingerprints.append(code_fingerprint())
        step = run_step(name, load_args, logs, env)
        step.update(load_counts(step), **more)
        step["published_at"] = published_at(warehouse, step["started_epoch"])
        step["code_changed_before"] = fingerprints[-1] != fingerprints[-2]
        if step["code_changed_before"]:
            say(f"WARNING: daam's code fingerprint changed before the {name} (the tree is being edited): "
                "every partition loads again for that reason alone")
        steps.append(step)
        step["phases"] = load_phases(log_of(step), step["started_epoch"], step["seconds"])
        return step

    load = timed_load("load")
    # The machine's speed drifts (a VM's disk and CPU): the floor measured again right after the
    # load brackets it, and the ratio is taken against the two floors' mean (floor_seconds).
    floor_after, floor_after_step = measure_floor("floor after") if args.floor_after else (None, None)
    for name, command in (("monitor", [daam, "monitor", "--warehouse", warehouse]),
                          ("feedback", [daam, "feedback", "--warehouse", warehouse, "--out", out / "feedback"]),
                          ("publish", [daam, "publish", "--warehouse", warehouse])):
        step = run_step(name, command, logs, env)
        steps.append(step)
        log_of(step)

    national = product_path(warehouse, "national")
    directorates = sorted(national.parent.glob("province/*.duckdb"), key=lambda f: f.stat().st_size)
    products = [("national", national)] + ([(f"province {directorates[-1].stem}", directorates[-1])]
                                           if directorates else [])
    queries = analyst_queries(ROOT / "warehouse/README.md")
    say(f"start queries: {len(queries)} analyst queries on {', '.join(label for label, _ in products)}, "
        f"{args.query_runs} runs each")
    timed = time_queries(products, queries, args.query_runs)
    ok = [q for q in timed if q["status"] == "ok"]
    say(f"end   queries: {len(ok)} timed, {len(timed) - len(ok)} skipped or failed"
        + (f", slowest median {max(q['median_ms'] for q in ok):.1f} ms" if ok else ""))

    def change_landing(label: str, change) -> dict:
        """One change to the landing zone, said and recorded; its error too, as a failing step's is."""
        say(f"start {label}")
        try:
            done = change(landing)
            say(f"end   {label}: {done}")
        except Exception as exc:  # noqa: BLE001 - recorded, as a failing step is
            done = {"error": f"{type(exc).__name__}: {exc}"}
            say(f"end   {label}: FAILED {done['error']}")
        return done

    for run_number in range(1, max(args.incremental_runs, 1) + 1):
        changed = change_landing("change one attendance file", change_one_attendance_file)
        timed_load(INCREMENTAL if run_number == 1 else f"{INCREMENTAL} {run_number}", changed_file=changed)
    timed_load(ROSTER, changed_file=change_landing("send one roster again", resend_one_roster_file))
    timed_load("rerun load")

    code_at_end = code_fingerprint()
    if code_at_end != code_at_start:
        say("WARNING: configs/ or the code changed during the run (daam's code fingerprint differs): "
            "the numbers mix two versions of daam")
    result = {
        "when": when,
        "scale": args.scale,
        "years": years.split(","),
        "landing_generated": generated,
        "landing_path": str(landing.relative_to(ROOT)) if landing.is_relative_to(ROOT) else str(landing),
        "machine": machine(),
        "code_fingerprint": {"start": code_at_start, "end": code_at_end, "changed": code_at_end != code_at_start},
        "landing": {"files": floor["files"] if floor else None, "bytes": floor["bytes"] if floor else None,
                    "mib": round(floor["bytes"] / 2**20, 1) if floor else None,
                    "rows": floor["rows"] if floor else None},
        "landing_warmed": warmed,
        "floor": {**(floor or {"seconds": None}), "process": floor_step},
        "floor_after": {"seconds": floor_after["seconds"], "process": floor_after_step} if floor_after else None,
        "steps": steps,
        "load_log": logged,
        "ratio_load_to_floor": ratio(load["seconds"], floor, floor_after),
        "ratio_partitions_to_floor": ratio(load["phases"]["partitions_seconds"], floor, floor_after)
        if load.get("phases") else None,
        "incremental": incremental_summary(incremental_steps(steps)),
        "warehouse_mib": round(warehouse.stat().st_size / 2**20, 1) if warehouse.exists() else None,
        "queries": timed,
        "failed_steps": [s["step"] for s in steps if not s["ok"]] + ([] if floor else ["floor"]),
    }
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    target = results / f"{args.scale}.json"
    target.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    update_readme(Path(args.readme), results)
    say(f"results written to {target}; README table rewritten from {len(list(results.glob('*.json')))} result(s)")
    summary = {
        "scale": args.scale, "files": result["landing"]["files"], "rows": result["landing"]["rows"],
        "floor_s": result["floor"]["seconds"], "floor_after_s": floor_after and floor_after["seconds"],
        "ratio_load_to_floor": result["ratio_load_to_floor"],
        "load_phases_s": load.get("phases"), "ratio_partitions_to_floor": result["ratio_partitions_to_floor"],
        "steps": {s["step"]: {"s": s["seconds"], "cpu_%": s["cpu_percent"], "peak_rss_mib": s["peak_rss_mib"],
                              "exit": s["exit_code"]} for s in steps},
        "partitions": {s["step"]: f"{s['partitions_loaded']} loaded, {s['partitions_unchanged']} unchanged"
                       for s in steps if "partitions_loaded" in s},
        "load_log_s": {k: {n: x["seconds"] for n, x in v["steps"].items()} for k, v in logged.items() if v["steps"]},
        "outside_steps_s": logged.get("load", {}).get("outside_steps_seconds"),
        "queries": {q["query"][:60]: q.get("median_ms", q["status"]) for q in timed},
        "code_changed_during_run": result["code_fingerprint"]["changed"],
        "failed_steps": result["failed_steps"],
    }
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 1 if result["failed_steps"] else 0


if __name__ == "__main__":
    sys.exit(main())
