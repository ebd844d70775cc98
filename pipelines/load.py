"""Materialise everything for a landing zone through Dagster, in process: the landing scan, then one
run per (school year, directorate) partition found in it. A failed partition does not stop the
others; data problems are not failures (they are quarantined and reported)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from dagster import DagsterInstance
from dagster._utils.backoff import backoff

from assets.approval import DRIFT_KEYS
from assets.partitions import partition_key
from assets.resources import held_open
from assets.roster_twins import TWINS_KEYS
from daam.progress import emit
from pipelines.definitions import build_definitions
from warehouse.build import read_ahead
from warehouse.build.landing import partitions_in_inventory
from warehouse.build.staging import forget_staging_basis
from warehouse.fingerprint import partition_fingerprints, unchanged
from warehouse.products import products_dir
from warehouse.publish import published_path

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class LoadReport:
    partitions: list[tuple[str, str]] = field(default_factory=list)  # loaded in this run
    unchanged: list[tuple[str, str]] = field(default_factory=list)  # skipped: same inputs as last time
    failed: list[str] = field(default_factory=list)
    published: Path | None = None  # the engineers' read-only copy, refreshed at the end of the load
    products: list[Path] = field(default_factory=list)  # the level products (warehouse/products.py)

    @property
    def ok(self) -> bool:
        return not self.failed


def _instance() -> DagsterInstance:
    """The DAGSTER_HOME instance when set (runs then show in `dg dev`), else an ephemeral one."""
    return DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()


def _failure(result) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            err = event.step_failure_data.error
            # Dagster wraps what the step raised ("Error occurred while executing op ..."): say what it raised
            while err is not None and err.cause is not None and "DagsterExecutionStepExecutionError" in err.cls_name:
                err = err.cause
            return f"{event.step_key}: {err.message.strip() if err else 'failed'}"
    return "run failed"


def run_load(landing: str | Path, warehouse: str | Path, years: list[str] | None = None,
             provinces: list[str] | None = None, quiet: bool = True, force: bool = False) -> LoadReport:
    """Scan `landing`, then load each of its partitions (optionally only some years/provinces)
    whose inputs changed since their last successful load (all of them with `force`)."""
    landing, warehouse = Path(landing), Path(warehouse)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing zone {landing} does not exist or is not a folder")
    defs = build_definitions(str(landing), str(warehouse))
    instance = _instance()
    run_config = QUIET if quiet else {}
    report = LoadReport()
    scan = defs.resolve_job_def("landing_scan").execute_in_process(
        instance=instance, raise_on_error=False, run_config=run_config)
    if not scan.success:
        report.failed.append(f"landing scan: {_failure(scan)}")
        return report
    # a reader (the landing sensor, a tool) may hold the file for a moment: retry like the steps do
    con = backoff(fn=duckdb.connect, retry_on=(duckdb.IOException,), kwargs={"database": str(warehouse)},
                  max_retries=10)
    with con:
        partitions = [(y, p) for y, p in partitions_in_inventory(con)
                      if (not years or y in years) and (not provinces or p in provinces)]
        fingerprints = partition_fingerprints(con)
        same = set() if force else unchanged(con, fingerprints)
        if force:  # staged again whole, not only the files that changed (warehouse/build/staging.py)
            forget_staging_basis(con, partitions)
    job = defs.resolve_job_def("partition_load")
    todo = [p for p in partitions if p not in same]
    report.unchanged = [p for p in partitions if p in same]
    emit("partition", f"{len(todo)} partition(s) to load, {len(report.unchanged)} unchanged", total=len(todo), done=0)
    # each partition's raw step hands the next one's files to the readers (warehouse/build/read_ahead.py);
    # the steps of all the partition runs share one connection to the warehouse (assets/resources.py)
    with read_ahead.planned(todo, warehouse), held_open(warehouse):
        for done, (year, province) in enumerate(todo):
            emit("partition", f"loading {year} {province} ({done + 1} of {len(todo)})", total=len(todo), done=done)
            result = job.execute_in_process(partition_key=partition_key(year, province), instance=instance,
                                            raise_on_error=False, run_config=run_config)
            report.partitions.append((year, province))
            if not result.success:  # a successful run recorded its inputs itself (mart/indicators)
                report.failed.append(f"{year}/{province}: {_failure(result)}")
            emit("partition", f"{year} {province} {'loaded' if result.success else 'FAILED'}", total=len(todo),
                 done=done + 1)
    # The readers' copy follows only a load that completed everywhere: a partition that failed
    # between two steps can be half new (its raw files read, its facts not yet rebuilt). The roster
    # warnings across directorates and the drift of the signed units are made true after every load
    # all the same (the loaded partitions moved; each partition's staging committed whole).
    if report.ok:
        emit("publish", "publishing: roster warnings, approval drift, the engineers' copy, the level products")
        _publish(report, defs, instance, run_config, warehouse)
    else:
        drift = defs.resolve_job_def("publish_snapshot").execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config,
            asset_selection=TWINS_KEYS + DRIFT_KEYS)
        if not drift.success:
            report.failed.append(f"roster warnings and approval drift: {_failure(drift)}")
    return report


def run_publish(warehouse: str | Path, quiet: bool = True) -> LoadReport:
    """Run the `publish_snapshot` job once: drift, the engineers' copy, the level products (after an
    approval action, so that the products show it at once)."""
    defs = build_definitions(None, str(warehouse))
    report = LoadReport()
    _publish(report, defs, _instance(), QUIET if quiet else {}, warehouse)
    return report


def run_monitoring(warehouse: str | Path, landing: str | Path | None = None, quiet: bool = True) -> LoadReport:
    """Run the `quality_monitoring` job once (outliers, history and scores, Data Docs)."""
    defs = build_definitions(str(landing) if landing else None, str(warehouse))
    instance, run_config = _instance(), QUIET if quiet else {}
    result = defs.resolve_job_def("quality_monitoring").execute_in_process(
        instance=instance, raise_on_error=False, run_config=run_config)
    report = LoadReport(failed=[] if result.success else [f"quality monitoring: {_failure(result)}"])
    _publish(report, defs, instance, run_config, warehouse)
    return report


def _publish(report: LoadReport, defs, instance: DagsterInstance, run_config: dict, warehouse: Path | str) -> None:
    """Run the `publish_snapshot` job: the roster warnings across directorates, the drift of the
    signed units, the engineers' read copy and, built meanwhile, the directorate, region and
    national products, then the site. A failure is reported; what it stopped keeps its previous
    files (a failed suppression leaves the region and national products as they were, the
    directorates' and the copy published)."""
    result = defs.resolve_job_def("publish_snapshot").execute_in_process(
        instance=instance, raise_on_error=False, run_config=run_config)
    if not result.success:
        report.failed.append(f"publishing: {_failure(result)}")
        return
    report.published = published_path(warehouse)
    report.products = sorted(products_dir(warehouse).rglob("*.duckdb"))
