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

The open issues are read a batch of schools at a time; with many schools, worker processes write
the workbooks from the rows the parent read (they never open the warehouse).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Self

import duckdb
import pandas as pd
import xlsxwriter

from daam.config import RECORD_TYPES, Settings, load_settings, read_yaml
from daam.progress import emit
from daam.sqlfiles import registered
from quality_checks.catalogue import rules
from warehouse.build.workers import worker_pool
from warehouse.schema import SQL

PARALLEL_THRESHOLD = 40  # fewer school workbooks: starting worker processes costs more than it saves
BATCH = 20_000  # open issues read at a time: a nation's, with their rows as sent, take gigabytes as Python objects
ISSUE_COLUMNS = ("school_year", "province_code", "school_code", "record_type", "file_path", "file_version", "sheet",
                 "row_number", "column_name", "raw_value", "severity", "rule", "message_fr", "message_ar")
KEY = ["file_path", "file_version", "sheet", "row_number"]

AR, FR = "ar", "fr"
SHEET_SUMMARY, SHEET_AR, SHEET_FR = "ملخص - Résumé", "الأخطاء", "Erreurs"

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
    return read_yaml("file_rejections.yaml")["kinds"]


def rejection_text(kind: str | None, lang: str) -> str:
    fallback = {FR: "Fichier refusé : voir le motif.", AR: "الملف مرفوض: انظروا السبب."}
    return rejection_texts().get(kind or "", {}).get(lang, fallback[lang])


def _scope(province: str | None, school: str | None, year: str | None) -> dict:
    return {"province": province, "school": school, "year": year}


def open_issues(con: duckdb.DuckDBPyConnection, province: str | None = None, school: str | None = None,
                year: str | None = None) -> pd.DataFrame:
    """Open issues in the order a school works through them: file, sheet, row."""
    return SQL.query(con, "reports/open_issues.sql", _scope(province, school, year)).df()


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


def issue_counts(con: duckdb.DuckDBPyConnection, scope: dict) -> list[tuple]:
    """(province, school, record type, rule, severity, open issues) over the selection."""
    return SQL.execute(con, "select province_code, school_code, record_type, rule, severity, count(*)\n"
                       f"from ({SQL.text('reports/open_issues.sql')}\n) group by all", scope).fetchall()


def _key(file_path: str, file_version: int, sheet: str | None, row_number: int) -> tuple:
    return file_path, int(file_version), "" if sheet is None else str(sheet), int(row_number)


def _stage_rows_as_sent(con: duckdb.DuckDBPyConnection, scope: dict, tables: dict[str, str],
                        settings: Settings) -> None:
    """Into temporary `tables` (record type -> table), the key and canonical columns of the raw rows
    the selection's open issues point at: each raw table is read once per run, not once per batch."""
    keys = ", ".join(KEY)
    SQL.execute(con, f"create or replace temp table feedback_keys as select distinct record_type, {keys}\n"
                f"from ({SQL.text('reports/open_issues.sql')}\n)", scope)
    for record_type, table in tables.items():
        columns = ", ".join(f'"{c}"' for c in KEY + list(settings.record_types[record_type].columns))
        SQL.execute(con, f"create or replace temp table issue_rows as select {keys} from feedback_keys "
                    "where record_type = $record_type", {"record_type": record_type})
        SQL.execute(con, f"create or replace temp table {table} as select {columns}\n"
                    f"from ({SQL.text('reports/rows_as_sent.sql', table=f'raw.{record_type}')}\n)")
    for name in ("issue_rows", "feedback_keys"):
        SQL.execute(con, f"drop table if exists {name}")


