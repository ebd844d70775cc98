"""One generated `tiny` landing zone (two directorates of one region, small schools included),
loaded, signed in part (the demo's approvals), monitored: the publish step draws the reports site
from the products. Shared by the site's tests and its browser tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assets.resources import Warehouse
from daam.config import outlier_config
from daam.demo.generator import generate
from pipelines.cli_approval import demo_approvals
from pipelines.load import run_load, run_monitoring, run_publish
from warehouse import seeds
from warehouse.build import ops
from warehouse.build.ops import detect_outliers
from warehouse.site.build import default_out

YEARS = ["2021-2022", "2022-2023"]
PROVINCES = ["110", "111"]
REGION = "02"


@dataclass(frozen=True)
class SiteRun:
    landing: Path
    warehouse: Path
    out: Path

    def page(self, lang: str, name: str) -> Path:
        return self.out / lang / name


def _absence_bounds():
    """The tiny zone's directorates have too few schools for peers: absence rates above 12 % are
    flagged by fixed bounds instead, so the pages have outliers to follow up."""
    base = outlier_config()
    metrics = dict(base.metrics)
    metrics["absence_rate"] = {**metrics["absence_rate"], "method": "minmax", "min": 0, "max": 0.12}
    return dataclasses.replace(base, metrics=metrics)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[SiteRun]:
    root = tmp_path_factory.mktemp("site")
    env = pytest.MonkeyPatch()
    env.setenv("DAAM_GX_ROOT", str(root / "gx"))  # the monitoring's Data Docs, not the repository's
    landing = root / "landing"
    generate(landing, scale="tiny", seed=11, years=YEARS, defects=0.02)
    warehouse = root / "data" / "warehouse.duckdb"
    loaded = run_load(landing, warehouse)
    assert loaded.ok, loaded.failed
    demo_approvals(str(warehouse), PROVINCES[0], YEARS[-1])
    monitored = run_monitoring(warehouse)
    assert monitored.ok, monitored.failed
    with pytest.MonkeyPatch.context() as patch, Warehouse(database=str(warehouse)).connect(keys=False) as con:
        patch.setattr(ops, "outlier_config", _absence_bounds)
        patch.setattr(seeds, "outlier_config", _absence_bounds)  # what core.outlier_rule is loaded from
        assert detect_outliers(con, "bounds")["new"] > 0
    env.setenv("DAAM_REPORTS", "on")  # from now on each publish draws the site (tests/conftest.py: off)
    published = run_publish(warehouse)  # the products, then the site
    assert published.ok, published.failed
    yield SiteRun(landing, warehouse, default_out(warehouse))
    env.undo()
