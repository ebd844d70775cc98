"""Feedback workbooks written by worker processes, a few issues read at a time, are the workbooks
written in one process: every sheet, every cell, its value, type and format."""

from __future__ import annotations

import os
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from daam.demo.generator import generate
from pipelines.load import run_load
from warehouse import feedback
from warehouse.feedback import SHEET_AR, SHEET_SUMMARY, write_feedback

M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="worker processes need two cores")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two directorates, CSV and XLSX files (rows with and without a sheet), rejected files, the
    directorates' own files with issues."""
    root = tmp_path_factory.mktemp("feedback-parallel")
    generate(root / "landing", scale="tiny", seed=11, years=["2022-2023"], defects=0.03)
    db = root / "w.duckdb"
    assert run_load(root / "landing", db).ok
    return db


def _write(warehouse: Path, out: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> feedback.FeedbackReport:
    pools = []
    start = feedback.worker_pool

    @contextmanager
    def recorded(tasks: int, threshold: int):
        with start(tasks, threshold) as pool:
            pools.append(pool)
            yield pool

    with monkeypatch.context() as m:
        m.setattr(feedback, "worker_pool", recorded)
        m.setattr(feedback, "PARALLEL_THRESHOLD", 2 if parallel else 10**9)
        if parallel:
            m.setattr(feedback, "BATCH", 7)  # schools cut across batches, few lines ahead of the workers
        with duckdb.connect(str(warehouse), read_only=True) as con:
            try:
                report = write_feedback(con, out)
            finally:  # the rows as sent it staged are gone, even after an error
                assert con.execute("select table_name from duckdb_tables() where temporary").fetchall() == []
    assert [pool is not None for pool in pools] == [parallel]
    return report


def _styles(z: zipfile.ZipFile) -> list[str]:
    """Each cell format index as the font, fill, border, number format and alignment it stands for."""
    root = ET.fromstring(z.read("xl/styles.xml"))
    parts = {k: [ET.tostring(e, encoding="unicode") for e in root.find(M + k)] for k in ("fonts", "fills", "borders")}
    out = []
    for xf in root.find(M + "cellXfs"):
        a = dict(xf.attrib)
        out.append(repr((parts["fonts"][int(a.pop("fontId", 0))], parts["fills"][int(a.pop("fillId", 0))],
                         parts["borders"][int(a.pop("borderId", 0))], sorted(a.items()),
                         [ET.tostring(c, encoding="unicode") for c in xf])))
    return out


def _sheets(book: Path) -> dict[str, str]:
    """Every sheet of the workbook as XML text, its shared strings and formats written out; the
    summary's date of writing left out."""
    with zipfile.ZipFile(book) as z:
        shared = ["".join(si.itertext()) for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(M + "si")]
        styles = _styles(z)
        targets = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
        sheets = {}
        for sheet in ET.fromstring(z.read("xl/workbook.xml")).iter(M + "sheet"):
            root = ET.fromstring(z.read(posixpath.join("xl", targets[sheet.get(REL + "id")])))
            for c in root.iter(M + "c"):
                if c.get("t") == "s":
                    c.find(M + "v").text = shared[int(c.find(M + "v").text)]
                if sheet.get("name") == SHEET_SUMMARY and c.get("r") == "A4":
                    c.find(M + "v").text = "(date)"
                if c.get("s") is not None:
                    c.set("s", styles[int(c.get("s"))])
            sheets[sheet.get("name")] = ET.tostring(root, encoding="unicode")
        return sheets


def _workbooks(out: Path) -> dict[str, dict[str, str]]:
    return {p.relative_to(out).as_posix(): _sheets(p) for p in sorted(out.rglob("*.xlsx"))}


def _relative(report: feedback.FeedbackReport, out: Path) -> tuple:
    return ([p.relative_to(out) for p in report.school_workbooks],
            [p.relative_to(out) for p in report.directorate_workbooks], report.issues, report.rejected_files)


def test_workers_write_the_workbooks_one_process_writes(warehouse: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    alone = _write(warehouse, tmp_path / "alone", monkeypatch, parallel=False)
    workers = _write(warehouse, tmp_path / "workers", monkeypatch, parallel=True)
    assert _relative(workers, tmp_path / "workers") == _relative(alone, tmp_path / "alone")
    want, got = _workbooks(tmp_path / "alone"), _workbooks(tmp_path / "workers")
    assert list(got) == list(want)
    for name in want:
        assert list(got[name]) == list(want[name]), name
        for sheet in want[name]:
            assert got[name][sheet] == want[name][sheet], (name, sheet)
    # not a comparison of empty workbooks: schools of two directorates, their issues, rows as sent
    assert len(want) >= 8 and {name.split("/")[0] for name in want} >= {"110", "111"}
    assert sum(name.split("/")[1].startswith("direction_") for name in want) == 2
    issue_lines = [int(r) for s in want.values() for r in re.findall(r'<(?:\w+:)?row r="(\d+)"', s.get(SHEET_AR, ""))
                   if int(r) > 5]
    assert len(issue_lines) > 300
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_worker_that_fails_leaves_no_workbook_under_its_name(warehouse: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch):
    read = feedback.issues_by_school
    broken = []

    def one_school_broken(*args):
        for school, lines in read(*args):
            if school is not None and not broken:
                broken.append(school)  # a row number the worker cannot write: it raises
                lines = [((*issue[:7], "not a number", *issue[8:]), raw) for issue, raw in lines]
            yield school, lines

    monkeypatch.setattr(feedback, "issues_by_school", one_school_broken)
    with pytest.raises(ValueError, match="not a number"):
        _write(warehouse, tmp_path, monkeypatch, parallel=True)
    assert broken and not list(tmp_path.rglob(f"{broken[0]}.xlsx"))
    assert not list(tmp_path.rglob("*.tmp"))