def rows_as_sent(con: duckdb.DuckDBPyConnection, issues: list[tuple], tables: dict[str, str]) -> dict[tuple, list]:
    """The raw rows the issues (tuples of ISSUE_COLUMNS) point at, from the `tables` staged for them:
    (file, version, sheet, row) -> [(record type, canonical columns as sent)]."""
    wanted = defaultdict(set)
    for i in issues:
        if i[3] is not None:
            wanted[i[3]].add((i[4], i[5], i[6], i[7]))
    found = defaultdict(list)
    for record_type in sorted(wanted):
        keys = pd.DataFrame(list(wanted[record_type]), columns=KEY).astype({"sheet": "str"})  # None: VARCHAR null
        with registered(con, issue_rows=keys):
            for row in SQL.query(con, "reports/rows_as_sent.sql", table=tables[record_type]).fetchall():
                found[_key(*row[:4])].append((record_type, row[4:]))
    return found


def issues_by_school(con: duckdb.DuckDBPyConnection, scope: dict, record_types: list[str],
                     settings: Settings) -> Iterator[tuple[str | None, list]]:
    """(school, lines) in the order of open_issues.sql, read BATCH issues at a time; a line is an
    issue (a tuple of ISSUE_COLUMNS) and the row it points at as sent (`rows_as_sent`, None when
    not found; a line per row found). The directorates' own files' issues come under school None."""
    tables = {rt: f"feedback_rows_{rt}" for rt in record_types}
    cursor = None
    try:
        _stage_rows_as_sent(con, scope, tables, settings)
        cursor = SQL.query(con.cursor(), "reports/open_issues.sql", scope)  # its own connection: `con` is used meanwhile
        names = [d[0] for d in cursor.description]
        pick = itemgetter(*(names.index(c) for c in ISSUE_COLUMNS))
        held, seen = [], set()
        while True:
            fetched = cursor.fetchmany(BATCH)
            held += map(pick, fetched)
            cut = len(held)
            if fetched:  # the last school read may go on in the next batch
                while cut and held[cut - 1][2] == held[-1][2]:
                    cut -= 1
                if not cut:
                    continue
            ready, held = held[:cut], held[cut:]
            raw = rows_as_sent(con, ready, tables)
            for school, issues in groupby(ready, key=itemgetter(2)):
                if school is not None and school in seen:
                    raise RuntimeError(f"reports/open_issues.sql must order the issues by school ({school})")
                seen.add(school)
                yield school, [(i, r) for i in issues for r in raw.get(_key(*i[4:8])) or [None]]
            if not fetched:
                return
    finally:
        if cursor is not None:
            cursor.close()
        for table in [*tables.values(), "issue_rows", "feedback_keys"]:
            SQL.execute(con, f"drop table if exists {table}")


