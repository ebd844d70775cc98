"""The generic landing-zone reader, on XLSX and CSV files built in tmp_path."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from daam.config import Settings, load_settings
from daam.landing.reader import ERROR_KINDS, ReadResult, read_file

SETTINGS = load_settings()
STUDENTS = SETTINGS.record_types["students"]
PAYMENTS = SETTINGS.record_types["tayssir_payments"]
ATTENDANCE = SETTINGS.record_types["attendance"]
BENEFICIARIES = SETTINGS.record_types["tayssir_beneficiaries"]

ARABIC_HEADER = ["رقم التلميذ", "النسب", "الإسم", "النوع", "تاريخ الازدياد", "المستوى"]
PUPILS = [
    ["J130245871", "بن علي", "أحمد", "ذكر", "19/02/2013", "1AP"],
    ["K140012345", "الإدريسي", "فاطمة الزهراء", "أنثى", "03-11-2012", "2AP"],
    ["L150098765", "آيت الطالب", "إيمان", "أنثى", "2011-07-30", "3AP"],
]


def with_limits(**limits: int) -> Settings:
    return dataclasses.replace(SETTINGS, limits={**SETTINGS.limits, **limits})


def csv_bytes(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(delimiter.join(r) for r in rows) + "\r\n"
    return text.encode(encoding)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def ok(result: ReadResult) -> pd.DataFrame:
    assert result.error is None, result.error
    assert result.error_kind is None
    assert result.frame is not None
    return result.frame


def rejected(result: ReadResult, kind: str) -> str:
    assert kind in ERROR_KINDS
    assert result.frame is None
    assert result.error_kind == kind, result.error
    assert result.error
    assert "Traceback" not in result.error
    return result.error


def xlsx(path: Path, sheets: dict[str, list[tuple[int, int, object]]], rtl: bool = True) -> Path:
    """A workbook from {sheet: [(row0, col0, value)]}; datetimes get a date format."""
    wb = xlsxwriter.Workbook(str(path))
    date_format = wb.add_format({"num_format": "dd/mm/yyyy"})
    for name, cells in sheets.items():
        ws = wb.add_worksheet(name)
        if rtl:
            ws.right_to_left()
        for r, c, v in cells:
            if isinstance(v, dt.datetime):
                ws.write_datetime(r, c, v, date_format)
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            else:
                ws.write(r, c, v)
    wb.close()
    return path


def grid(rows: list[list[object]], first_row: int = 0) -> list[tuple[int, int, object]]:
    return [(first_row + i, j, v) for i, row in enumerate(rows) for j, v in enumerate(row) if v is not None]


# --- CSV encodings and delimiters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ";", "utf-8-sig"),
        ("utf-16", "\t", "utf-16"),  # Excel "Unicode text": BOM + UTF-16LE, tab-separated
        ("utf-16-le", "\t", "utf-16"),  # the same without a BOM
        ("utf-16-be", "\t", "utf-16"),
        ("cp1256", ";", "cp1256"),  # Arabic Excel on Windows
        ("cp1256", ",", "cp1256"),
    ],
)
def test_csv_encodings_keep_arabic_exactly(tmp_path: Path, encoding: str, delimiter: str, expected: str) -> None:
    path = write(tmp_path, "16698Z.csv", csv_bytes([ARABIC_HEADER, *PUPILS], delimiter, encoding))
    result = read_file(path, STUDENTS, SETTINGS)
    frame = ok(result)
    assert result.encoding == expected
    assert result.header_row == 1
    assert list(frame.columns) == [
        "massar_code", "last_name_ar", "first_name_ar", "gender", "birth_date", "level",
        "sheet", "row_number", "extra",
    ]
    assert frame["last_name_ar"].tolist() == ["بن علي", "الإدريسي", "آيت الطالب"]
    assert frame["first_name_ar"].tolist() == ["أحمد", "فاطمة الزهراء", "إيمان"]
    assert frame["gender"].tolist() == ["ذكر", "أنثى", "أنثى"]
    assert frame["birth_date"].tolist() == ["19/02/2013", "03-11-2012", "2011-07-30"]
    assert frame["row_number"].tolist() == [2, 3, 4]
    assert frame["sheet"].tolist() == [None, None, None]
    assert frame["extra"].tolist() == [None, None, None]
    assert result.extra_columns == []


def test_csv_french_headers_any_case_and_stray_spaces(tmp_path: Path) -> None:
    header = ["  CODE MASSAR ", "Nom", "PRÉNOM", "nom_ar", "Sexe", "Date  de  naissance", "niveau", "النســب", "الاسم"]
    rows = [header, ["J130245871", "Benali", "Ahmed", "x", "M", "19/02/2013", "1AP", "بن علي", "أحمد"]]
    frame = ok(read_file(write(tmp_path, "f.csv", csv_bytes(rows, ";")), STUDENTS, SETTINGS))
    assert frame.loc[0, "massar_code"] == "J130245871"
    assert frame.loc[0, "last_name_fr"] == "Benali"
    assert frame.loc[0, "first_name_fr"] == "Ahmed"
    assert frame.loc[0, "last_name_ar"] == "بن علي"
    assert json.loads(frame.loc[0, "extra"]) == {"nom_ar": "x"}


def test_decimal_comma_is_kept_as_text(tmp_path: Path) -> None:
    rows = [
        ["مرجع الأداء", "رقم البطاقة الوطنية للولي", "رقم التلميذ", "من شهر", "إلى شهر", "المبلغ", "الحالة"],
        ["P0001", "S123456", "J130245871", "09/2022", "12/2022", "560,00", "صرف"],
        ["P0002", "AB12345", "K140012345", "09/2022", "12/2022", "1 400,50", "غير مسحوب"],
    ]
    result = read_file(write(tmp_path, "101_1.csv", csv_bytes(rows, ";", "cp1256")), PAYMENTS, SETTINGS)
    frame = ok(result)
    assert frame["amount_mad"].tolist() == ["560,00", "1 400,50"]
    assert frame["period_from"].tolist() == ["09/2022", "09/2022"]


def test_comma_delimiter_with_quoted_decimal_commas(tmp_path: Path) -> None:
    data = (
        b"payment_ref,guardian_cin,massar_code,period_from,period_to,amount_mad,status\n"
        b'P1,S1,J130245871,2022-09,2022-12,"560,5",paid\n'
    )
    frame = ok(read_file(write(tmp_path, "p.csv", data), PAYMENTS, SETTINGS))
    assert frame.loc[0, "amount_mad"] == "560,5"


def test_csv_row_numbers_are_physical_lines(tmp_path: Path) -> None:
    data = (
        "رمز المؤسسة :;16698Z\n"
        "السنة الدراسية :;2022/2023\n"
        "\n"
        + ";".join(ARABIC_HEADER) + "\n"
        + ";".join(PUPILS[0]) + "\n"
        + "\n"
        + ";".join(PUPILS[1][:2]) + ';"فاطمة\nالزهراء";' + ";".join(PUPILS[1][3:]) + "\n"
        + ";".join(PUPILS[2]) + "\n"
        + ";;;;;\n"
    ).encode("utf-8")
    result = read_file(write(tmp_path, "s.csv", data), STUDENTS, SETTINGS)
    frame = ok(result)
    assert result.header_row == 4
    assert result.preamble == {"school_code": "16698Z", "school_year": "2022-2023"}
    assert frame["row_number"].tolist() == [5, 7, 9]
    assert frame.loc[1, "first_name_ar"] == "فاطمة\nالزهراء"


def test_csv_sub_header_row_is_not_data(tmp_path: Path) -> None:
    sub = ["Code Massar", "Nom", "Prénom", "Sexe", "Date de naissance", "Niveau"]
    path = write(tmp_path, "s.csv", csv_bytes([ARABIC_HEADER, sub, *PUPILS]))
    result = read_file(path, STUDENTS, SETTINGS)
    frame = ok(result)
    assert result.header_row == 1
    assert frame["row_number"].tolist() == [3, 4, 5]
    assert frame["massar_code"].tolist() == [p[0] for p in PUPILS]


def test_header_only_is_a_valid_empty_file(tmp_path: Path) -> None:
    result = read_file(write(tmp_path, "s.csv", csv_bytes([ARABIC_HEADER, ["", "", ""]])), STUDENTS, SETTINGS)
    frame = ok(result)
    assert len(frame) == 0
    assert "massar_code" in frame.columns and "row_number" in frame.columns


def test_extra_columns_are_reported_once_and_kept_per_row(tmp_path: Path) -> None:
    header = [*ARABIC_HEADER, "ملاحظات", "", "رقم التلميذ", "ملاحظات", ""]
    rows = [
        header,
        [*PUPILS[0], "جيد", "x", "J999999999", "", ""],
        [*PUPILS[1], "", "", "", "", ""],
    ]
    result = read_file(write(tmp_path, "s.csv", csv_bytes(rows)), STUDENTS, SETTINGS)
    frame = ok(result)
    # Empty header with data -> column_<letter>; empty header and no data -> ignored;
    # a second header of the same column -> extra; a repeated extra header -> suffixed.
    assert result.extra_columns == ["ملاحظات", "column_H", "رقم التلميذ", "ملاحظات (2)"]
    assert json.loads(frame.loc[0, "extra"]) == {"ملاحظات": "جيد", "column_H": "x", "رقم التلميذ": "J999999999"}
    assert frame.loc[1, "extra"] is None
    assert frame["massar_code"].tolist() == ["J130245871", "K140012345"]


def test_header_with_gloss_or_two_names(tmp_path: Path) -> None:
    header = ["CNE / Code Massar", "النسب", "الإسم", "Genre (M/F)", "تاريخ الازدياد (jj/mm/aaaa)", "المستوى"]
    frame = ok(read_file(write(tmp_path, "s.csv", csv_bytes([header, PUPILS[0]], ";")), STUDENTS, SETTINGS))
    assert frame.loc[0, "gender"] == "ذكر"
    assert frame.loc[0, "birth_date"] == "19/02/2013"


def test_every_alias_of_every_record_type_is_recognised(tmp_path: Path) -> None:
    for spec in SETTINGS.record_types.values():
        longest = max(len(c.aliases) for c in spec.columns.values()) + 1
        for k in range(longest):
            header = []
            for col in spec.columns.values():
                spellings = [col.name, *col.aliases]
                header.append(spellings[k % len(spellings)])
            path = write(tmp_path, f"{spec.name}_{k}.csv", csv_bytes([header, ["v"] * len(header)], ";"))
            result = read_file(path, spec, SETTINGS)
            frame = ok(result)
            assert [c for c in frame.columns if c not in ("sheet", "row_number", "extra")] == list(spec.columns)
            assert result.extra_columns == []


# --- XLSX -------------------------------------------------------------------------------------


def massar_workbook(path: Path) -> Path:
    """A Massar-style roster: RTL, preamble with `رمز المؤسسة :`, header row 10, French sub-header
    row 11, data from row 12, merged header cells, date cells, numbers stored as text, trailing
    formatted-but-empty rows and columns."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("ListeEleves")
    ws.right_to_left()
    date_format = wb.add_format({"num_format": "dd/mm/yyyy"})
    bold = wb.add_format({"bold": True, "border": 1})
    ws.write_string("A1", "المملكة المغربية")
    ws.write_string("A3", "أكاديمية :")
    ws.write_string("B3", "سوس ماسة")
    ws.write_string("D3", "م.الإقليمية :")
    ws.write_string("E3", "تيزنيت")
    ws.write_string("A5", "مؤسسة")
    ws.write_string("B5", "م. للا مريم")
    ws.write_string("D5", "رمز المؤسسة :")
    ws.write_string("F5", "16698z")  # after an empty cell, lower case
    ws.write_string("A7", "السنة الدراسية :")
    ws.write_string("B7", "2022/2023")
    ws.merge_range("A10:A11", "ر.ت", bold)  # vertical merge over header and sub-header
    for col, (ar, fr) in enumerate(
        [("رقم التلميذ", "Code Massar"), ("النسب", "Nom"), ("الإسم", "Prénom")], start=1
    ):
        ws.write_string(9, col, ar, bold)
        ws.write_string(10, col, fr, bold)
    ws.merge_range("E10:F10", "تاريخ الإزدياد", bold)  # horizontal merge: value in E only
    ws.write_string("E11", "Date de naissance", bold)
    ws.write_string("G10", "النوع", bold)
    ws.write_string("G11", "Sexe", bold)
    ws.write_string("H10", "المستوى", bold)
    ws.write_string("H11", "Niveau", bold)
    ws.write_string("I10", "ملاحظات", bold)
    data = [
        (1, "J130245871", "بن علي", "أحمد", dt.datetime(2013, 2, 19), "ذكر", "1AP"),
        (2, "K140012345", "الإدريسي", "فاطمة الزهراء", "03-11-2012", "أنثى", "1AP"),
        (3, "L150098765", "آيت الطالب", "إيمان", dt.datetime(2012, 12, 31), "أنثى", "1AP"),
    ]
    for i, (n, code, last, first, birth, sex, level) in enumerate(data):
        r = 11 + i
        ws.write_string(r, 0, str(n))  # a number stored as text
        ws.write_string(r, 1, f" {code} ")
        ws.write_string(r, 2, last)
        ws.write_string(r, 3, first)
        if isinstance(birth, dt.datetime):
            ws.write_datetime(r, 4, birth, date_format)
        else:
            ws.write_string(r, 4, birth)
        ws.write_string(r, 6, sex)
        ws.write_string(r, 7, level)
    ws.write_number("I13", 12.5)
    for r in range(14, 40):  # trailing empty (formatted) rows and columns
        for c in range(14):
            ws.write_blank(r, c, None, bold)
    ws.write_blank("M12", None, bold)
    wb.close()
    return path


