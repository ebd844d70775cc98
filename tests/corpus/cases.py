"""The hostile corpus: every case is one landing file (plus, when it refers to pupils, a clean roster
of its own school) with the exact outcome the landing-zone contract (sections 3, 4, 7, 8) gives it.

Every case has its own school code (or its own province file), so no case can supersede, duplicate
or re-admit another's rows. Row numbers are those a person sees: the CSV line (header = line 1,
preamble lines counted) or the spreadsheet row.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from daam.codes import make_school_code
from tests.corpus.builders import (
    bom,
    csv_bytes,
    entity_bomb_xlsx,
    grid,
    lying_zip_bomb_xlsx,
    xlsx_bytes,
    zip_bomb_xlsx,
)

YEAR = "2022-2023"
PROVINCE = "110"
MIB = 1 << 20

# (rule, sheet, row number, column, raw value)
Issue = tuple[str, str | None, int, str | None, str | None]
# (rows_read, rows_loaded, rows_quarantined, rows_warned)
Counts = tuple[int | None, int | None, int | None, int | None]
REJECTED: Counts = (None, None, None, None)

# Facts checked per case: a query on `$path` whose rows must equal the case's expected set.
FACT_QUERIES = {
    "enrolment": """
        select i.massar_code, i.last_name_ar, i.first_name_ar, i.birth_date::varchar, e.level_code, e.gender,
               e.sheet, e.row_number
        from core.fct_enrolment e
        join core.pupil_identity i on i.pupil_key = e.pupil_key and i.school_code = e.school_code
                                  and i.school_year = e.school_year
        where e.file_path = $path""",
    "identity_place": """
        select i.massar_code, i.last_name_ar, i.birth_place
        from core.fct_enrolment e
        join core.pupil_identity i on i.pupil_key = e.pupil_key and i.school_code = e.school_code
        where e.file_path = $path""",
    "class": "select sheet, row_number, level_code, class_name from core.fct_enrolment where file_path = $path",
    "attendance": """
        select row_number, unjustified_absence_days, justified_absence_days, school_days
        from core.fct_attendance where file_path = $path""",
    "payments": """
        select row_number, payment_ref, school_code, amount_mad::double, status, period_from, period_to
        from core.fct_tayssir_payment where file_path = $path""",
    "raw_extra": "select row_number, extra from raw.students where file_path = $path",
    "schoolbags": "select level_code, eligible, kits_requested from core.fct_schoolbag where file_path = $path",
    "grants": "select row_number, grant_type from core.fct_boarding_grant where file_path = $path",
    "enrolment_flags": """
        select row_number, level_code, class_name, is_repeating, boarding_status, has_disability
        from core.fct_enrolment where file_path = $path""",
}


@dataclass
class Case:
    id: str
    path: str                              # the file under test, relative to the landing root
    data: bytes | None                     # None: `setup` makes the file (links, sparse files)
    status: str                            # loaded | rejected | duplicate
    counts: Counts = REJECTED
    issues: frozenset[Issue] = frozenset()
    error: str | None = None               # the exact reason of a rejected file
    error_prefix: str | None = None        # ... or how it begins, when the rest is a long fixed hint
    kind: str | None = None                # the reader's error_kind for the file (None: read fine / never read)
    manifest_kind: str | None = None       # the manifest's error_kind when the reader is not the one refusing
    encoding: str | None = None            # how a loaded file was decoded
    extra_columns: str | None = None
    duplicate_of: str | None = None
    facts: tuple[str, frozenset] | None = None
    manifest_path: str | None = None       # the path as the manifest shows it (escaped bad names)
    support: dict[str, bytes] = field(default_factory=dict)  # clean files the case refers to
    setup: Callable[[Path, Path], None] | None = None      # (landing root, a folder outside it)
    unread: bool = False                   # refused at the scan without opening the file


@dataclass
class School:
    code: str
    boarding: bool = True
    canteen: bool = True
    cycle: str = "PRIMAIRE"


class _Alloc:
    def __init__(self) -> None:
        self.schools: list[School] = []
        self._pupil = 300_000_000

    def school(self, **flags) -> str:
        s = School(make_school_code(31001 + len(self.schools)), **flags)
        self.schools.append(s)
        return s.code

    def pupil(self, letter: str = "K") -> str:
        self._pupil += 1
        return f"{letter}{self._pupil:09d}"


A = _Alloc()
CASES: list[Case] = []


def add(case: Case) -> Case:
    CASES.append(case)
    return case


def fs(*items) -> frozenset:
    return frozenset(items)


def students(code: str) -> str:
    return f"{YEAR}/students/{code}.csv"


def monthly(record_type: str, month: str, code: str, ext: str = "csv") -> str:
    return f"{YEAR}/{record_type}/{month}/{code}.{ext}"


AR_HEADER = ["رقم التلميذ", "النسب", "الإسم", "النوع", "تاريخ الازدياد", "المستوى"]
CANON_HEADER = ["massar_code", "last_name_ar", "first_name_ar", "gender", "birth_date", "level"]
# Names with every Arabic letter form that a wrong code page or a careless fold would damage:
# hamza on alef above and below, madda, ta marbuta, alef maqsura, shadda-free compound names.
NAMES = [("الإدريسي", "فاطمة الزهراء"), ("بن علي", "أحمد"), ("آيت الطالب", "إيمان"), ("الحسني", "مصطفى"),
         ("العلوي", "حمزة"), ("أوعلي", "يحيى"), ("المرابط", "عائشة")]


def pupils(n: int, level: str = "3AP", birth: str = "2014-05-03") -> list[list[str]]:
    """n clean roster rows (canonical order) with Arabic names; 3AP pupils born 2014 are 8 at 1 Sept 2022."""
    return [[A.pupil(), *NAMES[i % len(NAMES)], "ذكر" if i % 2 else "أنثى", birth, level] for i in range(n)]


def roster_for(code: str, rows: list[list[str]]) -> dict[str, bytes]:
    """A clean roster file (support) for the pupils a case refers to."""
    return {students(code): csv_bytes([CANON_HEADER, *rows])}


def enrolment(rows: list[list[str]], first_line: int = 2, gender=None, sheet=None) -> frozenset:
    g = {"ذكر": "M", "أنثى": "F"}
    return fs(*((r[0], r[1], r[2], r[4], r[5], g[r[3]], sheet, first_line + i) for i, r in enumerate(rows)))


# --- encodings: Arabic names arrive intact ------------------------------------------------------

for case_id, codec, prefix, delimiter, encoding in [
    ("enc_utf8_bom", "utf-8", bom("utf-8"), ",", "utf-8-sig"),
    ("enc_utf8", "utf-8", b"", ",", "utf-8"),
    ("enc_utf16le_bom", "utf-16-le", bom("utf-16-le"), "\t", "utf-16"),
    ("enc_utf16be_bom", "utf-16-be", bom("utf-16-be"), "\t", "utf-16"),
    ("enc_utf16le_no_bom", "utf-16-le", b"", "\t", "utf-16"),
    ("enc_windows_1256", "cp1256", b"", ";", "cp1256"),
]:
    code = A.school()
    rows = pupils(3)
    add(Case(case_id, students(code), prefix + csv_bytes([AR_HEADER, *rows], delimiter, codec, "\r\n"),
             "loaded", (3, 3, 0, 0), encoding=encoding, facts=("enrolment", enrolment(rows))))

code = A.school()
add(Case("enc_utf32_refused", students(code), bom("utf-32-le") + csv_bytes([AR_HEADER, *pupils(2)], encoding="utf-32-le"),
         "rejected", error="text encoding not allowed: UTF-32 (use UTF-8, UTF-16 or Windows-1256)",
         kind="encoding_not_allowed"))

code = A.school()
add(Case("enc_iso8859_6_refused", students(code), csv_bytes([AR_HEADER, *pupils(4)], encoding="iso8859_6"),
         "rejected", kind="encoding_not_allowed",
         # never quotes the text it could not read (it may be a pupil's name)
         error="text encoding not allowed: neither UTF-8, UTF-16 nor Windows-1256 (from line 1 on, its words read "
               "as a mix of Arabic and Latin letters) (use UTF-8, UTF-16 or Windows-1256)"))

code = A.school()
_rows = pupils(3)
add(Case("enc_utf8_with_windows_line", students(code),
         csv_bytes([AR_HEADER, *_rows[:2]]) + csv_bytes(_rows[2:], encoding="cp1256"),
         "rejected", kind="encoding_not_allowed",
         error="text encoding not allowed: mostly UTF-8 but with invalid bytes (first on line 4), probably edited "
               "in two encodings; save it again as UTF-8"))

code = A.school()
add(Case("enc_utf8_bom_but_windows_bytes", students(code), bom("utf-8") + csv_bytes([CANON_HEADER, *pupils(2)],
                                                                                      encoding="cp1256"),
         "rejected", kind="encoding_not_allowed",
         error="text encoding not allowed: a UTF-8 mark but invalid UTF-8 bytes (byte 74) "
               "(use UTF-8, UTF-16 or Windows-1256)"))

# --- delimiters, quoting, line ends -------------------------------------------------------------

code = A.school()
_rows = pupils(3)
_shown = [[*r[:4], f"{r[4][8:]}-{r[4][5:7]}-{r[4][:4]}", r[5]] for r in _rows]  # dd-mm-yyyy
add(Case("delim_semicolon_crlf_ddmmyyyy", students(code), csv_bytes([AR_HEADER, *_shown], ";", newline="\r\n"),
         "loaded", (3, 3, 0, 0), encoding="utf-8", facts=("enrolment", enrolment(_rows))))

code = A.school()
_rows = pupils(2)
add(Case("delim_tab_tsv_extension", f"{YEAR}/attendance/2022-10/{code}.tsv",
         csv_bytes([["massar_code", "unjustified_absence_days", "justified_absence_days"],
                    [_rows[0][0], "2", "1"], [_rows[1][0], "0", "0"]], "\t"),
         "loaded", (2, 2, 0, 0), encoding="utf-8", support=roster_for(code, _rows),
         facts=("attendance", fs((2, 2, 1, 19), (3, 0, 0, 19)))))

# The three payment files of the province: decimal comma with `;`, quoted with `,`, Arabic throughout.
code = A.school()
_pay = pupils(6)
PAY_HEADER = ["payment_ref", "guardian_cin", "massar_code", "period_from", "period_to", "amount_mad", "status"]
add(Case("payments_semicolon_decimal_comma", f"{YEAR}/tayssir_payments/{PROVINCE}_1.csv",
         csv_bytes([PAY_HEADER,
                    ["P-1001", "S123456", _pay[0][0], "2022-09", "2022-11", "160,00", "paid"],
                    ["P-1002", "AB12345", _pay[1][0], "09/2022", "11/2022", "1 400,50", "payé"],
                    ["P-1003", "AB12346", _pay[2][0], "2022/09", "2022/11", "420.5", "non retiré"]], ";"),
         "loaded", (3, 3, 0, 0), encoding="utf-8", support=roster_for(code, _pay),
         facts=("payments", fs((2, "P-1001", code, 160.0, "paid", "2022-09", "2022-11"),
                               (3, "P-1002", code, 1400.5, "paid", "2022-09", "2022-11"),
                               (4, "P-1003", code, 420.5, "unclaimed", "2022-09", "2022-11")))))
_outsider = A.pupil()
add(Case("payments_comma_quoted_fields", f"{YEAR}/tayssir_payments/{PROVINCE}_2.csv",
         csv_bytes([PAY_HEADER,
                    ['"P-2001, bis"', "S123456", _pay[3][0], "2022-12", "2023-02", '"160,00"', "paid"],
                    ["P-2002", "AB12345", _outsider, "2022-12", "2023-02", '"1,5"', "annulé"]], ",", newline="\r\n"),
         "loaded", (2, 1, 1, 0), encoding="utf-8",
         issues=fs(("pupil_not_on_roster", None, 3, "massar_code", _outsider)),
         facts=("payments", fs((2, "P-2001, bis", code, 160.0, "paid", "2022-12", "2023-02")))))
add(Case("payments_arabic_headers_months_digits", f"{YEAR}/tayssir_payments/{PROVINCE}_3.csv",
         csv_bytes([["مرجع الأداء", "رقم البطاقة الوطنية للولي", "رقم التلميذ", "من شهر", "إلى شهر", "المبلغ", "الحالة"],
                    ["P-3001", "S123456", _pay[4][0], "مارس 2023", "ماي 2023", "٤٢٠٫٠٠", "صرف"],
                    ["P-3002", "AB12345", _pay[5][0], "Mars 2023", "Juin 2023", "۴۸۰", "غير مسحوب"]]),
         "loaded", (2, 2, 0, 0), encoding="utf-8",
         facts=("payments", fs((2, "P-3001", code, 420.0, "paid", "2023-03", "2023-05"),
                               (3, "P-3002", code, 480.0, "unclaimed", "2023-03", "2023-06")))))

code = A.school()
_rows = pupils(2)
_bad = A.pupil()[:-1]  # 9 characters: one digit short
add(Case("quoted_delimiter_and_newline", students(code),
         csv_bytes([[*AR_HEADER, "مكان الازدياد"],
                    [_rows[0][0], '"بن علي, الحسني"', *_rows[0][2:], '"دوار\nأولاد علي"'],
                    [*_rows[1], '"فاس، ""المدينة"""'],
                    [_bad, "س", "ص", "ذكر", "2014-05-03", "3AP", "فاس"]]),
         "loaded", (3, 2, 1, 0), encoding="utf-8",
         issues=fs(("massar_code_format", None, 5, "massar_code", _bad)),
         facts=("identity_place", fs((_rows[0][0], "بن علي, الحسني", "دوار\nأولاد علي"),
                                     (_rows[1][0], _rows[1][1], 'فاس، "المدينة"')))))

