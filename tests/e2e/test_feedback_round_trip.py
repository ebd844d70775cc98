"""The audit loop, end to end: a generated landing zone with defects is loaded, each school gets its
feedback workbook, the files the workbooks name are corrected (re-exported clean, as the school
would after fixing them in Massar) and loaded again. Every issue must then be resolved and every
indicator equal a load of the clean landing zone, although no file the feedback did not name was
touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import python_calamine

from daam.config import load_settings
from daam.demo.generator import generate
from pipelines.cli import main as daam
from warehouse.feedback import SHEET_AR, SHEET_SUMMARY

YEARS = ["2022-2023"]
SEED = 11


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and ".daam-demo" not in p.parts}


def _column(book: Path, sheet: str, header: str) -> set[str]:
    """Every value under the header cell `header` in that sheet (tables may repeat it)."""
    wb = python_calamine.CalamineWorkbook.from_path(str(book))
    if sheet not in wb.sheet_names:
        return set()
    rows = wb.get_sheet_by_name(sheet).to_python()
    out: set[str] = set()
    for i, row in enumerate(rows):
        if header in row:
            col = row.index(header)
            for r in rows[i + 1:]:
                if col >= len(r) or r[col] == "":
                    break
                out.add(str(r[col]))
    return out


def _rows(book: Path, sheet: str) -> list[dict]:
    rows = python_calamine.CalamineWorkbook.from_path(str(book)).get_sheet_by_name(sheet).to_python()
    return [dict(zip(rows[0], r)) for r in rows[1:] if any(v != "" for v in r)]


def _named_files(out: Path, clean: Path) -> set[str]:
    """The files the feedback asks to correct (rows to fix, files refused, directorates' own
    files) or to send (expected and not received, found in the clean landing zone)."""
    settings = load_settings()
    by_label = {spec.labels["fr"]: spec for spec in settings.record_types.values()}
    named: set[str] = set()
    for book in out.rglob("*.xlsx"):
        if book.name.startswith("direction_"):
            named |= _column(book, "Erreurs", "Fichier") | _column(book, "Fichiers refusés", "Fichier")
            for r in _rows(book, "Fichiers non reçus"):
                spec = by_label[r["Type de fichier"]]
                stem = f"{r['Année']}/{spec.folder}/" + (f"{r['Mois']}/" if r["Mois"] else "") + r["Établissement"]
                named |= {p.relative_to(clean).as_posix() for p in clean.glob(f"{stem}.*")}
        else:
            named |= _column(book, SHEET_AR, "الملف") | _column(book, SHEET_SUMMARY, "الملف / Fichier")
    return named


def _q(db: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db)) as con:
        return con.execute(sql).df()


def _indicators(db: Path) -> pd.DataFrame:
    frame = _q(db, "select geo_level, geo_code, school_year, coalesce(month, '') as month, indicator, value "
                   "from mart.indicators")
    return frame.sort_values(list(frame.columns[:5])).reset_index(drop=True)


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop")
    landing, clean = root / "landing", root / "clean"
    generate(landing, scale="tiny", seed=SEED, years=YEARS, defects=0.03)
    generate(clean, scale="tiny", seed=SEED, years=YEARS, defects=0.0, truth=False)
    db, clean_db = root / "w.duckdb", root / "clean.duckdb"
    assert daam(["load", "--landing", str(landing), "--warehouse", str(db)]) == 0
    assert daam(["load", "--landing", str(clean), "--warehouse", str(clean_db)]) == 0
    first_issues = _q(db, "select * from ops.row_issue where status = 'open'")
    landing_files, clean_files = _files(landing), _files(clean)
    differing = {p for p in landing_files.keys() | clean_files.keys() if landing_files.get(p) != clean_files.get(p)}
    missing = pd.read_csv(landing / ".daam-demo/missing.csv")
    assert len(missing) and not (clean_files.keys() - landing_files.keys()) - differing

    out = root / "feedback"
    assert daam(["feedback", "--warehouse", str(db), "--out", str(out)]) == 0
    named = _named_files(out, clean)
    clean_files = _files(clean)
    for rel in named:  # the school's correction: the clean export, or the stray file taken away
        target = landing / rel
        if rel in clean_files:
            target.parent.mkdir(parents=True, exist_ok=True)
            # with its time: a correction keeps the first loaded version's arrival, but a file that
            # was refused or never sent is judged on this copy's time, the clean landing's
            shutil.copy2(clean / rel, target)
        else:
            target.unlink()
    assert daam(["load", "--landing", str(landing), "--warehouse", str(db)]) == 0
    feedback_after = root / "feedback-after"
    assert daam(["feedback", "--warehouse", str(db), "--out", str(feedback_after)]) == 0
    return landing, clean, db, clean_db, first_issues, differing, named, feedback_after


def test_the_feedback_names_every_file_with_a_problem(loop):
    landing, clean, _, _, first_issues, differing, named, _ = loop
    assert len(first_issues) > 50 and len(differing) > 20
    assert differing <= named, "files with defects that no workbook named"
    assert _files(landing) == _files(clean)  # correcting only the named files gave the clean landing zone


def test_every_issue_is_resolved(loop):
    _, _, db, clean_db, first_issues, *_ = loop
    still_open = _q(db, "select file_path, row_number, rule from ops.row_issue where status = 'open'")
    clean_open = _q(clean_db, "select file_path, row_number, rule from ops.row_issue where status = 'open'")
    assert set(map(tuple, still_open.values)) == set(map(tuple, clean_open.values))
    resolved = _q(db, "select count(*) as n from ops.row_issue where status = 'resolved'")["n"][0]
    first = set(map(tuple, first_issues[["file_path", "row_number", "rule"]].values))
    assert resolved >= len(first - set(map(tuple, clean_open.values)))


def test_quarantined_rows_of_a_fixed_roster_are_loaded(loop):
    """Attendance rows of pupils whose roster row was wrong: never re-sent, loaded once the roster is."""
    _, _, db, clean_db, *_ = loop
    count = "select count(*) as n from staging.attendance where not is_quarantined"
    assert _q(db, count)["n"][0] == _q(clean_db, count)["n"][0]


def test_indicators_equal_a_clean_load(loop):
    _, _, db, clean_db, *_ = loop
    got, want = _indicators(db), _indicators(clean_db)
    assert len(want) > 400 and want["value"].sum() > 0
    pd.testing.assert_frame_equal(got, want)


def test_accounting_holds_and_no_workbook_is_left(loop):
    *_, db, _, _, _, _, feedback_after = loop
    bad = _q(db, "select file_path from ops.file_manifest where status = 'loaded' "
                 "and rows_read <> rows_loaded + rows_quarantined")
    assert bad.empty
    schools = [p for p in feedback_after.rglob("*.xlsx") if not p.name.startswith("direction_")]
    assert schools == []