def test_massar_style_workbook(tmp_path: Path) -> None:
    result = read_file(massar_workbook(tmp_path / "16698Z.xlsx"), STUDENTS, SETTINGS)
    frame = ok(result)
    assert result.encoding == "xlsx"
    assert result.header_row == 10
    assert result.preamble == {"school_code": "16698Z", "school_year": "2022-2023"}
    assert result.extra_columns == ["ر.ت", "ملاحظات"]
    assert frame["row_number"].tolist() == [12, 13, 14]
    assert frame["sheet"].tolist() == ["ListeEleves"] * 3
    assert frame["massar_code"].tolist() == ["J130245871", "K140012345", "L150098765"]
    assert frame["last_name_ar"].tolist() == ["بن علي", "الإدريسي", "آيت الطالب"]
    assert frame["first_name_ar"].tolist() == ["أحمد", "فاطمة الزهراء", "إيمان"]
    assert frame["birth_date"].tolist() == ["2013-02-19", "03-11-2012", "2012-12-31"]
    assert frame["gender"].tolist() == ["ذكر", "أنثى", "أنثى"]
    assert frame["level"].tolist() == ["1AP"] * 3
    # The French sub-header names Nom/Prénom under النسب/الإسم: the header row wins.
    assert "last_name_fr" not in frame.columns
    assert [json.loads(x) for x in frame["extra"]] == [{"ر.ت": "1"}, {"ر.ت": "2", "ملاحظات": "12.5"}, {"ر.ت": "3"}]