code = A.school()
_rows = pupils(2)
add(Case("trailing_empty_columns_and_rows", students(code),
         csv_bytes([[*AR_HEADER, "", "", ""], [*_rows[0], "", "", ""], [*_rows[1], "", "", ""],
                    [""] * 9, [""] * 9, [""], [" ", "  "]]),
         "loaded", (2, 2, 0, 0), encoding="utf-8", facts=("enrolment", enrolment(_rows))))

code = A.school()
_rows = pupils(3)
add(Case("lone_cr_line_ends", monthly("attendance", "2022-11", code),
         csv_bytes([["massar_code", "unjustified_absence_days", "justified_absence_days"],
                    [_rows[0][0], "1", "0"], [_rows[1][0], "12", "7"], [_rows[2][0], "0", "2"]], newline="\r"),
         "loaded", (3, 2, 1, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("absence_days_range", None, 3, "unjustified_absence_days", "12")),  # 19 > 18 days in November
         facts=("attendance", fs((2, 1, 0, 18), (4, 0, 2, 18)))))

code = A.school()
add(Case("unclosed_quote", students(code),
         csv_bytes([AR_HEADER, [A.pupil(), '"بن علي', "أحمد", "ذكر", "2014-05-03", "3AP"],
                    *[[A.pupil(), "س", "ص", "ذكر", "2014-05-03", "3AP"] for _ in range(60)]]),
         "rejected", kind="unreadable",
         error='not a readable Excel or CSV file: a quote (") opened on line 2 is not closed within 50 lines'))