def write_feedback(con: duckdb.DuckDBPyConnection, out: Path, province: str | None = None,
                   school: str | None = None, school_year: str | None = None) -> FeedbackReport:
    """Write the school workbooks and the directorate summaries for the selection, in worker
    processes from PARALLEL_THRESHOLD schools on."""
    settings = load_settings()
    out = Path(out)
    scope = _scope(province, school, school_year)
    stamp = f"{datetime.now():%Y-%m-%d %H:%M}"
    counts = issue_counts(con, scope)
    rejected = rejected_files(con, province, school, school_year)
    missing = missing_files(con, province, school, school_year)
    names = school_names(con)
    report = FeedbackReport(issues=sum(c[-1] for c in counts), rejected_files=len(rejected))

    rejected_by_school = dict(tuple(rejected.groupby("school_code")))
    missing_by_school = dict(tuple(missing.groupby("school_code")))
    schools = sorted({c[1] for c in counts if c[1] is not None} | set(rejected["school_code"].dropna()))
    heads = {}
    for code in schools:
        name_ar, name_fr, prov = names.get(code, ("", "", ""))
        prov = prov or _first(rejected_by_school.get(code), "province_code") or "unplaced"
        heads[code] = (out / prov / f"{code}.xlsx", code, name_ar, name_fr, prov)
    report.school_workbooks = [heads[code][0] for code in schools]

    def school_args(code: str, lines: list) -> tuple:
        return (*heads.pop(code), lines, _rejected_rows(rejected_by_school.get(code)),
                _missing_rows(missing_by_school.get(code), settings), stamp)

    written = {"schools": 0, "directorates": 0}

    def school_written() -> None:
        written["schools"] += 1
        if written["schools"] % 100 == 0 or written["schools"] == len(schools):
            emit("feedback", f"feedback: {written['schools']} of {len(schools)} school workbooks",
                 total=len(schools), done=written["schools"])

    def directorate_written(prov: str, total: int) -> None:
        written["directorates"] += 1
        emit("feedback", f"feedback: directorate {prov} summary ({written['directorates']} of {total})",
             total=total, done=written["directorates"])

    emit("feedback", f"feedback: {len(schools)} school workbook(s) to write", total=len(schools), done=0)
    record_types = sorted({c[2] for c in counts if c[2] is not None})
    own = defaultdict(list)
    with worker_pool(len(schools), PARALLEL_THRESHOLD) as pool:
        writer = _Writer(pool, ahead=2 * BATCH)
        try:
            with closing(issues_by_school(con, scope, record_types, settings)) as by_school:
                for code, lines in by_school:
                    if code is None:
                        for line in lines:
                            own[line[0][1]].append(line)
                    else:
                        writer.submit(_write_school, school_args(code, lines), len(lines), school_written)
            for code in sorted(heads):  # rejected files and no open issue
                writer.submit(_write_school, school_args(code, []), 1, school_written)

            if school is None:
                provinces = sorted({c[0] for c in counts if c[0] is not None}
                                   | set(rejected["province_code"].dropna()) | set(missing["province_code"].dropna()))
                by_province = defaultdict(list)
                for prov, code, _, rule, severity, n in counts:
                    by_province[prov].append((code, rule, severity, n))
                for prov in provinces:
                    path = out / prov / f"direction_{prov}.xlsx"
                    tables = _directorate_tables(prov, by_province[prov], rejected[rejected["province_code"] == prov],
                                                 missing[missing["province_code"] == prov], names, settings)
                    writer.submit(_write_directorate, (path, prov, *tables, own.get(prov, [])),
                                  len(own.get(prov, [])), partial(directorate_written, prov, len(provinces)))
                    report.directorate_workbooks.append(path)
            writer.finish()
        except BaseException:
            writer.abandon()
            raise
    return report


class _Writer:
    """Runs the workbook writes in `pool` (in this process when None) with at most `ahead` lines of
    issues handed out and not yet written (memory), and calls each write's `done` in this process
    once it is written."""

    def __init__(self, pool: Executor | None, ahead: int):
        self.pool, self.ahead = pool, ahead
        self.pending: dict[Future, tuple[int, Callable[[], None]]] = {}
        self.queued = 0

    def submit(self, fn: Callable, args: tuple, weight: int, done: Callable[[], None]) -> None:
        if self.pool is None:
            fn(*args)
            done()
            return
        while self.pending and self.queued + weight > self.ahead:
            self._collect()
        self.pending[self.pool.submit(fn, *args)] = (weight, done)
        self.queued += weight

    def finish(self) -> None:
        while self.pending:
            self._collect()

    def abandon(self) -> None:
        """Cancel the writes not started and wait for the others: nothing writes any more."""
        for future in self.pending:
            future.cancel()
        wait(self.pending)
        self.pending.clear()

    def _collect(self) -> None:
        finished, _ = wait(self.pending, return_when=FIRST_COMPLETED)
        for future in finished:
            weight, done = self.pending.pop(future)
            self.queued -= weight
            future.result()  # a worker's error is raised here
            done()


def _first(frame: pd.DataFrame | None, column: str) -> str | None:
    if frame is None or frame.empty:
        return None
    values = frame[column].dropna()
    return str(values.iloc[0]) if len(values) else None


def _rejected_rows(rejected: pd.DataFrame | None) -> list[list]:
    if rejected is None:
        return []
    return [[r.school_year, r.file_path, rejection_text(r.error_kind, AR), rejection_text(r.error_kind, FR), r.error]
            for r in rejected.itertuples()]


