"""What the code fingerprint covers: every source that shapes the warehouse's rows, so that a change
re-loads the partitions, and not the report site's code and page texts, whose changes redraw pages
(site_fingerprint) without re-loading a nation."""

from __future__ import annotations

from pathlib import Path

import pytest

from daam import config
from warehouse import fingerprint
from warehouse.site import build

FILES = {
    "configs/rules.yaml": "rules: 1\n",
    "warehouse/sql/core/fact.sql": "select 1\n",
    "assets/core.py": "x = 1\n",
    "warehouse/site/pages.py": "TITLE = 'a'\n",
    "warehouse/site/templates/page.html": "<p>a</p>\n",
    "warehouse/site/static/site.css": "p { color: red }\n",
    "configs/report.yaml": "text: {}\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(fingerprint, "PROJECT", tmp_path)
    monkeypatch.setattr(config, "CONFIG_DIR", tmp_path / "configs")
    monkeypatch.setattr(build.resources, "files", lambda package: tmp_path / "warehouse/site")
    monkeypatch.setattr(build, "code_fingerprint", fingerprint.code_fingerprint.__wrapped__)
    return tmp_path


def _both() -> tuple[str, str]:
    return fingerprint.code_fingerprint.__wrapped__(), build.site_fingerprint.__wrapped__()


@pytest.mark.parametrize("name", ["configs/rules.yaml", "warehouse/sql/core/fact.sql", "assets/core.py"])
def test_a_change_to_what_shapes_the_rows_changes_both_fingerprints(project: Path, name: str) -> None:
    code, site = _both()
    (project / name).write_text(FILES[name] + "-- changed\n")
    changed_code, changed_site = _both()
    assert changed_code != code and changed_site != site


@pytest.mark.parametrize("name", ["warehouse/site/pages.py", "warehouse/site/templates/page.html",
                                  "warehouse/site/static/site.css", "configs/report.yaml"])
def test_a_change_to_the_site_redraws_pages_without_reloading_partitions(project: Path, name: str) -> None:
    code, site = _both()
    (project / name).write_text(FILES[name] + "/* changed */\n")
    changed_code, changed_site = _both()
    assert changed_code == code
    assert changed_site != site


def test_the_configs_in_use_are_hashed_wherever_daam_config_dir_puts_them(project: Path, tmp_path_factory,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """DAAM_CONFIG_DIR moves the configs the load reads (daam.config.CONFIG_DIR): those are the
    ones hashed, not the project's own configs/ folder; the same configs hash the same anywhere."""
    code, site = _both()
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    for name in ("rules.yaml", "report.yaml"):
        (elsewhere / name).write_text((project / "configs" / name).read_text())
    monkeypatch.setattr(config, "CONFIG_DIR", elsewhere)
    assert _both() == (code, site)
    (project / "configs/rules.yaml").write_text("rules: 2\n")  # not the folder in use: no change
    assert _both() == (code, site)
    (elsewhere / "rules.yaml").write_text("rules: 2\n")
    changed_code, changed_site = _both()
    assert changed_code != code and changed_site != site
    (elsewhere / "report.yaml").write_text("text: {a: b}\n")
    assert _both()[0] == changed_code and _both()[1] != changed_site