# --- headers ------------------------------------------------------------------------------------

code = A.school()
_rows = pupils(2)
add(Case("header_french_with_school_days", monthly("attendance", "2022-10", code),
         csv_bytes([["Code Massar", "Absences non justifiées", "Absences justifiées", "Jours de classe"],
                    [_rows[0][0], "2", "0", "10"], [_rows[1][0], "8", "3", "10"]], ";"),
         "loaded", (2, 1, 1, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("absence_days_range", None, 3, "unjustified_absence_days", "8")),
         facts=("attendance", fs((2, 2, 0, 10)))))

code = A.school()
_rows = pupils(2)
add(Case("header_english_case_and_spaces", monthly("attendance", "2022-10", code),
         csv_bytes([["  MASSAR   CODE ", "Unjustified Absence Days", "JUSTIFIED_ABSENCE_DAYS ", "school days"],
                    [_rows[0][0], "3", "1", "19"], [_rows[1][0], "0", "0", "19"]]),
         "loaded", (2, 2, 0, 0), encoding="utf-8", support=roster_for(code, _rows),
         facts=("attendance", fs((2, 3, 1, 19), (3, 0, 0, 19)))))

code = A.school()
_rows = pupils(2)
add(Case("header_arabic_tatweel_diacritics", students(code),
         csv_bytes([["  رقـــم   التِّلْمِيذ ", "النَّسَب", "الإســم", "الـجـنـس", "تاريخ الإزدياد", "المُسْتَوَى :"], *_rows]),
         "loaded", (2, 2, 0, 0), encoding="utf-8", facts=("enrolment", enrolment(_rows))))

code = A.school()
_rows = pupils(3)
_stranger = A.pupil()
add(Case("csv_preamble_shifts_line_numbers", monthly("attendance", "2022-12", code),
         csv_bytes([["massar_code", "unjustified_absence_days"], [_rows[0][0], "1"], [_rows[1][0], "2"],
                    [_stranger, "0"]],
                   preamble=["أكاديمية : جهة الدار البيضاء سطات", "م.الإقليمية : مديرية تجريبية",
                             f"رمز المؤسسة : {code}", "السنة الدراسية : 2022/2023", ""]),
         "loaded", (3, 2, 1, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("pupil_not_on_roster", None, 9, "massar_code", _stranger)),
         facts=("attendance", fs((7, 1, 0, 17), (8, 2, 0, 17)))))

code = A.school()
add(Case("header_only_is_an_empty_report", students(code), csv_bytes([AR_HEADER]), "loaded", (0, 0, 0, 0),
         encoding="utf-8", facts=("enrolment", fs())))

code = A.school()
_rows = pupils(1)
add(Case("preamble_year_contradicts_folder", monthly("attendance", "2022-10", code),
         csv_bytes([["massar_code", "unjustified_absence_days"], [_rows[0][0], "1"]],
                   preamble=["السنة الدراسية : 2021/2022"]),
         "rejected", manifest_kind="school_year_mismatch", support=roster_for(code, _rows),
         error="the file says school year 2021-2022 but sits in the 2022-2023 folder"))

code = A.school()
_rows = pupils(2)
add(Case("extra_columns_listed_and_kept", students(code),
         csv_bytes([[*AR_HEADER, "ملاحظات", "Observation"], [*_rows[0], "منقول", ""], [*_rows[1], "", "RAS"]]),
         "loaded", (2, 2, 0, 0), encoding="utf-8", extra_columns="ملاحظات, Observation",
         facts=("raw_extra", fs((2, '{"ملاحظات": "منقول"}'), (3, '{"Observation": "RAS"}')))))

# --- digits -------------------------------------------------------------------------------------

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EASTERN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

code = A.school()
_rows = pupils(2)
_shown = [[r[0][0] + r[0][1:].translate(ARABIC_INDIC), r[1], r[2], r[3],
           f"{r[4][8:]}/{r[4][5:7]}/{r[4][:4]}".translate(ARABIC_INDIC if i == 0 else EASTERN), r[5]]
          for i, r in enumerate(_rows)]
add(Case("digits_arabic_indic_in_codes_and_dates", students(code), csv_bytes([AR_HEADER, *_shown]),
         "loaded", (2, 2, 0, 0), encoding="utf-8", facts=("enrolment", enrolment(_rows))))

code = A.school()
_rows = pupils(2)
add(Case("digits_eastern_arabic_in_numbers", monthly("attendance", "2023-01", code),
         csv_bytes([["رقم التلميذ", "الغياب غير المبرر", "الغياب المبرر", "أيام الدراسة"],
                    [_rows[0][0], "۳", "۱", "۱۸"], [_rows[1][0], "١٢", "٠", "١٨"]]),
         "loaded", (2, 2, 0, 0), encoding="utf-8", support=roster_for(code, _rows),
         facts=("attendance", fs((2, 3, 1, 18), (3, 12, 0, 18)))))

# --- XLSX ---------------------------------------------------------------------------------------

code = A.school()
_rows = pupils(4)
_cells = [AR_HEADER,
          [_rows[0][0], _rows[0][1], _rows[0][2], 2, dt.datetime(2014, 5, 3), "3AP"],
          [_rows[1][0], _rows[1][1], _rows[1][2], 1, 41640, "3AP"],          # serial as a number
          [_rows[2][0], _rows[2][1], _rows[2][2], "2", "15/03/2014", "3AP"],  # text
          [_rows[3][0], _rows[3][1], _rows[3][2], "1", "41700", "3AP"]]       # serial stored as text
add(Case("xlsx_date_cells_serials_numbers_as_text", f"{YEAR}/students/{code}.xlsx",
         xlsx_bytes({"Feuil1": grid(_cells)}), "loaded", (4, 4, 0, 0), encoding="xlsx",
         facts=("enrolment", fs((_rows[0][0], _rows[0][1], _rows[0][2], "2014-05-03", "3AP", "F", "Feuil1", 2),
                                (_rows[1][0], _rows[1][1], _rows[1][2], "2014-01-01", "3AP", "M", "Feuil1", 3),
                                (_rows[2][0], _rows[2][1], _rows[2][2], "2014-03-15", "3AP", "F", "Feuil1", 4),
                                (_rows[3][0], _rows[3][1], _rows[3][2], "2014-03-02", "3AP", "M", "Feuil1", 5)))))

code = A.school()
_rows = pupils(3)
add(Case("xlsx_numbers_stored_as_text", f"{YEAR}/attendance/2023-02/{code}.xlsx",
         xlsx_bytes({"Absences": grid([["رقم التلميذ", "الغياب غير المبرر", "الغياب المبرر", "أيام الدراسة"],
                                       [_rows[0][0], "3", 1.0, "19"], [_rows[1][0], "٤", "0", 19],
                                       [_rows[2][0], 2, None, "١٩"]])}),
         "loaded", (3, 3, 0, 0), encoding="xlsx", support=roster_for(code, _rows),
         facts=("attendance", fs((2, 3, 1, 19), (3, 4, 0, 19), (4, 2, 0, 19)))))