def test_xlsx_row_numbers_with_leading_blank_rows(tmp_path: Path) -> None:
    # Rows 1-2 empty, preamble on row 3, rows 4-6 empty, header on row 7, data from row 8.
    cells = [(2, 0, "رمز المؤسسة :"), (2, 1, "16698Z")]
    cells += grid([ARABIC_HEADER, *PUPILS], first_row=6)
    result = read_file(xlsx(tmp_path / "s.xlsx", {"Sheet1": cells}), STUDENTS, SETTINGS)
    frame = ok(result)
    assert result.header_row == 7
    assert result.preamble == {"school_code": "16698Z"}
    assert frame["row_number"].tolist() == [8, 9, 10]
    assert frame["massar_code"].tolist() == [p[0] for p in PUPILS]


def test_xlsx_row_numbers_when_used_range_starts_late(tmp_path: Path) -> None:
    cells = [(2, 3, "رمز المؤسسة :"), (2, 4, "16698Z")]
    cells += [(6, 3 + j, v) for j, v in enumerate(ARABIC_HEADER)]
    cells += [(7 + i, 3 + j, v) for i, row in enumerate(PUPILS) for j, v in enumerate(row)]
    result = read_file(xlsx(tmp_path / "s.xlsx", {"Sheet1": cells}), STUDENTS, SETTINGS)
    frame = ok(result)
    assert result.header_row == 7
    assert result.preamble == {"school_code": "16698Z"}
    assert frame["row_number"].tolist() == [8, 9, 10]
    assert frame["massar_code"].tolist() == [p[0] for p in PUPILS]
    assert frame["extra"].tolist() == [None, None, None]


