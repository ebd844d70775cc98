"""One generated `tiny` landing zone (two directorates of one region, small schools included),
loaded, signed in part (the demo's approvals), monitored: the publish step draws the reports site
from the products. Shared by the site's tests and its browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from daam.demo.generator import generate
from pipelines.cli_approval import demo_approvals
from pipelines.load import run_load, run_monitoring
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


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> SiteRun:
    root = tmp_path_factory.mktemp("site")
    landing = root / "landing"
    generate(landing, scale="tiny", seed=11, years=YEARS, defects=0.02)
    warehouse = root / "data" / "warehouse.duckdb"
    loaded = run_load(landing, warehouse)
    assert loaded.ok, loaded.failed
    demo_approvals(str(warehouse), PROVINCES[0], YEARS[-1])
    monitored = run_monitoring(warehouse)  # publishes the products, then the site
    assert monitored.ok, monitored.failed
    return SiteRun(landing, warehouse, default_out(warehouse))