def massar_sheet(code: str, rows: list[list[object]]) -> tuple[list, list]:
    """A Massar class sheet: merged title, Arabic preamble, header row merged over the French
    sub-header row for the Massar code, then data from row 10. Returns (cells, merges)."""
    preamble = [None, ["أكاديمية :", "جهة الدار البيضاء سطات"], ["م.الإقليمية :", "مديرية تجريبية"],
                ["مؤسسة", "الثانوية الإعدادية التجريبية"], ["رمز المؤسسة :", code],
                ["السنة الدراسية :", "2022/2023"], None, None,
                [None, "Nom", "Prénom", "Sexe", "Date de naissance"]]
    header = [None, "النسب", "الإسم", "النوع", "تاريخ الازدياد"]
    cells = grid(preamble) + grid([header], first_row=7) + grid(rows, first_row=9)
    merges = [(0, 0, 0, 4, "لائحة التلاميذ"), (7, 0, 8, 0, "رقم التلميذ")]
    return cells, merges


code = A.school(cycle="SECONDAIRE-COLLEGIAL")
_a = [[A.pupil(), *NAMES[i], "ذكر", "2010-03-01"] for i in range(2)]
_b = [[A.pupil(), *NAMES[i + 2], "أنثى", "2010-03-01"] for i in range(2)]
_x = [A.pupil(), "المرابط", "عائشة", "X", "2010-03-01"]
_s3, _m3 = massar_sheet(code, _a)
_s4, _m4 = massar_sheet(code, [*_b, _x])
add(Case("xlsx_massar_export_sheet_per_class", f"{YEAR}/students/{code}.xlsx",
         xlsx_bytes({"غلاف": grid([["لائحة التلاميذ حسب الأقسام"]]), "1APIC-3": _s3, "1APIC-4": _s4, "Feuil3": []},
                    rtl=True, merges={"1APIC-3": _m3, "1APIC-4": _m4}),
         "loaded", (5, 4, 1, 0), encoding="xlsx",
         issues=fs(("gender_unknown", "1APIC-4", 12, "gender", "X")),
         facts=("class", fs(("1APIC-3", 10, "1AC", "1APIC-3"), ("1APIC-3", 11, "1AC", "1APIC-3"),
                            ("1APIC-4", 10, "1AC", "1APIC-4"), ("1APIC-4", 11, "1AC", "1APIC-4")))))

code = A.school()
_other = A.school()
_cells, _merges = massar_sheet(_other, [[A.pupil(), "العلوي", "حمزة", "ذكر", "2014-05-03"]])
add(Case("xlsx_preamble_school_code_contradicts_path", f"{YEAR}/students/{code}.xlsx",
         xlsx_bytes({"3AP-1": _cells}, rtl=True, merges={"3AP-1": _merges}), "rejected", manifest_kind="school_code_mismatch",
         error=f"the school code written in the file ({_other}) contradicts the file's path ({code}): "
               "put the file under its own school code"))

code = A.school()
add(Case("xlsx_every_sheet_empty", f"{YEAR}/students/{code}.xlsx", xlsx_bytes({"Feuil1": [], "Feuil2": []}),
         "rejected", kind="no_header", error="no header row found: every sheet of the workbook is empty"))

# --- whole files rejected (contract section 7) --------------------------------------------------

code = A.school()
add(Case("empty_file", students(code), b"", "rejected", kind="empty_file", error="the file is empty (0 bytes)"))

code = A.school()
_noise = random.Random(20221001).randbytes(4096)
add(Case("random_bytes_named_xlsx", f"{YEAR}/students/{code}.xlsx", _noise, "rejected", kind="unreadable",
         error="not a readable Excel or CSV file: binary content (NUL bytes)"))

