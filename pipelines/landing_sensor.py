"""The landing sensor: new or changed files trigger the loads of exactly the partitions they touch.

Each tick walks the landing root (names, sizes, modification times: no file is opened) and keeps
its observations in the cursor:

1. **Settling.** A file whose size or time changed since the previous tick, or was modified less
   than `DAAM_LANDING_SETTLE_SECONDS` (default 60) ago, is still being written: nothing is
   requested while any file settles, so a half-copied file is never read.
2. **Scan.** When the settled landing zone (or the code and configs/) differs from the one last
   scanned, one `landing_scan` run is requested; its run key is the digest of (path, size, time)
   of every file and of the code, so a given state of the landing zone is scanned once, however
   many ticks see it.
3. **Partitions.** Once the scan of the current state has succeeded, the partitions whose inputs
   changed since their last successful load (`warehouse/fingerprint.py`: files by content hash,
   the referential, configs and code) get one `partition_load` run each, with
   run key `<year>|<directorate>|<fingerprint>`: a file never triggers twice, and after a
   restart the fingerprints, kept in the warehouse, say what is still to load.

4. **Publish.** When every partition is loaded, no run is queued or running, and the working
   file is newer than the readers' copy, one `publish_snapshot` run swaps a fresh copy in.

The cursor is JSON: the last observations, the digest last scanned. Losing it costs one rescan.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import duckdb
from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from assets.partitions import partition_key
from assets.resources import LandingZone, Warehouse
from daam.landing.inventory import hidden, ignored
from pipelines.jobs import landing_scan_job, partition_load_job, publish_job
from warehouse.fingerprint import code_fingerprint, partition_fingerprints, unchanged
from warehouse.publish import published_path

SETTLE_ENV = "DAAM_LANDING_SETTLE_SECONDS"
WHY = "Loads what lands: new or changed files trigger the landing scan, then the loads of the partitions they touch."


def observe(root: Path) -> dict[str, list[int]]:
    """path → [size, mtime_ns] of every file below `root` that the inventory would scan."""
    out: dict[str, list[int]] = {}
    root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not hidden(d)]
        for name in filenames:
            if ignored(name):
                continue
            path = Path(dirpath) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            out[path.relative_to(root).as_posix()] = [st.st_size, st.st_mtime_ns]
    return out


def settling(now: dict[str, list[int]], before: dict[str, list[int]], settle_seconds: float,
             clock: float | None = None) -> list[str]:
    """Files still being written: changed since the last tick, or modified too recently."""
    limit = ((clock if clock is not None else time.time()) - settle_seconds) * 1e9
    return sorted(p for p, (size, mtime) in now.items() if before.get(p) != [size, mtime] or mtime > limit)


def digest(observed: dict[str, list[int]]) -> str:
    """The landing state and the code and configs/ it is loaded with: a changed rule is a new state
    to scan (the scan loads the configuration the partitions then compute with)."""
    h = hashlib.sha256(code_fingerprint().encode())
    for path in sorted(observed):
        h.update(f"{path}\0{observed[path][0]}\0{observed[path][1]}\n".encode())
    return h.hexdigest()[:24]


def _scan_status(context: SensorEvaluationContext, run_key: str) -> DagsterRunStatus | None:
    runs = context.instance.get_runs(RunsFilter(job_name=landing_scan_job.name, tags={"dagster/run_key": run_key}),
                                     limit=1)
    return runs[0].status if runs else None


def _needs_publish(context: SensorEvaluationContext, warehouse: Path) -> bool:
    """The working file changed after the readers' copy, and no run that writes it is queued or
    running (publishing between two partition runs would publish half a load)."""
    published = published_path(warehouse)
    if not warehouse.exists() or (published.exists() and published.stat().st_mtime_ns >= warehouse.stat().st_mtime_ns):
        return False
    active = context.instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.QUEUED, DagsterRunStatus.STARTING,
                                                            DagsterRunStatus.STARTED]), limit=1)
    return not active


@sensor(name="landing_sensor", jobs=[landing_scan_job, partition_load_job, publish_job], minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING, description=WHY)
def landing_sensor(context: SensorEvaluationContext, landing: LandingZone, warehouse: Warehouse):
    state = json.loads(context.cursor) if context.cursor else {}
    observed = observe(landing.path)
    settle = float(os.environ.get(SETTLE_ENV, "60"))
    busy = settling(observed, state.get("observed", {}), settle)
    state["observed"] = observed
    if busy:
        return SensorResult(skip_reason=SkipReason(
            f"{len(busy)} file(s) still being written or just dropped (changed since the last tick or in the "
            f"last {settle:.0f} s), e.g. {busy[0]}: waiting for them to settle"), cursor=json.dumps(state))
    current = digest(observed)
    scan_key = f"scan:{current}"
    if state.get("scanned") != current:
        state["scanned"] = current
        return SensorResult(run_requests=[RunRequest(run_key=scan_key, job_name=landing_scan_job.name)],
                            cursor=json.dumps(state))
    status = _scan_status(context, scan_key)
    if status != DagsterRunStatus.SUCCESS:
        return SensorResult(skip_reason=SkipReason(f"waiting for the landing scan {scan_key} ({status})"),
                            cursor=json.dumps(state))
    try:
        with duckdb.connect(warehouse.database, read_only=True) as con:
            fingerprints = partition_fingerprints(con)
            done = unchanged(con, fingerprints)
    except duckdb.Error as exc:  # a run is writing: the same state is looked at again next tick
        return SensorResult(skip_reason=SkipReason(f"warehouse busy ({type(exc).__name__}), retrying next tick"),
                            cursor=json.dumps(state))
    todo = sorted(set(fingerprints) - done)
    requests = [RunRequest(run_key=f"{y}|{p}|{fingerprints[(y, p)]}", job_name=partition_load_job.name,
                           partition_key=partition_key(y, p)) for y, p in todo]
    if not requests:
        if _needs_publish(context, Path(warehouse.database)):
            return SensorResult(run_requests=[RunRequest(
                run_key=f"publish:{Path(warehouse.database).stat().st_mtime_ns}", job_name=publish_job.name)],
                cursor=json.dumps(state))
        return SensorResult(skip_reason=SkipReason("every partition is loaded from its current files"),
                            cursor=json.dumps(state))
    return SensorResult(run_requests=requests, cursor=json.dumps(state))
