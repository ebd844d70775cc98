"""Feedback workbooks on a hand-written landing zone: every line a school reads is known by hand."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pytest
import python_calamine

from pipelines.cli import main
from pipelines.load import run_load
from tests.conftest import FILES, SCHOOL_A, SCHOOL_B, YEAR, write_files
from warehouse.feedback import SHEET_AR, SHEET_FR, SHEET_SUMMARY, write_feedback

ROSTER = f"{YEAR}/students/{SCHOOL_A}.csv"
ATTENDANCE = f"{YEAR}/attendance/2022-10/{SCHOOL_A}.csv"
PAYMENTS = f"{YEAR}/tayssir_payments/110_1.csv"
ROSTER_B = f"{YEAR}/students/{SCHOOL_B}.csv"
INJECTION = "=HYPERLINK(\"http://x\",\"y\")"

LANDING = {
    **FILES,
    # Row 7: a last name that a spreadsheet would run as a formula, with a bad Massar code.
    ROSTER: FILES[ROSTER] + '@SUM(1),"' + INJECTION.replace('"', '""') + '",z,F,2014-05-03,3AP\n',
    # School B: one pupil, one bad gender on line 3.
    ROSTER_B: "massar_code,last_name_ar,first_name_ar,gender,birth_date,level\n"
              "K111111111,البقالي,سعاد,F,2010-03-04,1AC\nK111111112,التازي,علي,X,2010-03-04,1AC\n",
    # A payment for a pupil on no roster of the directorate: an issue of the directorate's own file.
    PAYMENTS: FILES[PAYMENTS] + "P3,S123456,J888888888,2022-09,2022-11,180,paid\n",
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("feedback")
    write_files(root / "landing", LANDING)
    db = root / "w.duckdb"
    report = run_load(root / "landing", db)
    assert report.ok, report.failed
    return db


@pytest.fixture(scope="module")
def out(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    assert main(["feedback", "--warehouse", str(warehouse), "--out", str(out)]) == 0
    return out


def _sheet(path: Path, name: str) -> list[list]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def _table(rows: list[list], header_first: str) -> list[dict]:
    """The rows under the header row that starts with `header_first`, as dicts."""
    top = next(i for i, r in enumerate(rows) if r and r[0] == header_first)
    head = rows[top]
    out = []
    for r in rows[top + 1:]:
        if not any(v != "" for v in r):
            break
        out.append({h: v for h, v in zip(head, r) if h != ""})
    return out


def test_one_workbook_per_school_with_issues_and_one_per_directorate(out: Path):
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.xlsx"))
    # 99999Z is not in the referential: its rejected file has no directorate to go to.
    assert written == ["110/16698Z.xlsx", "110/16701C.xlsx", "110/direction_110.xlsx", "unplaced/99999Z.xlsx"]
    assert not list(out.rglob(".*.tmp"))


def test_arabic_sheet_lists_every_open_issue_of_the_school_right_to_left(out: Path):
    book = out / "110" / f"{SCHOOL_A}.xlsx"
    assert python_calamine.CalamineWorkbook.from_path(str(book)).sheet_names == [SHEET_SUMMARY, SHEET_AR, SHEET_FR]
    rows = _table(_sheet(book, SHEET_AR), "السنة الدراسية")
    got = {(r["الملف"], int(r["رقم السطر"]), r["الخانة"], r["القيمة كما أرسلت"]) for r in rows}
    assert got == {
        (ROSTER, 4, "رقم التلميذ", "BAD"),
        (ROSTER, 5, "تاريخ الازدياد", "2010-01-01"),
        (ROSTER, 6, "رقم التلميذ", "J130245872"),
        (ROSTER, 7, "رقم التلميذ", "@SUM(1)"),
        (ATTENDANCE, 4, "رقم التلميذ", "J999999999"),
        (ATTENDANCE, 5, "الغياب غير المبرر", "30"),
        (f"{YEAR}/schoolbags/{SCHOOL_A}.csv", 2, "الحاجيات", "3"),
    }
    bad = next(r for r in rows if r["القيمة كما أرسلت"] == "BAD")
    assert bad["الخطورة"].startswith("خطأ")
    assert "BAD" in bad["المشكل"] and "9 أرقام" in bad["المشكل"]
    assert bad["الإصلاح"] == "انقلوا رقم مسار التلميذ من منظومة مسار (حرف و9 أرقام)."
    # The row as the school sent it, so she recognises the pupil.
    assert (bad["النسب"], bad["الإسم"], bad["النوع"], bad["المستوى"]) == ("x", "y", "M", "3AP")
    over = next(r for r in rows if r["القيمة كما أرسلت"] == "30")
    assert "« الغياب غير المبرر »" not in over["المشكل"]  # absence message names no column
    assert over["رقم التلميذ"] == "J130245873"
    with zipfile.ZipFile(book) as z:
        assert 'rightToLeft="1"' in z.read("xl/worksheets/sheet2.xml").decode()  # الأخطاء
        assert 'rightToLeft="1"' not in z.read("xl/worksheets/sheet3.xml").decode()  # Erreurs


def test_french_sheet_says_the_same_in_french(out: Path):
    rows = _table(_sheet(out / "110" / f"{SCHOOL_A}.xlsx", SHEET_FR), "Année scolaire")
    assert len(rows) == 7
    warned = next(r for r in rows if r["Valeur envoyée"] == "2010-01-01")
    assert warned["Colonne"] == "Date de naissance"
    assert warned["Gravité"].startswith("Avertissement")
    assert warned["Correction"] == "Vérifiez la date de naissance et le niveau dans Massar."
    assert int(warned["Ligne"]) == 5 and warned["Feuille"] == ""


def test_formula_injection_is_written_as_text(out: Path):
    book = out / "110" / f"{SCHOOL_A}.xlsx"
    rows = _table(_sheet(book, SHEET_AR), "السنة الدراسية")
    injected = next(r for r in rows if r["القيمة كما أرسلت"] == "@SUM(1)")
    assert injected["النسب"] == INJECTION
    with zipfile.ZipFile(book) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode(), name


def test_summary_counts_per_rule_and_rejected_files(out: Path):
    rows = _table(_sheet(out / "110" / f"{SCHOOL_A}.xlsx", SHEET_SUMMARY), "Règle / القاعدة")
    counts = {r["Règle / القاعدة"]: int(r["عدد الأسطر / Lignes"]) for r in rows}
    assert counts == {"massar_code_format": 2, "pupil_not_on_roster": 1, "absence_days_range": 1,
                      "age_level_mismatch": 1, "duplicate_key_identical": 1, "kits_requested_above_eligible": 1}
    assert rows[0]["Problème"] in {"Code Massar invalide", "Élève absent de la liste des élèves",
                                   "Absences supérieures aux jours de classe"}  # errors come first
    unplaced = _table(_sheet(out / "unplaced" / "99999Z.xlsx", SHEET_SUMMARY), "السنة / Année")
    assert [(r["الملف / Fichier"], r["Motif"]) for r in unplaced] == [
        (f"{YEAR}/students/99999Z.csv",
         "Le code établissement du nom du fichier est inconnu du référentiel. Vérifiez le nom du fichier.")]


def test_a_school_workbook_holds_only_that_schools_pupils(out: Path):
    text_b = _all_text(out / "110" / f"{SCHOOL_B}.xlsx")
    assert "K111111112" in text_b and "التازي" in text_b
    for other in ("J130245871", "J130245872", "J130245873", "العلوي", "الإدريسي", "J888888888"):
        assert other not in text_b
    text_a = _all_text(out / "110" / f"{SCHOOL_A}.xlsx")
    assert "K111111112" not in text_a and "التازي" not in text_a and "J888888888" not in text_a


def test_directorate_workbook_counts_schools_by_rule_without_pupils_names(out: Path):
    book = out / "110" / "direction_110.xlsx"
    rows = _table(_sheet(book, "Écoles x règles"), "Établissement")
    by_school = {r["Établissement"]: r for r in rows}
    assert set(by_school) == {SCHOOL_A, SCHOOL_B}
    assert (int(by_school[SCHOOL_A]["Erreurs"]), int(by_school[SCHOOL_A]["Avertissements"])) == (4, 3)
    assert int(by_school[SCHOOL_A]["Code Massar invalide"]) == 2
    assert int(by_school[SCHOOL_B]["Sexe inconnu"]) == 1
    # The directorate's own file (payments) has its issue listed; no school's pupil rows are.
    own = _table(_sheet(book, SHEET_FR), "Année scolaire")
    assert [(r["Fichier"], int(r["Ligne"]), r["Valeur envoyée"]) for r in own] == [(PAYMENTS, 4, "J888888888")]
    text = _all_text(book)
    for name in ("العلوي", "الإدريسي", "البقالي", "التازي", "BAD"):
        assert name not in text


def test_filters_write_only_the_selected_school(warehouse: Path, tmp_path: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        report = write_feedback(con, tmp_path, school=SCHOOL_B)
    assert [p.relative_to(tmp_path).as_posix() for p in report.school_workbooks] == [f"110/{SCHOOL_B}.xlsx"]
    assert report.directorate_workbooks == [] and report.issues == 1


def test_cli_refuses_a_missing_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture):
    assert main(["feedback", "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def _all_text(book: Path) -> str:
    wb = python_calamine.CalamineWorkbook.from_path(str(book))
    return "\n".join(str(v) for name in wb.sheet_names for row in wb.get_sheet_by_name(name).to_python()
                     for v in row)