code = A.school()
_book = xlsx_bytes({"Feuil1": grid([AR_HEADER, *pupils(3)])})
add(Case("truncated_xlsx", f"{YEAR}/students/{code}.xlsx", _book[: len(_book) // 2], "rejected", kind="unreadable",
         error="not a readable Excel or CSV file: damaged Excel file (File is not a zip file)"))

code = A.school()
add(Case("old_xls_97_2003", f"{YEAR}/students/{code}.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
         "rejected", kind="unreadable",
         error="not a readable Excel or CSV file: an old Excel 97-2003 (.xls) file (save it as .xlsx or CSV)"))

code = A.school()
add(Case("html_page_named_xlsx", f"{YEAR}/students/{code}.xlsx",
         "<html><body><table><tr><td>رقم التلميذ</td></tr></table></body></html>".encode(), "rejected",
         kind="unreadable",
         error="not a readable Excel or CSV file: an HTML or XML page saved with a spreadsheet name "
               "(open it in Excel and save it as .xlsx or CSV)"))

code = A.school()
add(Case("no_recognisable_header", students(code), csv_bytes([["الاسم الكامل", "الملاحظة"], ["س", "ص"]]),
         "rejected", kind="no_header",
         error="no header row found: none of the first 30 rows names the columns of a students file "
               "(expected e.g. رقم التلميذ / Code Massar)"))

code = A.school()
add(Case("required_column_missing", monthly("attendance", "2022-10", code),
         csv_bytes([["massar_code", "justified_absence_days"], [A.pupil(), "1"]]), "rejected",
         kind="missing_required_column",
         error="required column(s) missing: unjustified_absence_days (الغياب غير المبرر / Absences non justifiées)"))

_unknown = make_school_code(39999)
add(Case("unknown_school_code", students(_unknown), csv_bytes([AR_HEADER, *pupils(1)]), "rejected", manifest_kind="unknown_school",
         error=f"unknown school code {_unknown}: it is not in the establishments referential "
               "(check the file name, or send the school's referential entry first)"))

code = A.school()
_other = A.school()
_rows = pupils(1)
add(Case("csv_preamble_school_code_contradicts_path", monthly("attendance", "2022-10", code),
         csv_bytes([["massar_code", "unjustified_absence_days"], [_rows[0][0], "0"]],
                   preamble=[f"Code établissement : {_other}"]),
         "rejected", manifest_kind="school_code_mismatch", support=roster_for(code, _rows),
         error=f"the school code written in the file ({_other}) contradicts the file's path ({code}): "
               "put the file under its own school code"))

code = A.school()
add(Case("period_outside_school_year", monthly("attendance", "2023-08", code),
         csv_bytes([["massar_code", "unjustified_absence_days"], [A.pupil(), "0"]]), "rejected", manifest_kind="misplaced",
         error="period 2023-08 is outside the school year 2022-2023 (September to June)"))

code = A.school()
add(Case("monthly_file_without_month_folder", f"{YEAR}/attendance/{code}.csv",
         csv_bytes([["massar_code", "unjustified_absence_days"], [A.pupil(), "0"]]), "rejected", manifest_kind="misplaced",
         error=f"attendance files go in a month folder: {YEAR}/attendance/<YYYY-MM>/<school_code>.xlsx|csv"))

code = A.school()
add(Case("roster_in_attendance_folder", monthly("attendance", "2022-10", code),
         csv_bytes([AR_HEADER, *pupils(2)]), "rejected", kind="wrong_record_type",
         error="no header row found: none of the first 30 rows names the columns of a attendance file "
               "(expected e.g. رقم التلميذ / Code Massar); its columns are those of a students file"))

code = A.school()
add(Case("canteen_xlsx_in_schoolbags_folder", f"{YEAR}/schoolbags/{code}.xlsx",
         xlsx_bytes({"Feuil1": grid([["عدد المستفيدين", "عدد أيام الإطعام", "عدد الوجبات"], [40, 18, 700]])}),
         "rejected", kind="wrong_record_type",
         error="no header row found: none of the first 30 rows names the columns of a schoolbags file "
               "(expected e.g. المستوى / Niveau); its columns are those of a canteen_meals file"))

code = A.school()
add(Case("pdf_extension_refused_unread", f"{YEAR}/students/{code}.pdf", b"%PDF-1.4\n", "rejected", manifest_kind="misplaced",
         error_prefix=f"not a spreadsheet or CSV file (extension of '{code}.pdf'); expected "))


def _sparse(size: int) -> Callable[[Path, Path], None]:
    def make(path: Path, _outside: Path) -> None:
        head = csv_bytes([AR_HEADER])
        with path.open("wb") as fh:
            fh.write(head)
            fh.truncate(size)  # a hole of zeros: 51 MB on paper, nothing on disk
    return make


code = A.school()
add(Case("file_too_large", students(code), None, "rejected", kind="file_too_large",
         error="file too large: 51 MB (limit 50 MB)", setup=_sparse(51 * MIB)))

code = A.school()
add(Case("csv_line_of_megabytes", students(code),
         csv_bytes([AR_HEADER, *pupils(1)]) + ("س" * MIB).encode() + b"\n", "rejected", kind="line_too_long",
         error="a line of 2 MB: not a school record file (limit 1 MB a line)"))

code = A.school()
add(Case("csv_400k_blank_lines", students(code), csv_bytes([AR_HEADER, *pupils(1)]) + b",,,\n" * 400_100,
         "rejected", kind="sheet_too_large", error="the file has 400103 lines (limit 200000 rows)"))

code = A.school()
add(Case("csv_too_many_columns", students(code),
         csv_bytes([[*AR_HEADER, *[f"c{i}" for i in range(250)]], pupils(1)[0]]), "rejected",
         kind="too_many_columns", error="line 1 has 256 columns (limit 200)"))

code = A.school()
WIDE_CSV = csv_bytes([["massar_code", "unjustified_absence_days"]]) + (b"12," * 340_000 + b"\n") * 8
add(Case("csv_lines_of_340000_short_cells", monthly("attendance", "2022-10", code), WIDE_CSV, "rejected",
         kind="too_many_columns", error="line 2 has 340000 columns (limit 200)"))

code = A.school()
add(Case("xlsx_zip_bomb_1gb", f"{YEAR}/students/{code}.xlsx", zip_bomb_xlsx(1024), "rejected",
         kind="xlsx_too_large", error="the Excel file inflates to 1 GB (limit 500 MB)"))

code = A.school()
add(Case("xlsx_zip_bomb_lying_sizes", f"{YEAR}/students/{code}.xlsx", lying_zip_bomb_xlsx(1024), "rejected",
         kind="unreadable",
         error="not a readable Excel or CSV file: sheet Sheet1: I/O error: File is larger than its declared "
               "uncompressed size"))

code = A.school()
add(Case("xlsx_sheet_too_many_rows", f"{YEAR}/students/{code}.xlsx",
         xlsx_bytes({"Feuil1": grid([AR_HEADER, *pupils(1)]) + [(200_000, 0, "fin")]}), "rejected",
         kind="sheet_too_large", error="sheet Feuil1 has 200001 rows (limit 200000)"))

code = A.school()
add(Case("xlsx_sheet_too_many_columns", f"{YEAR}/students/{code}.xlsx",
         xlsx_bytes({"Feuil1": grid([AR_HEADER, *pupils(1)]) + [(0, 200, "x")]}), "rejected",
         kind="too_many_columns", error="sheet Feuil1 has 201 columns (limit 200)"))

code = A.school()
add(Case("name_with_right_to_left_mark", f"{YEAR}/students/{code}\u200f.csv", csv_bytes([AR_HEADER, *pupils(1)]),
         "rejected", manifest_kind="refused_unread", unread=True, manifest_path=f"{YEAR}/students/{code}\\u200f.csv",
         error="file name has control or invisible characters: refused and not read"))

code = A.school()
add(Case("name_with_bell_control_character", f"{YEAR}/students/{code}\x07.csv", csv_bytes([AR_HEADER, *pupils(1)]),
         "rejected", manifest_kind="refused_unread", unread=True, manifest_path=f"{YEAR}/students/{code}\\x07.csv",
         error="file name has control or invisible characters: refused and not read"))

code = A.school()
add(Case("name_with_undecodable_bytes", f"{YEAR}/students/{code}" + os.fsdecode(b"\xe9") + ".csv",
         csv_bytes([AR_HEADER, *pupils(1)]), "rejected", manifest_kind="refused_unread", unread=True, manifest_path=f"{YEAR}/students/{code}\\udce9.csv",
         error="file name has control or invisible characters: refused and not read"))


def _link_file(rel: str, data: bytes) -> Callable[[Path, Path], None]:
    def make(path: Path, outside: Path) -> None:
        target = outside / f"target-{path.name}"
        target.write_bytes(data)
        path.symlink_to(target)
    return make


def _link_dir(data_name: str, data: bytes) -> Callable[[Path, Path], None]:
    def make(path: Path, outside: Path) -> None:
        target = outside / "linked-month"
        target.mkdir()
        (target / data_name).write_bytes(data)
        path.symlink_to(target, target_is_directory=True)
    return make


code = A.school()
_rel = students(code)
add(Case("symlink_to_a_file_outside_the_root", _rel, None, "rejected", manifest_kind="refused_unread", unread=True,
         error="a link leading outside the landing root: refused and not read",
         setup=_link_file(_rel, csv_bytes([AR_HEADER, *pupils(1)]))))

code = A.school()
add(Case("symlinked_folder_outside_the_root", f"{YEAR}/attendance/2023-03", None, "rejected", manifest_kind="refused_unread", unread=True,
         error="a link to a folder: refused and not read",
         setup=_link_dir(f"{code}.csv", csv_bytes([["massar_code", "unjustified_absence_days"], [A.pupil(), "0"]]))))

code = A.school()
add(Case("named_pipe_would_block_a_reader", students(code), None, "rejected", manifest_kind="refused_unread", unread=True,
         error="not a regular file (a pipe, socket or device): refused and not read",
         setup=lambda path, _outside: os.mkfifo(path)))

code = A.school()
add(Case("link_to_a_missing_file", students(code), None, "rejected", manifest_kind="refused_unread", unread=True,
         error="file can not be opened: No such file or directory",
         setup=lambda path, _outside: path.symlink_to(f"{path.stem}-gone.csv")))

# --- rows quarantined or warned (contract sections 7 and 8) -------------------------------------

code = A.school()
_rows = pupils(1)
add(Case("row_malformed_massar_codes", students(code),
         csv_bytes([AR_HEADER, *_rows, ["J13024587", "س", "ص", "ذكر", "2014-05-03", "3AP"],
                    ["130245871J", "س", "ص", "ذكر", "2014-05-03", "3AP"]]),
         "loaded", (3, 1, 2, 0), encoding="utf-8",
         issues=fs(("massar_code_format", None, 3, "massar_code", "J13024587"),
                   ("massar_code_format", None, 4, "massar_code", "130245871J")),
         facts=("enrolment", enrolment(_rows))))

code = A.school()
_p = [A.pupil() for _ in range(4)]
add(Case("row_required_values_missing", students(code),
         csv_bytes([AR_HEADER, [_p[0], "العلوي", "", "ذكر", "2014-05-03", "3AP"],
                    [_p[1], "العلوي", "حمزة", " ", "2014-05-03", "3AP"],
                    [_p[2], "العلوي", "حمزة", "ذكر", "", "3AP"],
                    [_p[3], "العلوي", "حمزة", "ذكر", "2014-05-03", "3AP"]]),
         "loaded", (4, 1, 3, 0), encoding="utf-8",
         issues=fs(("required_value_missing", None, 2, "first_name_ar", None),
                   ("required_value_missing", None, 3, "gender", None),
                   ("required_value_missing", None, 4, "birth_date", None))))

code = A.school()
_rows = pupils(1)
_x = A.pupil()
add(Case("row_gender_outside_vocabulary", students(code),
         csv_bytes([AR_HEADER, *_rows, [_x, "العلوي", "حمزة", "X", "2014-05-03", "3AP"]]),
         "loaded", (2, 1, 1, 0), encoding="utf-8", issues=fs(("gender_unknown", None, 3, "gender", "X"))))

code = A.school()
add(Case("row_negative_count", monthly("canteen_meals", "2022-10", code),
         csv_bytes([["beneficiaries", "meal_days", "meals_served"], ["-3", "18", "50"]]),
         "loaded", (1, 0, 1, 0), encoding="utf-8", issues=fs(("number_negative", None, 2, "beneficiaries", "-3"))))

code = A.school()
_rows = pupils(2)
add(Case("row_absence_above_school_days", monthly("attendance", "2022-10", code),
         csv_bytes([["massar_code", "unjustified_absence_days", "justified_absence_days"],
                    [_rows[0][0], "15", "5"], [_rows[1][0], "15", "4"]]),
         "loaded", (2, 1, 1, 0), encoding="utf-8", support=roster_for(code, _rows),  # 19 school days in October
         issues=fs(("absence_days_range", None, 2, "unjustified_absence_days", "15")),
         facts=("attendance", fs((3, 15, 4, 19)))))

code = A.school()
_rows = pupils(1)
_p = [A.pupil() for _ in range(2)]
add(Case("row_unreadable_dates", students(code),
         csv_bytes([AR_HEADER, *_rows, [_p[0], "العلوي", "حمزة", "ذكر", "31/02/2014", "3AP"],
                    [_p[1], "العلوي", "حمزة", "ذكر", "أمس", "3AP"]]),
         "loaded", (3, 1, 2, 0), encoding="utf-8",
         issues=fs(("date_invalid", None, 3, "birth_date", "31/02/2014"),
                   ("date_invalid", None, 4, "birth_date", "أمس"))))

code = A.school()
_rows = pupils(2)
add(Case("row_duplicate_key_conflict", monthly("attendance", "2022-10", code),
         csv_bytes([["massar_code", "unjustified_absence_days"], [_rows[0][0], "2"], [_rows[1][0], "1"],
                    [_rows[0][0], "3"]]),
         "loaded", (3, 1, 2, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("duplicate_key_conflict", None, 2, "massar_code", _rows[0][0]),
                   ("duplicate_key_conflict", None, 4, "massar_code", _rows[0][0])),
         facts=("attendance", fs((3, 1, 0, 19)))))

code = A.school()
_rows = pupils(2)
add(Case("row_duplicate_key_identical", students(code), csv_bytes([AR_HEADER, *_rows, _rows[0]]),
         "loaded", (3, 3, 0, 1), encoding="utf-8",
         issues=fs(("duplicate_key_identical", None, 4, "massar_code", _rows[0][0])),
         facts=("enrolment", enrolment(_rows))))

code = A.school()
_rows = pupils(1)
_stranger = A.pupil()
add(Case("row_pupil_not_on_roster", monthly("attendance", "2022-10", code),
         csv_bytes([["massar_code", "unjustified_absence_days"], [_rows[0][0], "0"], [_stranger, "0"]]),
         "loaded", (2, 1, 1, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("pupil_not_on_roster", None, 3, "massar_code", _stranger))))

code = A.school()
_rows = pupils(1, level="1AP", birth="2016-03-01")
_old = [A.pupil(), "العلوي", "حمزة", "ذكر", "2008-01-15", "1AP"]  # 14 at 1 Sept 2022, nominal 6
add(Case("row_age_implausible_for_level", students(code), csv_bytes([CANON_HEADER, *_rows, _old]),
         "loaded", (2, 2, 0, 1), encoding="utf-8",
         issues=fs(("age_level_mismatch", None, 3, "birth_date", "2008-01-15"))))

code = A.school(boarding=False, canteen=False)
_rows = pupils(3, level="1AC", birth="2010-03-01")
add(Case("row_grant_at_school_without_boarding", f"{YEAR}/boarding_grants/{code}.csv",
         csv_bytes([["massar_code", "grant_type", "start_month", "end_month"],
                    [_rows[0][0], "internat", "2022-09", "2023-06"], [_rows[1][0], "مطعم", "2022-09", "2023-06"]]),
         "loaded", (2, 2, 0, 2), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("grant_without_facility", None, 2, "grant_type", "internat"),
                   ("grant_without_facility", None, 3, "grant_type", "مطعم")),
         facts=("grants", fs((2, "internat"), (3, "cantine_college")))))

