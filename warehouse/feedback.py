"""Feedback workbooks: each school told, in Arabic and French, exactly which row of which file to fix.

For every school with open issues or rejected files, one workbook `<out>/<province>/<school>.xlsx`:

- `ملخص - Résumé` — counts of open issues per rule, rejected files with the reason, files expected
  and not received;
- `الأخطاء` (right to left) and `Erreurs` — one line per open issue: school year, file, sheet, row
  as the school sees it when opening the file, column, value as sent, problem and fix, then the
  row's own columns as sent, so the school recognises the pupil.

For every directorate, `<out>/<province>/direction_<province>.xlsx`: schools × rules counts,
rejected files, files expected and not received, and the issues of the directorate's own files
(the payment operator's), without any school's pupil names.

Every cell is written as a value, never as a formula: a value starting with `=`, `+`, `-` or `@`
stays text (spreadsheet formula injection). Workbooks are written to a temporary name and renamed,
so an interrupted run never leaves half a workbook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter
import yaml

from daam.config import CONFIG_DIR, RECORD_TYPES, Settings, load_settings
from daam.progress import emit
from daam.sqlfiles import registered
from quality_checks.catalogue import rules
from warehouse.schema import SQL

AR, FR = "ar", "fr"
SHEET_SUMMARY, SHEET_AR, SHEET_FR = "ملخص - Résumé", "الأخطاء", "Erreurs"
LINEAGE_COLUMNS = ["school_year", "file_path", "sheet", "row_number", "column_name", "raw_value",
                   "severity", "rule"]

WORDS = {
    AR: {
        "school_year": "السنة الدراسية", "file": "الملف", "sheet": "الورقة", "row": "رقم السطر",
        "column": "الخانة", "value": "القيمة كما أرسلت", "severity": "الخطورة", "problem": "المشكل",
        "fix": "الإصلاح", "error": "خطأ: السطر غير مقبول حتى يصحح", "warning": "تنبيه: السطر مقبول، يرجى التحقق",
        "title": "أخطاء المعطيات المرسلة من المؤسسة {code} - {name}",
        "how": ("صححوا كل سطر في الملف المذكور (رقم السطر كما يظهر عند فتح الملف)، ثم أعيدوا إرسال الملف "
                "كاملا بنفس الاسم وفي نفس المجلد. الأخطاء المصححة تختفي عند التحميل الموالي."),
        "row_as_sent": "السطر كما أرسل:",
    },
    FR: {
        "school_year": "Année scolaire", "file": "Fichier", "sheet": "Feuille", "row": "Ligne",
        "column": "Colonne", "value": "Valeur envoyée", "severity": "Gravité", "problem": "Problème",
        "fix": "Correction", "error": "Erreur : ligne refusée tant qu'elle n'est pas corrigée",
        "warning": "Avertissement : ligne acceptée, à vérifier",
        "title": "Erreurs dans les données envoyées par l'établissement {code} - {name}",
        "how": ("Corrigez chaque ligne dans le fichier indiqué (numéro de ligne tel qu'il apparaît à "
                "l'ouverture du fichier), puis renvoyez le fichier complet sous le même nom, dans le même "
                "dossier. Les erreurs corrigées disparaissent au chargement suivant."),
        "row_as_sent": "Ligne telle qu'envoyée :",
    },
}


@dataclass
class FeedbackReport:
    """What `write_feedback` wrote."""

    school_workbooks: list[Path] = field(default_factory=list)
    directorate_workbooks: list[Path] = field(default_factory=list)
    issues: int = 0
    rejected_files: int = 0


@cache
def rejection_texts() -> dict[str, dict[str, str]]:
    """configs/file_rejections.yaml: kind -> {fr, ar}."""
    with (CONFIG_DIR / "file_rejections.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)["kinds"]


def rejection_text(kind: str | None, lang: str) -> str:
    fallback = {FR: "Fichier refusé : voir le motif.", AR: "الملف مرفوض: انظروا السبب."}
    return rejection_texts().get(kind or "", {}).get(lang, fallback[lang])


def _scope(province: str | None, school: str | None, year: str | None) -> dict:
    return {"province": province, "school": school, "year": year}


def open_issues(con: duckdb.DuckDBPyConnection, province: str | None = None, school: str | None = None,
                year: str | None = None) -> pd.DataFrame:
    """Open issues in the order a school works through them: file, sheet, row."""
    return SQL.query(con, "reports/open_issues.sql", _scope(province, school, year)).df()


def rows_as_sent(con: duckdb.DuckDBPyConnection, issues: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The raw rows the issues point at, one per (file, version, sheet, row), canonical columns as sent."""
    parts = []
    key = ["file_path", "file_version", "sheet", "row_number"]
    for record_type, group in issues.groupby("record_type"):
        cols = list(settings.record_types[record_type].columns)
        with registered(con, issue_rows=group[key].drop_duplicates()):
            frame = SQL.query(con, "reports/rows_as_sent.sql", table=f"raw.{record_type}").df()[key + cols]
        parts.append(frame.rename(columns={c: f"{record_type}.{c}" for c in cols}))
    if not parts:
        return pd.DataFrame(columns=key)
    return pd.concat(parts, ignore_index=True)


