"""The worker processes' own settings (warehouse/build/workers.py)."""

from __future__ import annotations

import gc
import os

from warehouse.build import workers


def _collector() -> tuple[tuple[int, int, int], int]:
    return gc.get_threshold(), gc.get_freeze_count()


def test_a_worker_scans_for_garbage_less_often_than_python_by_default() -> None:
    with workers.worker_pool(tasks=2, threshold=1) as pool:
        assert pool is not None
        thresholds, frozen = pool.submit(_collector).result()
    assert thresholds == workers.WORKER_GC_THRESHOLDS == (20_000, 10, 10)
    assert frozen > 1_000  # the modules imported at start are out of the collector's scans
    assert gc.get_threshold() != thresholds  # the parent keeps Python's own collector


def _niceness() -> int:
    return os.nice(0)


def test_a_worker_gives_the_cores_to_the_parent_first() -> None:
    with workers.worker_pool(tasks=2, threshold=1) as pool:
        assert pool is not None
        worker = pool.submit(_niceness).result()
    assert workers.WORKER_NICENESS == 10
    assert worker == min(os.nice(0) + workers.WORKER_NICENESS, 19)  # the parent keeps its own priority