code = A.school()
add(Case("row_kits_requested_above_eligible", f"{YEAR}/schoolbags/{code}.csv",
         csv_bytes([["المستوى", "عدد التلاميذ المسجلين", "عدد المستفيدين", "نوع الدعم", "الحاجيات"],
                    ["1AP", "30", "30", "محفظة كاملة", "30"], ["السنة الثانية ابتدائي", "28", "28", "كتب فقط", "35"]]),
         "loaded", (2, 2, 0, 1), encoding="utf-8",
         issues=fs(("kits_requested_above_eligible", None, 3, "kits_requested", "35")),
         facts=("schoolbags", fs(("1AP", 30, 30), ("2AP", 28, 35)))))

code = A.school()
_rows = pupils(2)
add(Case("row_number_unreadable", monthly("attendance", "2022-10", code),
         csv_bytes([["massar_code", "unjustified_absence_days"], [_rows[0][0], "abc"], [_rows[1][0], "1"]]),
         "loaded", (2, 1, 1, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("number_invalid", None, 2, "unjustified_absence_days", "abc"))))

code = A.school()
add(Case("row_kit_type_outside_vocabulary", f"{YEAR}/schoolbags/{code}.csv",
         csv_bytes([["level", "enrolled", "eligible", "kit_type", "kits_requested"], ["1AP", "10", "10", "sac", "10"],
                    ["2AP", "10", "10", "books only", "10"]]),
         "loaded", (2, 1, 1, 0), encoding="utf-8", issues=fs(("vocabulary_unknown", None, 2, "kit_type", "sac"))))

code = A.school()
_rows = pupils(3, level="1AC", birth="2010-03-01")
add(Case("row_months_unreadable_or_outside_year", f"{YEAR}/boarding_grants/{code}.csv",
         csv_bytes([["massar_code", "grant_type", "start_month"], [_rows[0][0], "internat", "2023-09"],
                    [_rows[1][0], "internat", "13/2022"], [_rows[2][0], "internat", "octobre 2022"]]),
         "loaded", (3, 1, 2, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("month_outside_school_year", None, 2, "start_month", "2023-09"),
                   ("month_invalid", None, 3, "start_month", "13/2022"))))

code = A.school()
_rows = pupils(2)
add(Case("row_guardian_cin_malformed", f"{YEAR}/tayssir_beneficiaries/{code}.csv",
         csv_bytes([["massar_code", "guardian_cin", "status"], [_rows[0][0], "123456", "active"],
                    [_rows[1][0], "ab12345", "نشيط"]]),
         "loaded", (2, 1, 1, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("cin_format", None, 2, "guardian_cin", "123456"))))

code = A.school()
_rows = pupils(1)
_x = A.pupil()
add(Case("row_level_unknown", students(code),
         csv_bytes([AR_HEADER, *_rows, [_x, "العلوي", "حمزة", "ذكر", "2014-05-03", "7AP"]]),
         "loaded", (2, 1, 1, 0), encoding="utf-8", issues=fs(("level_unknown", None, 3, "level", "7AP"))))

