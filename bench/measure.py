"""Time and peak memory of generating and loading a demo landing zone at a given scale.

    .venv/bin/python bench/measure.py --scale region [--years 2021-2022,2022-2023] [--out bench/out]

Each step runs in its own process (the `daam` command line), so its peak resident memory is its
own: read from the kernel's accounting of the finished child (ru_maxrss). Results are appended
to bench/out/results.jsonl and printed. Nothing here asserts a time: numbers are for the notes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

DAAM = str(Path(sys.executable).with_name("daam"))


def run_step(name: str, argv: list[str]) -> dict:
    """Run one command in a fresh child and measure it (wall seconds, peak RSS of that child)."""
    probe = (
        "import resource, subprocess, sys, time;"
        "t = time.monotonic(); rc = subprocess.call(sys.argv[1:]);"
        "print('@@', rc, time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=False)
    marker = [ln for ln in out.stdout.splitlines() if ln.startswith("@@")]
    if not marker:
        raise RuntimeError(f"{name} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    _, rc, seconds, maxrss_kb = marker[-1].split()
    tail = [ln for ln in out.stdout.splitlines() if not ln.startswith("@@")][-12:]
    errors = [ln for ln in out.stderr.splitlines() if ln.strip()][-12:]
    return {"step": name, "exit_code": int(rc), "seconds": round(float(seconds), 1),
            "peak_rss_mib": round(int(maxrss_kb) / 1024, 1), "output_tail": tail, "stderr_tail": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="province", choices=["tiny", "province", "region", "nation"])
    parser.add_argument("--years", default="2021-2022,2022-2023")
    parser.add_argument("--defects", default="0.01")
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--keep", action="store_true", help="keep the landing zone and warehouse")
    args = parser.parse_args()
    out = Path(args.out) / args.scale
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    landing, warehouse = out / "landing", out / "warehouse.duckdb"
    gen = run_step("generate", [DAAM, "generate", "--out", str(landing), "--scale", args.scale, "--years", args.years,
                                "--defects", args.defects, "--no-truth"])
    files = sum(1 for _ in landing.rglob("*") if _.is_file())
    size = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())
    load = run_step("load", [DAAM, "load", "--landing", str(landing), "--warehouse", str(warehouse)])
    rerun = run_step("load (rerun, nothing new)", [DAAM, "load", "--landing", str(landing), "--warehouse",
                                                    str(warehouse)])
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "scale": args.scale, "years": args.years,
        "cores": os.cpu_count(), "landing_files": files, "landing_mib": round(size / 2**20, 1),
        "warehouse_mib": round(warehouse.stat().st_size / 2**20, 1), "steps": [gen, load, rerun],
    }
    with (Path(args.out) / "results.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(result, ensure_ascii=False) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if not args.keep:
        shutil.rmtree(landing, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