def test_xlsx_cell_values_as_text(tmp_path: Path) -> None:
    header = ["رقم التلميذ", "الغياب غير المبرر", "الغياب المبرر", "أيام الدراسة", "ملاحظة", "تاريخ"]
    rows = [
        ["J130245871", 5.0, 2.5, 22, True, dt.datetime(2022, 10, 3, 14, 30)],
        ["J130245872", "٣", "0", "22", False, dt.datetime(2022, 10, 3)],
    ]
    path = xlsx(tmp_path / "a.xlsx", {"Feuil1": grid([header, *rows])}, rtl=False)
    frame = ok(read_file(path, ATTENDANCE, SETTINGS))
    assert frame["unjustified_absence_days"].tolist() == ["5", "٣"]
    assert frame["justified_absence_days"].tolist() == ["2.5", "0"]
    assert frame["school_days"].tolist() == ["22", "22"]
    assert [json.loads(x) for x in frame["extra"]] == [
        {"ملاحظة": "true", "تاريخ": "2022-10-03 14:30:00"},
        {"ملاحظة": "false", "تاريخ": "2022-10-03"},
    ]


def test_one_sheet_per_class_takes_level_from_sheet_name(tmp_path: Path) -> None:
    header = ["رقم التلميذ", "النسب", "الإسم", "النوع", "تاريخ الازدياد"]
    sheets = {
        "غلاف": [(0, 0, "لائحة التلاميذ"), (1, 0, "مؤسسة"), (1, 1, "م. للا مريم")],
        "1APIC-3": grid([header, PUPILS[0][:5], PUPILS[1][:5]]),
        "2AP-1": grid([["رمز المؤسسة :", "16698Z"], [], header, PUPILS[2][:5]]),
    }
    result = read_file(xlsx(tmp_path / "s.xlsx", sheets), STUDENTS, SETTINGS)
    frame = ok(result)
    assert result.skipped_sheets == ["غلاف"]
    assert frame["sheet"].tolist() == ["1APIC-3", "1APIC-3", "2AP-1"]
    assert frame["level"].tolist() == ["1APIC-3", "1APIC-3", "2AP-1"]
    assert frame["class_name"].tolist() == ["1APIC-3", "1APIC-3", "2AP-1"]
    assert frame["row_number"].tolist() == [2, 3, 4]
    assert result.preamble == {"school_code": "16698Z"}
    assert result.header_row == 1


def test_level_and_class_from_massar_preamble(tmp_path: Path) -> None:
    header = ["رقم التلميذ", "النسب", "الإسم", "النوع", "تاريخ الازدياد"]
    rows = [["المستوى :", "الثانية إعدادي مسار دولي", "القسم :", "2APIC-1"], [], header, PUPILS[0][:5]]
    frame = ok(read_file(xlsx(tmp_path / "s.xlsx", {"NotesCC": grid(rows)}), STUDENTS, SETTINGS))
    assert frame.loc[0, "class_name"] == "2APIC-1"
    assert frame.loc[0, "level"] == "2APIC-1"  # the label is not a known level; the class name is