code = A.school()
add(Case("row_breaking_three_rules", students(code),
         csv_bytes([AR_HEADER, ["BAD", "العلوي", "حمزة", "Y", "أمس", "3AP"]]),
         "loaded", (1, 0, 1, 0), encoding="utf-8",
         issues=fs(("massar_code_format", None, 2, "massar_code", "BAD"), ("gender_unknown", None, 2, "gender", "Y"),
                   ("date_invalid", None, 2, "birth_date", "أمس"))))

_twin = pupils(1)[0]
for suffix in ("a", "b"):
    code = A.school()
    add(Case(f"row_pupil_on_two_rosters_{suffix}", students(code), csv_bytes([AR_HEADER, _twin]),
             "loaded", (1, 1, 0, 1), encoding="utf-8",
             issues=fs(("pupil_on_two_rosters", None, 2, "massar_code", _twin[0])),
             facts=("enrolment", enrolment([_twin]))))  # counted at both schools

# --- more of the contract's variations ---------------------------------------------------------

code = A.school()
_rows = pupils(3)
add(Case("csv_excel_sep_line", monthly("attendance", "2023-04", code),
         csv_bytes([["massar_code", "unjustified_absence_days"], [_rows[0][0], "1"], [_rows[1][0], "-1"],
                    [_rows[2][0], "0"]], ";", preamble=["sep=;"]),
         "loaded", (3, 2, 1, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("number_negative", None, 4, "unjustified_absence_days", "-1")),
         facts=("attendance", fs((3, 1, 0, 19), (5, 0, 0, 19)))))

code = A.school()
_p = [A.pupil() for _ in range(5)]
add(Case("values_folded_before_vocabulary_and_blank_lines_kept_in_numbering", students(code),
         csv_bytes([AR_HEADER, [_p[0], "العلوي", "حمزة", "ذكـــر", "2014-05-03", "السنة الثالثة ابتدائي"], [""],
                    [_p[1], "الإدريسي", "فاطمة", " FÉMININ ", "2014-05-03", "3ème Année Primaire"], [" "],
                    [_p[2], "أوعلي", "إيمان", "انثى", "2014-05-03", "٣AP"],
                    [_p[3], "الحسني", "مصطفى", "Garcon", "2014-05-03", "3AP-2"],
                    [_p[4], "الحسني", "يحيى", "ذَكَر", "2014-05-03", "3 A P"]]),
         "loaded", (5, 4, 1, 0), encoding="utf-8",
         issues=fs(("level_unknown", None, 8, "level", "3 A P")),
         facts=("enrolment", fs((_p[0], "العلوي", "حمزة", "2014-05-03", "3AP", "M", None, 2),
                                (_p[1], "الإدريسي", "فاطمة", "2014-05-03", "3AP", "F", None, 4),
                                (_p[2], "أوعلي", "إيمان", "2014-05-03", "3AP", "F", None, 6),
                                (_p[3], "الحسني", "مصطفى", "2014-05-03", "3AP", "M", None, 7)))))

code = A.school(cycle="SECONDAIRE-QUALIFIANT")
_p = [A.pupil() for _ in range(4)]
add(Case("class_names_with_tracks_and_yes_no_ticks", students(code),
         csv_bytes([[*AR_HEADER, "القسم", "مكرر", "نظام التمدرس", "إعاقة"],
                    [_p[0], "العلوي", "حمزة", "ذكر", "2007-03-01", "TCSF-2", "TCSF-2", "x", "داخلي", ""],
                    [_p[1], "الإدريسي", "فاطمة", "أنثى", "2005-03-01", "2BACSPF-1", "2BACSPF-1", "", "نصف داخلي", "نعم"],
                    [_p[2], "أوعلي", "إيمان", "أنثى", "2009-03-01", "2APG-1", "", "non", "Externe", "0"],
                    [_p[3], "الحسني", "يحيى", "ذكر", "2009-03-01", "الثانية إعدادي", "2APIC-4", "oui", "demi-pensionnaire",
                     "x"]]),
         "loaded", (4, 4, 0, 0), encoding="utf-8",
         facts=("enrolment_flags", fs((2, "TC", "TCSF-2", True, "interne", False),
                                      (3, "2BAC", "2BACSPF-1", False, "demi_pensionnaire", True),
                                      (4, "2AC", None, False, "externe", False),
                                      (5, "2AC", "2APIC-4", True, "demi_pensionnaire", True)))))

# A pupil is on the roster only through an accepted row: a quarantined roster row does not count.
code = A.school()
_rows = pupils(1)
_q = A.pupil()
add(Case("roster_with_a_quarantined_pupil", students(code),
         csv_bytes([CANON_HEADER, *_rows, [_q, "العلوي", "حمزة", "ذكر", "2014-05-03", "9AP"]]),
         "loaded", (2, 1, 1, 0), encoding="utf-8", issues=fs(("level_unknown", None, 3, "level", "9AP"))))
add(Case("row_pupil_only_on_roster_as_a_quarantined_row", monthly("attendance", "2022-10", code),
         csv_bytes([["massar_code", "unjustified_absence_days"], [_rows[0][0], "0"], [_q, "0"]]),
         "loaded", (2, 1, 1, 0), encoding="utf-8", issues=fs(("pupil_not_on_roster", None, 3, "massar_code", _q))))

code = A.school()
_rows = pupils(1)
_elsewhere = _pay[0][0]  # on the roster of the payments' school, in the same directorate
add(Case("row_pupil_on_another_schools_roster", f"{YEAR}/tayssir_beneficiaries/{code}.csv",
         csv_bytes([["massar_code", "guardian_cin"], [_rows[0][0], "S1"], [_elsewhere, "S2"]]),
         "loaded", (2, 1, 1, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("pupil_not_on_roster", None, 3, "massar_code", _elsewhere))))

code = A.school()
add(Case("row_same_level_written_two_ways", f"{YEAR}/schoolbags/{code}.csv",
         csv_bytes([["level", "enrolled", "eligible", "kit_type", "kits_requested"], ["1AP", "20", "20", "full kit", "20"],
                    ["السنة الأولى ابتدائي", "21", "21", "محفظة كاملة", "21"], ["2AP", "9", "9", "كتب فقط", "9"]]),
         "loaded", (3, 1, 2, 0), encoding="utf-8",
         issues=fs(("duplicate_key_conflict", None, 2, "level", "1AP"),
                   ("duplicate_key_conflict", None, 3, "level", "السنة الأولى ابتدائي")),
         facts=("schoolbags", fs(("2AP", 9, 9)))))

code = A.school()
_rows = pupils(1)
_digits = code[:5].translate(ARABIC_INDIC) + code[5].lower()
add(Case("csv_preamble_school_code_in_arabic_digits", monthly("attendance", "2023-05", code),
         csv_bytes([["massar_code", "unjustified_absence_days"], [_rows[0][0], "2"]],
                   preamble=[f"رمز المؤسسة :,{_digits}"]),
         "loaded", (1, 1, 0, 0), encoding="utf-8", support=roster_for(code, _rows),
         facts=("attendance", fs((3, 2, 0, 17)))))

code = A.school()
add(Case("xlsx_header_only", monthly("canteen_meals", "2022-12", code, "xlsx"),
         xlsx_bytes({"Feuil1": grid([["عدد المستفيدين", "عدد أيام الإطعام", "عدد الوجبات"]])}, rtl=True),
         "loaded", (0, 0, 0, 0), encoding="xlsx"))

code = A.school()
add(Case("xlsx_password_protected", f"{YEAR}/students/{code}.xlsx",
         b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64,
         "rejected", kind="unreadable",
         error="not a readable Excel or CSV file: the Excel file is password-protected (save it again without a password)"))