def rejected_files(con: duckdb.DuckDBPyConnection, province: str | None = None, school: str | None = None,
                   year: str | None = None) -> pd.DataFrame:
    """Files still in the landing zone whose latest version was rejected: to be sent again."""
    return SQL.query(con, "reports/rejected_files.sql", _scope(province, school, year)).df()


def missing_files(con: duckdb.DuckDBPyConnection, province: str | None = None, school: str | None = None,
                  year: str | None = None) -> pd.DataFrame:
    """Submissions expected from a school (open, concerned by the record type) and not received."""
    return SQL.query(con, "reports/missing_files.sql", _scope(province, school, year)).df()


def school_names(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, str]]:
    """school_code -> (name_ar, name_fr, province_code), current referential version."""
    rows = SQL.query(con, "reports/school_names.sql").fetchall()
    return {code: (ar or "", fr or "", prov or "") for code, ar, fr, prov in rows}


def write_feedback(con: duckdb.DuckDBPyConnection, out: Path, province: str | None = None,
                   school: str | None = None, school_year: str | None = None) -> FeedbackReport:
    """Write the school workbooks and the directorate summaries for the selection."""
    settings = load_settings()
    out = Path(out)
    report = FeedbackReport()
    issues = open_issues(con, province, school, school_year)
    rejected = rejected_files(con, province, school, school_year)
    missing = missing_files(con, province, school, school_year)
    names = school_names(con)
    report.issues, report.rejected_files = len(issues), len(rejected)

    school_issues = with_rows_as_sent(issues[issues["school_code"].notna()],
                                      rows_as_sent(con, issues[issues["school_code"].notna()], settings))
    empty = school_issues.iloc[:0]
    schools = sorted(set(school_issues["school_code"]) | set(rejected["school_code"].dropna()))
    by_school = dict(tuple(school_issues.groupby("school_code")))
    rejected_by_school = dict(tuple(rejected.groupby("school_code")))
    missing_by_school = dict(tuple(missing.groupby("school_code")))
    emit("feedback", f"feedback: {len(schools)} school workbook(s) to write", total=len(schools), done=0)
    for done, code in enumerate(schools, start=1):
        if done % 100 == 0 or done == len(schools):
            emit("feedback", f"feedback: {done} of {len(schools)} school workbooks", total=len(schools), done=done)
        name_ar, name_fr, prov = names.get(code, ("", "", ""))
        prov = prov or _first(rejected_by_school.get(code), "province_code") or "unplaced"
        path = out / prov / f"{code}.xlsx"
        _write_school(path, code, name_ar, name_fr, prov, by_school.get(code, empty),
                      rejected_by_school.get(code, rejected.iloc[:0]),
                      missing_by_school.get(code, missing.iloc[:0]), settings)
        report.school_workbooks.append(path)

    if school is None:
        provinces = sorted(set(issues["province_code"].dropna()) | set(rejected["province_code"].dropna())
                           | set(missing["province_code"].dropna()))
        for done, prov in enumerate(provinces, start=1):
            emit("feedback", f"feedback: directorate {prov} summary ({done} of {len(provinces)})",
                 total=len(provinces), done=done)
            mine = issues[issues["province_code"] == prov]
            own = mine[mine["school_code"].isna()]
            path = out / prov / f"direction_{prov}.xlsx"
            _write_directorate(path, prov, mine, with_rows_as_sent(own, rows_as_sent(con, own, settings)),
                               rejected[rejected["province_code"] == prov],
                               missing[missing["province_code"] == prov], names, settings)
            report.directorate_workbooks.append(path)
    return report