def test_sheet_not_named_after_a_class_does_not_fill_level(tmp_path: Path) -> None:
    header = ["رقم التلميذ", "النسب", "الإسم", "النوع", "تاريخ الازدياد"]
    result = read_file(xlsx(tmp_path / "s.xlsx", {"Feuil1": grid([header, PUPILS[0][:5]])}), STUDENTS, SETTINGS)
    error = rejected(result, "missing_required_column")
    assert error == "required column(s) missing: level (المستوى / Niveau)"


def test_xlsx_detected_by_bytes_not_extension(tmp_path: Path) -> None:
    built = xlsx(tmp_path / "s.xlsx", {"S": grid([ARABIC_HEADER, *PUPILS])})
    path = write(tmp_path, "s.csv", built.read_bytes())
    result = read_file(path, STUDENTS, SETTINGS)
    assert result.encoding == "xlsx"
    assert len(ok(result)) == 3


def test_sheets_disagreeing_on_school_code(tmp_path: Path) -> None:
    header = ["رقم التلميذ", "النسب", "الإسم", "النوع", "تاريخ الازدياد"]
    sheets = {
        "1AP-1": grid([["رمز المؤسسة :", "16698Z"], header, PUPILS[0][:5]]),
        "1AP-2": grid([["CD_ETAB", "16699A"], header, PUPILS[1][:5]]),
    }
    error = rejected(read_file(xlsx(tmp_path / "s.xlsx", sheets), STUDENTS, SETTINGS), "conflicting_preamble")
    assert error == "the sheets disagree on the school code: 16698Z and 16699A (sheet 1AP-1 and sheet 1AP-2)"


def test_sheets_disagreeing_on_what_is_not_a_code_are_not_quoted(tmp_path: Path) -> None:
    sheets = {  # a Massar code written after the school-code label, in a sheet named after a pupil
        "أحمد بن علي": grid([["رمز المؤسسة :", "J130245871"], ARABIC_HEADER, PUPILS[0]]),
        "Feuil2": grid([["CD_ETAB", "16699A"], ARABIC_HEADER, PUPILS[1]]),
    }
    error = rejected(read_file(xlsx(tmp_path / "s.xlsx", sheets), STUDENTS, SETTINGS), "conflicting_preamble")
    assert error == "the sheets disagree on the school code: two different values (the 1st sheet and sheet Feuil2)"


def test_library_messages_lose_what_they_quote() -> None:
    from daam.landing.reader.reject import _library_reason, _sheet_label

    assert _library_reason(ValueError("at 0..0: unrecognized entity `&J130245871;`")) == (
        "at 0..0: unrecognized entity …")
    assert _library_reason(RuntimeError("File 'أحمد.xml' is encrypted")) == "File … is encrypted"
    assert _library_reason(ValueError("x" * 500)).endswith("…") and len(_library_reason(ValueError("x" * 500))) <= 121
    assert _sheet_label("Feuil1", 1, SETTINGS) == "sheet Feuil1" and _sheet_label("ورقة2", 2, SETTINGS) == "sheet ورقة2"
    assert _sheet_label("1APIC-3", 3, SETTINGS) == "sheet 1APIC-3"
    assert _sheet_label("محمد العلوي", 2, SETTINGS) == "the 2nd sheet"
    assert _sheet_label("Ahmed", 11, SETTINGS) == "the 11th sheet"


# --- rejections -------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    error = rejected(read_file(write(tmp_path, "e.csv", b""), STUDENTS, SETTINGS), "empty_file")
    assert error == "the file is empty (0 bytes)"


def test_missing_file(tmp_path: Path) -> None:
    rejected(read_file(tmp_path / "nope.csv", STUDENTS, SETTINGS), "unreadable")


def test_garbage_bytes(tmp_path: Path) -> None:
    error = rejected(read_file(write(tmp_path, "g.xlsx", bytes(range(256)) * 40), STUDENTS, SETTINGS), "unreadable")
    assert error.startswith("not a readable Excel or CSV file")


def test_control_characters_without_nul(tmp_path: Path) -> None:
    data = bytes(b % 32 + 1 for b in range(4000))
    rejected(read_file(write(tmp_path, "g.csv", data), STUDENTS, SETTINGS), "unreadable")


@pytest.mark.parametrize("text", [
    "رقم التلميذ,الاسم\nJ1\x07,\x1b[0m\x7f\n",          # C0 controls, DEL, Arabic
    "code;nom\r\nJ1\u00a0;\u0085 x\u009f\t\x0c\n",       # NBSP, C1 controls (0xC2 bytes), tab, form feed
    "a,b\n1,\x082\x1a\x1a",                             # DOS end-of-file marks are not counted
    "é" * 10 + "\x01" * 3 + "\U0001f600" + "\x19\x1b",
])
def test_control_characters_counted_on_the_bytes_as_on_the_text(text: str) -> None:
    """The fast count on UTF-8 or Windows-1256 bytes gives what the regular expression gives on the
    text, every byte of Windows-1256 included."""
    from daam.landing.reader.decode import _CONTROL, controls_in

    assert controls_in(text, text.encode(), "utf-8") == controls_in(text) == len(_CONTROL.findall(text))
    assert controls_in(text) > 0
    arabic = text.encode("cp1256", errors="replace")
    assert controls_in(arabic.decode("cp1256"), arabic, "cp1256") == controls_in(arabic.decode("cp1256"))
    every_byte = bytes(range(256)) + text.encode("cp1256", errors="replace")
    assert controls_in(every_byte.decode("cp1256"), every_byte, "cp1256") == controls_in(every_byte.decode("cp1256"))