code = A.school()
add(Case("xlsx_xml_entity_bomb", f"{YEAR}/students/{code}.xlsx", entity_bomb_xlsx(), "rejected", kind="unreadable",
         error="not a readable Excel or CSV file: sheet Sheet1: at 0..0: unrecognized entity …"))

code = A.school()
add(Case("school_year_without_programme_rules", f"2016-2017/students/{code}.csv", csv_bytes([AR_HEADER, *pupils(1)]),
         "rejected", manifest_kind="misplaced", error_prefix="school year 2016-2017 has no programme rules in configs/programme_rules.yaml (known: "))

add(Case("path_outside_the_layout", "divers/notes.csv", csv_bytes([AR_HEADER, *pupils(1)]), "rejected", manifest_kind="misplaced",
         error_prefix="path 'divers/notes.csv' is not part of the landing layout; expected "))

# --- boundaries of the hard and plausible ranges -----------------------------------------------

code = A.school()
_p = [A.pupil() for _ in range(4)]
add(Case("row_age_at_the_edges_of_plausible", students(code),  # 1AP: nominal 6, plausible 5 to 11 at 1 Sept 2022
         csv_bytes([CANON_HEADER, [_p[0], "العلوي", "حمزة", "ذكر", "2017-09-01", "1AP"],     # 5 on 1 Sept
                    [_p[1], "العلوي", "حمزة", "ذكر", "2017-09-02", "1AP"],                  # 4
                    [_p[2], "العلوي", "حمزة", "ذكر", "2010-09-01", "1AP"],                  # 12 on 1 Sept
                    [_p[3], "العلوي", "حمزة", "ذكر", "2010-09-02", "1AP"]]),                # 11
         "loaded", (4, 4, 0, 2), encoding="utf-8",
         issues=fs(("age_level_mismatch", None, 3, "birth_date", "2017-09-02"),
                   ("age_level_mismatch", None, 4, "birth_date", "2010-09-01"))))

code = A.school()
_rows = pupils(3)
add(Case("row_absence_days_at_the_edge", monthly("attendance", "2023-06", code),  # June: 16 school days
         csv_bytes([["massar_code", "unjustified_absence_days", "justified_absence_days"],
                    [_rows[0][0], "10", "6"], [_rows[1][0], "10", "7"], [_rows[2][0], "17", ""]]),
         "loaded", (3, 1, 2, 0), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("absence_days_range", None, 3, "unjustified_absence_days", "10"),
                   ("absence_days_range", None, 4, "unjustified_absence_days", "17")),
         facts=("attendance", fs((2, 10, 6, 16)))))

code = A.school(boarding=False, canteen=True)
_rows = pupils(3, level="1AC", birth="2010-03-01")
add(Case("row_grants_at_school_with_canteen_only", f"{YEAR}/boarding_grants/{code}.csv",
         csv_bytes([["massar_code", "grant_type", "start_month"], [_rows[0][0], "cantine", "2022-09"],
                    [_rows[1][0], "demi-pension", "2022-09"], [_rows[2][0], "نصف منحة", "2022-10"]]),
         "loaded", (3, 3, 0, 2), encoding="utf-8", support=roster_for(code, _rows),
         issues=fs(("grant_without_facility", None, 3, "grant_type", "demi-pension"),
                   ("grant_without_facility", None, 4, "grant_type", "نصف منحة")),
         facts=("grants", fs((2, "cantine_college"), (3, "demi_pension"), (4, "demi_pension")))))

# --- the same bytes twice -----------------------------------------------------------------------

code = A.school()
_meals = csv_bytes([["عدد المستفيدين", "عدد أيام الإطعام", "عدد الوجبات"], ["40", "18", "700"]])
add(Case("resent_original_loads", monthly("canteen_meals", "2022-10", code), _meals, "loaded", (1, 1, 0, 0),
         encoding="utf-8"))
add(Case("resent_copy_is_duplicate", monthly("canteen_meals", "2022-11", code), _meals, "duplicate",
         (1, None, None, None), encoding="utf-8", duplicate_of=monthly("canteen_meals", "2022-10", code)))

# --- the referential itself, with a typo in a check letter and an unknown nature ----------------

REFERENTIAL_PATH = "reference/schools/2022-09-01.csv"
_TYPO = "31000A"        # 31000 % 23 = 19 -> the check letter is V
_PILOT = make_school_code(38888)
_BAD_PROVINCE_SCHOOL = make_school_code(38889)
_BAD_COMMUNE_SCHOOL = make_school_code(38890)


def referential_bytes() -> bytes:
    rows = [["CD_ETAB", "NOM_ETABL", "NOM_ETABA", "CD_PROV", "cd_com", "CD_MIL", "LL_CYCLE", "NetabFr",
             "has_boarding", "boarding_capacity", "has_canteen"]]
    for i, s in enumerate(A.schools):
        rows.append([s.code, f"ECOLE {i}", f"مدرسة رقم {i}", PROVINCE, "1001", "R", s.cycle, "Ecole Autonome",
                     "1" if s.boarding else "0", "40" if s.boarding else "", "1" if s.canteen else "0"])
    rows.append([_TYPO, "ECOLE TYPO", "مدرسة", PROVINCE, "1001", "R", "PRIMAIRE", "Ecole Autonome", "0", "", "0"])
    rows.append([_PILOT, "ECOLE PILOTE", "مدرسة نموذجية", PROVINCE, "1001", "U", "PRIMAIRE", "Ecole Pilote", "0", "",
                 "0"])
    # identifiers the referential itself gets wrong: each row is quarantined, the others load
    rows.append(["3900", "ECOLE CODE COURT", "مدرسة", PROVINCE, "1001", "R", "PRIMAIRE", "Ecole Autonome", "0", "", "0"])
    rows.append([_BAD_PROVINCE_SCHOOL, "ECOLE DIRECTION", "مدرسة", "9Z9", "1001", "R", "PRIMAIRE", "Ecole Autonome",
                 "0", "", "0"])
    rows.append([_BAD_COMMUNE_SCHOOL, "ECOLE COMMUNE", "مدرسة", PROVINCE, "10A1", "R", "PRIMAIRE", "Ecole Autonome",
                 "0", "", "0"])
    return csv_bytes(rows)


N_SCHOOLS = len(A.schools)
REFERENTIAL = Case("referential_typo_and_unknown_nature", REFERENTIAL_PATH, None, "loaded",
                   (N_SCHOOLS + 5, N_SCHOOLS + 1, 4, 1), encoding="utf-8",
                   issues=fs(("school_code_check_letter", None, N_SCHOOLS + 2, "school_code", _TYPO),
                             ("referential_value_unknown", None, N_SCHOOLS + 3, "nature", "Ecole Pilote"),
                             ("school_code_format", None, N_SCHOOLS + 4, "school_code", "3900"),
                             ("province_code_format", None, N_SCHOOLS + 5, "province_code", "9Z9"),
                             ("commune_code_format", None, N_SCHOOLS + 6, "commune_code", "10A1")))
CASES.append(REFERENTIAL)

SUPPORT: dict[str, bytes] = {p: d for c in CASES for p, d in c.support.items()}
_paths = [c.path for c in CASES] + list(SUPPORT)
assert len(_paths) == len(set(_paths)), "two cases share a path"
assert len({c.id for c in CASES}) == len(CASES), "two cases share an id"


def write_landing(root: Path, outside: Path) -> None:
    """Every case file and support file under `root`; links point into `outside`."""
    REFERENTIAL.data = referential_bytes()
    for rel, data in [*((c.path, c.data) for c in CASES if c.setup is None), *SUPPORT.items()]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for c in CASES:
        if c.setup is not None:
            path = root / c.path
            path.parent.mkdir(parents=True, exist_ok=True)
            c.setup(path, outside)