def _first(frame: pd.DataFrame | None, column: str) -> str | None:
    if frame is None or frame.empty:
        return None
    values = frame[column].dropna()
    return str(values.iloc[0]) if len(values) else None


# --- writing -------------------------------------------------------------------------------------


class _Book:
    """An xlsxwriter workbook that only ever writes values (no formulas, URLs or guessed numbers),
    renamed into place when closed."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.tmp = path, path.with_name(f".{path.name}.tmp")
        self.book = xlsxwriter.Workbook(str(self.tmp), {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
        self.bold = self.book.add_format({"bold": True})
        self.title = self.book.add_format({"bold": True, "font_size": 14})
        self.head = self.book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                          "valign": "top"})
        self.wrap = self.book.add_format({"text_wrap": True, "valign": "top"})
        self.error = self.book.add_format({"text_wrap": True, "valign": "top", "font_color": "#9C0006",
                                           "bg_color": "#FFC7CE"})
        self.warning = self.book.add_format({"text_wrap": True, "valign": "top", "font_color": "#9C5700",
                                             "bg_color": "#FFEB9C"})

    def sheet(self, name: str, rtl: bool):
        ws = self.book.add_worksheet(name)
        if rtl:
            ws.right_to_left()
        return ws

    def cell(self, ws, row: int, col: int, value, fmt=None) -> None:
        """Write one value as what it is: a number as a number, anything else as text."""
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            ws.write_string(row, col, str(value), fmt)
        else:
            ws.write_number(row, col, value, fmt)

    def table(self, ws, top: int, headers: list[str], rows: list[list], widths: list[int] | None = None,
              formats: list | None = None) -> int:
        """A header row and data rows from `top`; returns the next free row."""
        for c, h in enumerate(headers):
            ws.write_string(top, c, h, self.head)
            if widths:
                ws.set_column(c, c, widths[c] if c < len(widths) else 16)
        for r, values in enumerate(rows, start=top + 1):
            fmt = formats[r - top - 1] if formats else self.wrap
            for c, v in enumerate(values):
                self.cell(ws, r, c, v, fmt)
        if rows:
            ws.autofilter(top, 0, top + len(rows), len(headers) - 1)
        return top + len(rows) + 2

    def close(self) -> None:
        self.book.close()
        os.replace(self.tmp, self.path)


def _record_type_label(rt: str, lang: str, settings: Settings) -> str:
    return settings.record_types[rt].labels.get(lang, rt) if rt in settings.record_types else rt


def _column_label(rt: str, column: str | None, lang: str, settings: Settings) -> str:
    if not column:
        return ""
    spec = settings.record_types.get(rt)
    return spec.columns[column].label(lang) if spec and column in spec.columns else column


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """Join keys in one dtype each (a CSV row has no sheet: '')."""
    return frame.assign(sheet=frame["sheet"].fillna("").astype(str), file_version=frame["file_version"].astype("int64"),
                        row_number=frame["row_number"].astype("int64"))


def with_rows_as_sent(issues: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """Each issue next to the columns of its row as sent (`<record_type>.<column>`)."""
    keys = ["file_path", "file_version", "sheet", "row_number"]
    return _keyed(issues).merge(_keyed(raw), on=keys, how="left")


def _issue_sheet(book: _Book, lang: str, code: str, name: str, issues: pd.DataFrame, settings: Settings) -> None:
    """One line per issue (`issues` carry their rows as sent, see `with_rows_as_sent`)."""
    w = WORDS[lang]
    ws = book.sheet(SHEET_AR if lang == AR else SHEET_FR, rtl=lang == AR)
    ws.write_string(0, 0, w["title"].format(code=code, name=name), book.title)
    ws.write_string(1, 0, w["how"], book.wrap)
    ws.set_row(1, 45)
    catalogue = rules()
    # The row as sent: the canonical columns of the record types involved that hold a value in at
    # least one of these rows, labelled in `lang`.
    present = [rt for rt in RECORD_TYPES if rt in set(issues["record_type"])]
    sources = [f"{rt}.{col}" for rt in present for col in settings.record_types[rt].columns]
    merged = issues
    raw_cols, raw_heads = [], []
    for source in sources:
        if source not in merged or merged[source].isna().all():
            continue
        rt, col = source.split(".", 1)
        label = _column_label(rt, col, lang, settings)
        if label not in raw_heads:
            raw_heads.append(label)
            raw_cols.append([])
        raw_cols[raw_heads.index(label)].append(source)
    headers = [w["school_year"], w["file"], w["sheet"], w["row"], w["column"], w["value"], w["severity"],
               w["problem"], w["fix"]] + raw_heads
    rows, formats = [], []
    for rec in merged.to_dict("records"):
        rule = catalogue.get(rec["rule"])
        row = [rec["school_year"], rec["file_path"], rec["sheet"] or None, int(rec["row_number"]),
               _column_label(rec["record_type"], rec["column_name"], lang, settings), rec["raw_value"],
               w[rec["severity"]] if rec["severity"] in ("error", "warning") else rec["severity"],
               rec[f"message_{lang}"], rule.text("fix", lang) if rule else ""]
        for sources in raw_cols:
            row.append(next((rec[s] for s in sources if s in rec and isinstance(rec[s], str)), None))
        rows.append(row)
        formats.append(book.error if rec["severity"] == "error" else book.warning)
    if raw_heads:
        ws.write_string(3, len(headers) - len(raw_heads), w["row_as_sent"], book.bold)
    book.table(ws, 4, headers, rows, [11, 34, 12, 8, 18, 18, 22, 50, 40] + [16] * len(raw_heads), formats)
    ws.freeze_panes(5, 0)


def _summary_sheet(book: _Book, code: str, name_ar: str, name_fr: str, province: str, issues: pd.DataFrame,
                   rejected: pd.DataFrame, missing: pd.DataFrame, settings: Settings) -> None:
    ws = book.sheet(SHEET_SUMMARY, rtl=True)
    ws.write_string(0, 0, f"المؤسسة {code} - {name_ar}", book.title)
    ws.write_string(1, 0, f"Établissement {code} - {name_fr}", book.title)
    prov = settings.provinces.get(province)
    ws.write_string(2, 0, f"المديرية الإقليمية / Direction provinciale: {province}"
                    + (f" - {prov.name_ar} / {prov.name_fr}" if prov else ""))
    ws.write_string(3, 0, f"تاريخ الإعداد / Établi le: {datetime.now():%Y-%m-%d %H:%M}")
    catalogue = rules()
    counts = (issues.groupby(["rule", "severity"]).agg(issues=("rule", "size"), files=("file_path", "nunique"))
              .reset_index().sort_values(["severity", "issues"], ascending=[True, False]))
    rows = [[r.rule, catalogue[r.rule].title_ar if r.rule in catalogue else r.rule,
             catalogue[r.rule].title_fr if r.rule in catalogue else r.rule,
             WORDS[AR].get(r.severity, r.severity), int(r.issues), int(r.files)]
            for r in counts.itertuples()]
    top = book.table(ws, 5, ["Règle / القاعدة", "المشكل", "Problème", "الخطورة / Gravité",
                             "عدد الأسطر / Lignes", "عدد الملفات / Fichiers"], rows, [26, 36, 36, 30, 14, 14])
    if len(rejected):
        ws.write_string(top, 0, "ملفات مرفوضة يجب إعادة إرسالها / Fichiers refusés à renvoyer", book.bold)
        rows = [[r.school_year, r.file_path, rejection_text(r.error_kind, AR), rejection_text(r.error_kind, FR),
                 r.error] for r in rejected.itertuples()]
        top = book.table(ws, top + 1, ["السنة / Année", "الملف / Fichier", "السبب", "Motif",
                                       "Détail technique"], rows)
    if len(missing):
        ws.write_string(top, 0, "ملفات منتظرة لم يتم التوصل بها / Fichiers attendus non reçus", book.bold)
        rows = [[r.school_year, _record_type_label(r.record_type, AR, settings),
                 _record_type_label(r.record_type, FR, settings), r.period] for r in missing.itertuples()]
        book.table(ws, top + 1, ["السنة / Année", "نوع الملف", "Type de fichier", "الشهر / Mois"], rows)


def _write_school(path: Path, code: str, name_ar: str, name_fr: str, province: str, issues: pd.DataFrame,
                  rejected: pd.DataFrame, missing: pd.DataFrame, settings: Settings) -> None:
    book = _Book(path)
    try:
        _summary_sheet(book, code, name_ar, name_fr, province, issues, rejected, missing, settings)
        _issue_sheet(book, AR, code, name_ar, issues, settings)
        _issue_sheet(book, FR, code, name_fr, issues, settings)
    finally:
        book.close()


def _write_directorate(path: Path, province: str, issues: pd.DataFrame, own: pd.DataFrame, rejected: pd.DataFrame, missing: pd.DataFrame,
                       names: dict, settings: Settings) -> None:
    """Counts per school and rule, never a pupil's row: those stay in each school's workbook."""
    book = _Book(path)
    try:
        catalogue = rules()
        ws = book.sheet("Écoles x règles", rtl=False)
        prov = settings.provinces.get(province)
        ws.write_string(0, 0, f"Direction provinciale {province}" + (f" - {prov.name_fr}" if prov else "")
                        + " : erreurs ouvertes par établissement et par règle", book.title)
        school_rows = issues[issues["school_code"].notna()]
        matrix = (school_rows.pivot_table(index="school_code", columns="rule", values="severity", aggfunc="size",
                                          fill_value=0) if len(school_rows) else pd.DataFrame())
        rule_ids = [r for r in catalogue if r in matrix.columns]
        codes = sorted(set(matrix.index) | set(rejected["school_code"].dropna()) | set(missing["school_code"]))
        rej = rejected.groupby("school_code").size()
        mis = missing.groupby("school_code").size()
        errors = school_rows[school_rows["severity"] == "error"].groupby("school_code").size()
        warnings = school_rows[school_rows["severity"] == "warning"].groupby("school_code").size()
        rows = []
        for code in codes:
            name_ar, name_fr, _ = names.get(code, ("", "", ""))
            rows.append([code, name_fr, name_ar, int(errors.get(code, 0)), int(warnings.get(code, 0)),
                         int(rej.get(code, 0)), int(mis.get(code, 0))]
                        + [int(matrix.at[code, r]) if code in matrix.index else 0 for r in rule_ids])
        headers = ["Établissement", "Nom", "الاسم", "Erreurs", "Avertissements", "Fichiers refusés",
                   "Fichiers non reçus"] + [catalogue[r].title_fr for r in rule_ids]
        book.table(ws, 2, headers, rows, [10, 30, 30, 10, 14, 12, 12] + [14] * len(rule_ids))
        ws.freeze_panes(3, 3)

        ws = book.sheet("Fichiers refusés", rtl=False)
        book.table(ws, 0, ["Année", "Établissement", "Type", "Mois", "Fichier", "Motif", "Détail technique"],
                   [[r.school_year, r.school_code, _record_type_label(r.record_type, FR, settings)
                     if r.record_type else "", r.period, r.file_path, rejection_text(r.error_kind, FR), r.error]
                    for r in rejected.itertuples()], [11, 12, 24, 9, 40, 50, 60])

        ws = book.sheet("Fichiers non reçus", rtl=False)
        book.table(ws, 0, ["Année", "Établissement", "Nom", "Type de fichier", "Mois"],
                   [[r.school_year, r.school_code, names.get(r.school_code, ("", "", ""))[1],
                     _record_type_label(r.record_type, FR, settings), r.period] for r in missing.itertuples()],
                   [11, 12, 30, 30, 9])

        if len(own):
            _issue_sheet(book, FR, province, "fichiers de la direction (opérateur de paiement)", own, settings)
    finally:
        book.close()
