"""What a worker process imports before its first task. The `daam` command's entry point
(`pipelines/__main__.py`) imports nothing before the command runs, so that the worker processes,
which run the main script again on Python before 3.13, do not each import Dagster (0.6 s of CPU a
worker); a site worker does not import SciPy, which only the products' audit uses."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A script shaped like the console script pip writes for `daam`, which starts the readers' worker
# pool as a load does and asks a worker which of the heavy modules it has imported.
SCRIPT = """
import sys
from {module} import main
from warehouse.build.workers import worker_pool

if __name__ == "__main__":
    with worker_pool(tasks=1, threshold=0) as pool:
        print(pool.submit(eval, "sorted(m for m in ('dagster', 'pipelines.cli') if m in __import__('sys').modules)").result())
"""


def test_the_console_script_is_the_thin_entry_point():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"daam": "pipelines.__main__:main"}


@pytest.mark.parametrize(("module", "imported"), [
    ("pipelines.__main__", "[]"),
    # the control: the command line's own module as the script's import costs every worker Dagster
    ("pipelines.cli", "['dagster', 'pipelines.cli']"),
])
def test_a_worker_of_the_daam_command_does_not_import_dagster(tmp_path, module, imported):
    script = tmp_path / "daam"
    script.write_text(SCRIPT.format(module=module), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == imported


def test_python_m_pipelines_runs_the_command_line():
    done = subprocess.run([sys.executable, "-m", "pipelines", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: daam ")
    assert "load" in done.stdout and "generate" in done.stdout


def test_a_site_worker_does_not_import_scipy():
    probe = ("import sys, warehouse.site.build, warehouse.site.render; "
             "print(sorted(m for m in ('scipy', 'dagster') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