def _missing_rows(missing: pd.DataFrame | None, settings: Settings) -> list[list]:
    if missing is None:
        return []
    return [[r.school_year, _record_type_label(r.record_type, AR, settings),
             _record_type_label(r.record_type, FR, settings), r.period] for r in missing.itertuples()]


def _directorate_tables(province: str, counts: list[tuple], rejected: pd.DataFrame, missing: pd.DataFrame,
                        names: dict, settings: Settings) -> tuple[list, list, list, list]:
    """The directorate's tables: schools x rules (rules, rows), rejected files, files not received."""
    catalogue = rules()
    matrix, severities = defaultdict(int), defaultdict(int)
    for code, rule, severity, n in counts:
        if code is None:
            continue
        if rule is not None:
            matrix[code, rule] += n
        severities[code, severity] += n
    in_matrix = {code for code, _ in matrix}
    rule_ids = [r for r in catalogue if r in {rule for _, rule in matrix}]
    codes = sorted(in_matrix | set(rejected["school_code"].dropna()) | set(missing["school_code"]))
    rej = rejected.groupby("school_code").size()
    mis = missing.groupby("school_code").size()
    rows = []
    for code in codes:
        name_ar, name_fr, _ = names.get(code, ("", "", ""))
        rows.append([code, name_fr, name_ar, severities[code, "error"], severities[code, "warning"],
                     int(rej.get(code, 0)), int(mis.get(code, 0))] + [matrix[code, r] for r in rule_ids])
    rejected_rows = [[r.school_year, r.school_code, _record_type_label(r.record_type, FR, settings)
                      if r.record_type else "", r.period, r.file_path, rejection_text(r.error_kind, FR), r.error]
                     for r in rejected.itertuples()]
    missing_rows = [[r.school_year, r.school_code, names.get(r.school_code, ("", "", ""))[1],
                     _record_type_label(r.record_type, FR, settings), r.period] for r in missing.itertuples()]
    return [catalogue[r].title_fr for r in rule_ids], rows, rejected_rows, missing_rows


# --- writing -------------------------------------------------------------------------------------