def test_damaged_xlsx(tmp_path: Path) -> None:
    built = xlsx(tmp_path / "s.xlsx", {"S": grid([ARABIC_HEADER, *PUPILS])}).read_bytes()
    error = rejected(read_file(write(tmp_path, "d.xlsx", built[: len(built) // 2]), STUDENTS, SETTINGS), "unreadable")
    assert error.startswith("not a readable Excel or CSV file")


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "z.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    error = rejected(read_file(path, STUDENTS, SETTINGS), "unreadable")
    assert "not an Excel workbook" in error


def test_old_xls_and_pdf(tmp_path: Path) -> None:
    xls = write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert ".xls" in rejected(read_file(xls, STUDENTS, SETTINGS), "unreadable")
    pdf = write(tmp_path, "doc.csv", b"%PDF-1.4\n" + b"x" * 100)
    assert "PDF" in rejected(read_file(pdf, STUDENTS, SETTINGS), "unreadable")


def test_html_saved_as_spreadsheet(tmp_path: Path) -> None:
    data = "<html><body><table><tr><td>رقم التلميذ</td></tr></table></body></html>".encode()
    assert "HTML" in rejected(read_file(write(tmp_path, "l.xls", data), STUDENTS, SETTINGS), "unreadable")


def test_no_header(tmp_path: Path) -> None:
    rows = [["a", "b", "c"], ["1", "2", "3"]]
    error = rejected(read_file(write(tmp_path, "s.csv", csv_bytes(rows)), STUDENTS, SETTINGS), "no_header")
    assert error == (
        "no header row found: none of the first 30 rows names the columns of a students file "
        "(expected e.g. رقم التلميذ / Code Massar)"
    )


def test_no_header_in_any_sheet(tmp_path: Path) -> None:
    sheets = {"A": [(0, 0, "x"), (0, 1, "y")], "B": [(3, 3, "z")]}
    error = rejected(read_file(xlsx(tmp_path / "s.xlsx", sheets), STUDENTS, SETTINGS), "no_header")
    assert error.startswith("no header row found: none of the first 30 rows of any sheet")


def test_header_below_the_search_window(tmp_path: Path) -> None:
    rows = [[f"ligne {i}"] for i in range(40)] + [ARABIC_HEADER, PUPILS[0]]
    rejected(read_file(write(tmp_path, "s.csv", csv_bytes(rows)), STUDENTS, SETTINGS), "no_header")


def test_wrong_record_type(tmp_path: Path) -> None:
    rows = [["رقم التلميذ", "الغياب غير المبرر", "الغياب المبرر"], ["J130245871", "2", "1"]]
    result = read_file(write(tmp_path, "s.csv", csv_bytes(rows)), BENEFICIARIES, SETTINGS)
    error = rejected(result, "wrong_record_type")
    assert error.endswith("its columns are those of a attendance file")


def test_required_column_missing(tmp_path: Path) -> None:
    header = ["رقم التلميذ", "النسب", "الإسم", "النوع", "المستوى"]
    rows = [header, ["J130245871", "بن علي", "أحمد", "ذكر", "1AP"]]
    error = rejected(read_file(write(tmp_path, "s.csv", csv_bytes(rows)), STUDENTS, SETTINGS),
                     "missing_required_column")
    assert error == "required column(s) missing: birth_date (تاريخ الازدياد / Date de naissance)"


def test_required_column_missing_in_one_sheet(tmp_path: Path) -> None:
    sheets = {
        "1AP-1": grid([ARABIC_HEADER, PUPILS[0]]),
        "1AP-2": grid([["رقم التلميذ", "النسب", "الإسم", "المستوى"], ["J1", "ب", "أ", "1AP"]]),
    }
    error = rejected(read_file(xlsx(tmp_path / "s.xlsx", sheets), STUDENTS, SETTINGS), "missing_required_column")
    assert error == (
        "required column(s) missing in sheet 1AP-2: gender (النوع / Genre), "
        "birth_date (تاريخ الازدياد / Date de naissance)"
    )


@pytest.mark.parametrize("codec", ["iso8859_6", "cp720"])
def test_arabic_in_another_code_page_is_refused(tmp_path: Path, codec: str) -> None:
    data = csv_bytes([ARABIC_HEADER, *PUPILS], ";", codec)
    error = rejected(read_file(write(tmp_path, "s.csv", data), STUDENTS, SETTINGS), "encoding_not_allowed")
    assert error.startswith("text encoding not allowed: ")
    assert error.endswith("(use UTF-8, UTF-16 or Windows-1256)")
    # the line is named, not quoted: its words are names
    assert "from line 1 on" in error and "'" not in error and error.isascii()


def test_dos_latin_code_page_is_refused(tmp_path: Path) -> None:
    rows = [["Code Massar", "Nom", "Prénom", "Genre", "Date de naissance", "Niveau", "last_name_ar", "first_name_ar"]]
    rows += [["J130245871", "Hélène", "Zoé", "F", "19/02/2013", "1AP", "-", "-"]] * 3
    data = "\r\n".join(";".join(r) for r in rows).encode("cp850")
    rejected(read_file(write(tmp_path, "s.csv", data), STUDENTS, SETTINGS), "encoding_not_allowed")


def test_french_windows_latin_reads_as_cp1256(tmp_path: Path) -> None:
    # Windows-1256 places French accented letters where Windows-1252 has them.
    rows = [["Code Massar", "Nom", "Prénom", "Genre", "Date de naissance", "Niveau", "last_name_ar", "first_name_ar"],
            ["J130245871", "Hélène", "Zoé", "F", "19/02/2013", "1ère année primaire", "-", "-"]]
    data = "\r\n".join(";".join(r) for r in rows).encode("cp1252")
    result = read_file(write(tmp_path, "s.csv", data), STUDENTS, SETTINGS)
    frame = ok(result)
    assert result.encoding == "cp1256"
    assert frame.loc[0, "first_name_fr"] == "Zoé"
    assert frame.loc[0, "level"] == "1ère année primaire"


def test_utf8_with_stray_bytes_is_refused(tmp_path: Path) -> None:
    data = csv_bytes([ARABIC_HEADER, *PUPILS]) + "بن علي;أحمد\r\n".encode("cp1256")
    error = rejected(read_file(write(tmp_path, "s.csv", data), STUDENTS, SETTINGS), "encoding_not_allowed")
    assert "mostly UTF-8" in error and "line 5" in error


def test_utf32_is_refused(tmp_path: Path) -> None:
    data = csv_bytes([ARABIC_HEADER, *PUPILS], "\t", "utf-32")
    error = rejected(read_file(write(tmp_path, "s.csv", data), STUDENTS, SETTINGS), "encoding_not_allowed")
    assert "UTF-32" in error


def test_file_too_large(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", csv_bytes([ARABIC_HEADER, *PUPILS * 2000]))
    error = rejected(read_file(path, STUDENTS, with_limits(max_file_bytes=100_000)), "file_too_large")
    assert error.startswith("file too large: ") and error.endswith("(limit 97.7 KB)")


def test_zip_bomb(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "s.xlsx", {"S": grid([ARABIC_HEADER, *PUPILS])})
    error = rejected(read_file(path, STUDENTS, with_limits(max_xlsx_uncompressed_bytes=2000)), "xlsx_too_large")
    assert error.startswith("the Excel file inflates to ") and error.endswith("(limit 2 KB)")


def test_zip_bomb_with_lying_sizes(tmp_path: Path) -> None:
    # The ZIP directory claims tiny sizes; inflating tells the truth.
    src = xlsx(tmp_path / "s.xlsx", {"S": grid([ARABIC_HEADER, *PUPILS * 50])})
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        infos = zf.infolist()
    limit = max(i.file_size for i in infos) + 10
    assert sum(i.file_size for i in infos) > limit
    path = tmp_path / "lying.xlsx"
    # Rewrite each central-directory entry's uncompressed size (offset 24) to 1 byte.
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        data[pos + 24: pos + 28] = (1).to_bytes(4, "little")
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))
    # Python's zipfile inflates no more than the declared size, so the CRC check catches the lie.
    error = rejected(read_file(path, STUDENTS, with_limits(max_xlsx_uncompressed_bytes=limit)), "unreadable")
    assert error.startswith("not a readable Excel or CSV file: damaged Excel file (Bad CRC-32")


def test_too_many_rows_xlsx(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "s.xlsx", {"Classe": grid([ARABIC_HEADER, *PUPILS * 4])})
    error = rejected(read_file(path, STUDENTS, with_limits(max_rows_per_sheet=10)), "sheet_too_large")
    # a sheet name a school typed is not quoted (it could be a pupil's name): its position is
    assert error == "the 1st sheet has 13 rows (limit 10)"
    path = xlsx(tmp_path / "t.xlsx", {"Feuil1": grid([ARABIC_HEADER, *PUPILS * 4])})
    error = rejected(read_file(path, STUDENTS, with_limits(max_rows_per_sheet=10)), "sheet_too_large")
    assert error == "sheet Feuil1 has 13 rows (limit 10)"  # Excel's own name is quoted


def test_too_many_cells_across_sheets_xlsx(tmp_path: Path) -> None:
    # each sheet is within the row and column limits; together they span 2 x 4 rows x 6 columns
    path = xlsx(tmp_path / "s.xlsx", {"A": grid([ARABIC_HEADER, *PUPILS[:3]]), "B": grid([ARABIC_HEADER, *PUPILS[:3]])})
    assert read_file(path, STUDENTS, with_limits(max_cells_per_file=48)).error is None
    error = rejected(read_file(path, STUDENTS, with_limits(max_cells_per_file=47)), "sheet_too_large")
    assert error == "the workbook's sheets span 48 cells up to the 2nd sheet (limit 47)"


def test_too_many_rows_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", csv_bytes([ARABIC_HEADER, *PUPILS * 4]))
    error = rejected(read_file(path, STUDENTS, with_limits(max_rows_per_sheet=10)), "sheet_too_large")
    assert error == "the file has 12 rows (limit 10)"


def test_too_many_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", csv_bytes([[*ARABIC_HEADER, *[f"c{i}" for i in range(20)]], PUPILS[0]]))
    error = rejected(read_file(path, STUDENTS, with_limits(max_columns=10)), "too_many_columns")
    assert error == "line 1 has 26 columns (limit 10)"
    wide = xlsx(tmp_path / "w.xlsx", {"S": grid([ARABIC_HEADER, [*PUPILS[0], *["x"] * 20]])})
    error = rejected(read_file(wide, STUDENTS, with_limits(max_columns=10)), "too_many_columns")
    assert error == "the 1st sheet has 26 columns (limit 10)"


def test_over_long_line(tmp_path: Path) -> None:
    data = csv_bytes([ARABIC_HEADER, *PUPILS]) + b"x" * 3_000_000 + b"\n"
    error = rejected(read_file(write(tmp_path, "s.csv", data), STUDENTS, SETTINGS), "line_too_long")
    assert error == "a line of 2.9 MB: not a school record file (limit 1 MB a line)"


def test_old_mac_line_ends_are_not_one_long_line(tmp_path: Path) -> None:
    text = "\r".join(",".join(r) for r in [ARABIC_HEADER, *PUPILS * 30])
    result = read_file(write(tmp_path, "s.csv", text.encode()), STUDENTS, with_limits(max_line_bytes=1000))
    assert len(ok(result)) == 90


def test_preamble_label_and_value_in_one_cell(tmp_path: Path) -> None:
    rows = [["Code établissement : 16698z", "", "Année scolaire : 2022-23"], [], ARABIC_HEADER, PUPILS[0]]
    result = read_file(write(tmp_path, "s.csv", csv_bytes(rows, ";")), STUDENTS, SETTINGS)
    ok(result)
    assert result.preamble == {"school_code": "16698Z", "school_year": "2022-2023"}
    assert result.header_row == 3


def test_a_preamble_label_with_only_invisible_marks_after_it_names_no_school(tmp_path: Path) -> None:
    # A right-to-left mark typed after the label is all the school code cell holds: no code, so
    # nothing for the file's path to contradict.
    rows = [["Code établissement : \u200f", "", "Année scolaire : 2022-23"], [], ARABIC_HEADER, PUPILS[0]]
    result = read_file(write(tmp_path, "s.csv", csv_bytes(rows, ";")), STUDENTS, SETTINGS)
    ok(result)
    assert result.preamble == {"school_year": "2022-2023"}


def test_unclosed_quote(tmp_path: Path) -> None:
    rows = [ARABIC_HEADER, ['"J130245871', *PUPILS[0][1:]], *PUPILS * 30]
    error = rejected(read_file(write(tmp_path, "s.csv", csv_bytes(rows)), STUDENTS, SETTINGS), "unreadable")
    assert error == 'not a readable Excel or CSV file: a quote (") opened on line 2 is not closed within 50 lines'


@pytest.mark.parametrize("data", [b"   \r\n\r\n", b";;;;\r\n;;;\r\n", "\ufeff".encode()])
def test_files_without_values(tmp_path: Path, data: bytes) -> None:
    error = rejected(read_file(write(tmp_path, "s.csv", data), STUDENTS, SETTINGS), "no_header")
    assert error.startswith("no header row found: the file contains no")


def test_workbook_of_another_record_type(tmp_path: Path) -> None:
    header = ["رقم التلميذ", "الغياب غير المبرر", "الغياب المبرر", "أيام الدراسة"]
    sheets = {"Octobre": grid([["رمز المؤسسة :", "16698Z"], header, ["J130245871", 2, 0, 22]])}
    error = rejected(read_file(xlsx(tmp_path / "s.xlsx", sheets), BENEFICIARIES, SETTINGS), "wrong_record_type")
    assert error == (
        "no header row found: none of the first 30 rows names the columns of a tayssir_beneficiaries file "
        "(expected e.g. رقم التلميذ / Code Massar); its columns are those of a attendance file"
    )


def test_every_sheet_empty(tmp_path: Path) -> None:
    result = read_file(xlsx(tmp_path / "s.xlsx", {"Feuil1": [], "Feuil2": []}), STUDENTS, SETTINGS)
    assert rejected(result, "no_header") == "no header row found: every sheet of the workbook is empty"


def test_password_protected_workbook(tmp_path: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 100
    error = rejected(read_file(write(tmp_path, "s.xlsx", ole), STUDENTS, SETTINGS), "unreadable")
    assert "password" in error