class _Book:
    """An xlsxwriter workbook that only ever writes values (no formulas, URLs or guessed numbers),
    renamed into place when it ends without an error (deleted otherwise)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.tmp = path, path.with_name(f".{path.name}.tmp")
        # in_memory: the sheets' XML is zipped from memory rather than from temporary files (faster)
        self.book = xlsxwriter.Workbook(str(self.tmp), {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True})
        self.bold = self.book.add_format({"bold": True})
        self.title = self.book.add_format({"bold": True, "font_size": 14})
        self.head = self.book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                          "valign": "top"})
        self.wrap = self.book.add_format({"text_wrap": True, "valign": "top"})
        self.error = self.book.add_format({"text_wrap": True, "valign": "top", "font_color": "#9C0006",
                                           "bg_color": "#FFC7CE"})
        self.warning = self.book.add_format({"text_wrap": True, "valign": "top", "font_color": "#9C5700",
                                             "bg_color": "#FFEB9C"})

    def __enter__(self) -> Self:
        return self

    def __exit__(self, error_type, *_) -> None:
        try:
            self.book.close()
            if error_type is None:
                os.replace(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)

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
        write_string, write_number, cell = ws.write_string, ws.write_number, self.cell
        for r, values in enumerate(rows, start=top + 1):
            fmt = formats[r - top - 1] if formats else self.wrap
            for c, v in enumerate(values):
                # the common types first, as `cell` would write them
                if v is None:
                    continue
                if v.__class__ is str:
                    write_string(r, c, v, fmt)
                elif v.__class__ is int:
                    write_number(r, c, v, fmt)
                else:
                    cell(ws, r, c, v, fmt)
        if rows:
            ws.autofilter(top, 0, top + len(rows), len(headers) - 1)
        return top + len(rows) + 2


def _record_type_label(rt: str, lang: str, settings: Settings) -> str:
    return settings.record_types[rt].labels.get(lang, rt) if rt in settings.record_types else rt


def _column_label(rt: str, column: str | None, lang: str, settings: Settings) -> str:
    if not column:
        return ""
    spec = settings.record_types.get(rt)
    return spec.columns[column].label(lang) if spec and column in spec.columns else column


def _issue_sheet(book: _Book, lang: str, code: str, name: str, lines: list, settings: Settings) -> None:
    """One line per issue and row as sent (see `issues_by_school`)."""
    w = WORDS[lang]
    ws = book.sheet(SHEET_AR if lang == AR else SHEET_FR, rtl=lang == AR)
    ws.write_string(0, 0, w["title"].format(code=code, name=name), book.title)
    ws.write_string(1, 0, w["how"], book.wrap)
    ws.set_row(1, 45)
    catalogue = rules()
    # The row as sent: the canonical columns of the record types involved that hold a value in at
    # least one of these rows, labelled in `lang`.
    kinds = {issue[3] for issue, _ in lines}
    filled = set()
    for _, raw in lines:
        if raw is not None and raw[0] in kinds:
            filled.update((raw[0], c) for c, v in enumerate(raw[1]) if v is not None)
    raw_heads, raw_cols = [], []
    for rt in RECORD_TYPES:
        if rt not in kinds:
            continue
        for c, col in enumerate(settings.record_types[rt].columns):
            if (rt, c) not in filled:
                continue
            label = _column_label(rt, col, lang, settings)
            if label not in raw_heads:
                raw_heads.append(label)
                raw_cols.append([])
            raw_cols[raw_heads.index(label)].append((rt, c))
    headers = [w["school_year"], w["file"], w["sheet"], w["row"], w["column"], w["value"], w["severity"],
               w["problem"], w["fix"]] + raw_heads
    # per record type, per column shown: where its value may be (the first text one is shown)
    candidates = {rt: [[c for s, c in sources if s == rt] for sources in raw_cols] for rt in kinds}
    blank = [None] * len(raw_cols)
    column_labels, fixes = {}, {}
    words = {"error": w["error"], "warning": w["warning"]}
    message = 13 if lang == AR else 12
    rows, formats = [], []
    for issue, raw in lines:
        year, _, _, rt, path, _, sheet, row_number, column, value, severity, rule_id = issue[:12]
        if (rt, column) not in column_labels:
            column_labels[rt, column] = _column_label(rt, column, lang, settings)
        if rule_id not in fixes:
            rule = catalogue.get(rule_id)
            fixes[rule_id] = rule.text("fix", lang) if rule else ""
        row = [year, path, sheet or None, int(row_number), column_labels[rt, column], value,
               words.get(severity, severity), issue[message], fixes[rule_id]]
        if raw is None or raw[0] not in candidates:
            row += blank
        else:
            values = raw[1]
            for cols in candidates[raw[0]]:
                shown = None
                for c in cols:
                    if isinstance(values[c], str):
                        shown = values[c]
                        break
                row.append(shown)
        rows.append(row)
        formats.append(book.error if severity == "error" else book.warning)
    if raw_heads:
        ws.write_string(3, len(headers) - len(raw_heads), w["row_as_sent"], book.bold)
    book.table(ws, 4, headers, rows, [11, 34, 12, 8, 18, 18, 22, 50, 40] + [16] * len(raw_heads), formats)
    ws.freeze_panes(5, 0)


def _summary_sheet(book: _Book, code: str, name_ar: str, name_fr: str, province: str, lines: list,
                   rejected: list[list], missing: list[list], stamp: str, settings: Settings) -> None:
    ws = book.sheet(SHEET_SUMMARY, rtl=True)
    ws.write_string(0, 0, f"المؤسسة {code} - {name_ar}", book.title)
    ws.write_string(1, 0, f"Établissement {code} - {name_fr}", book.title)
    prov = settings.provinces.get(province)
    ws.write_string(2, 0, f"المديرية الإقليمية / Direction provinciale: {province}"
                    + (f" - {prov.name_ar} / {prov.name_fr}" if prov else ""))
    ws.write_string(3, 0, f"تاريخ الإعداد / Établi le: {stamp}")
    catalogue = rules()
    counts: dict[tuple, list] = {}
    for issue, _ in lines:
        rule, severity = issue[11], issue[10]
        if rule is not None and severity is not None:
            counts.setdefault((rule, severity), [0, set()])
            counts[rule, severity][0] += 1
            counts[rule, severity][1].add(issue[4])
    # by severity, then the most frequent first, then by rule
    ordered = sorted(sorted(counts.items()), key=lambda kv: (kv[0][1], -kv[1][0]))
    rows = [[rule, catalogue[rule].title_ar if rule in catalogue else rule,
             catalogue[rule].title_fr if rule in catalogue else rule,
             WORDS[AR].get(severity, severity), n, len(files)] for (rule, severity), (n, files) in ordered]
    top = book.table(ws, 5, ["Règle / القاعدة", "المشكل", "Problème", "الخطورة / Gravité",
                             "عدد الأسطر / Lignes", "عدد الملفات / Fichiers"], rows, [26, 36, 36, 30, 14, 14])
    if rejected:
        ws.write_string(top, 0, "ملفات مرفوضة يجب إعادة إرسالها / Fichiers refusés à renvoyer", book.bold)
        top = book.table(ws, top + 1, ["السنة / Année", "الملف / Fichier", "السبب", "Motif",
                                       "Détail technique"], rejected)
    if missing:
        ws.write_string(top, 0, "ملفات منتظرة لم يتم التوصل بها / Fichiers attendus non reçus", book.bold)
        book.table(ws, top + 1, ["السنة / Année", "نوع الملف", "Type de fichier", "الشهر / Mois"], missing)


def _write_school(path: Path, code: str, name_ar: str, name_fr: str, province: str, lines: list,
                  rejected: list[list], missing: list[list], stamp: str) -> None:
    settings = load_settings()
    with _Book(path) as book:
        _summary_sheet(book, code, name_ar, name_fr, province, lines, rejected, missing, stamp, settings)
        _issue_sheet(book, AR, code, name_ar, lines, settings)
        _issue_sheet(book, FR, code, name_fr, lines, settings)


def _write_directorate(path: Path, province: str, rule_titles: list[str], schools: list[list],
                       rejected: list[list], missing: list[list], own: list) -> None:
    """Counts per school and rule, never a pupil's row: those stay in each school's workbook."""
    settings = load_settings()
    with _Book(path) as book:
        ws = book.sheet("Écoles x règles", rtl=False)
        prov = settings.provinces.get(province)
        ws.write_string(0, 0, f"Direction provinciale {province}" + (f" - {prov.name_fr}" if prov else "")
                        + " : erreurs ouvertes par établissement et par règle", book.title)
        headers = ["Établissement", "Nom", "الاسم", "Erreurs", "Avertissements", "Fichiers refusés",
                   "Fichiers non reçus"] + rule_titles
        book.table(ws, 2, headers, schools, [10, 30, 30, 10, 14, 12, 12] + [14] * len(rule_titles))
        ws.freeze_panes(3, 3)

        ws = book.sheet("Fichiers refusés", rtl=False)
        book.table(ws, 0, ["Année", "Établissement", "Type", "Mois", "Fichier", "Motif", "Détail technique"],
                   rejected, [11, 12, 24, 9, 40, 50, 60])

        ws = book.sheet("Fichiers non reçus", rtl=False)
        book.table(ws, 0, ["Année", "Établissement", "Nom", "Type de fichier", "Mois"], missing, [11, 12, 30, 30, 9])

        if own:
            _issue_sheet(book, FR, province, "fichiers de la direction (opérateur de paiement)", own, settings)
