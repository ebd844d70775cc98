"""File formats of the demo landing zone: the format variants a school file may come in, the
tables the generator fills (canonical values + defects), and the XLSX / CSV writers.

A `Table` holds canonical values per column (ints, dates, `YYYY-MM` months, canonical vocabulary
codes, booleans) in internal row order, plus `order` (the order rows appear in the file), the
defect rule of each row and `raw` display overrides for cells that cannot be expressed as a
canonical value (an unknown gender, an unreadable date). Writers render it in the file's variant
and return, for every internal row, where it landed: (sheet, spreadsheet row number).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from daam.config import Settings

VARIANTS = ("xlsx_massar", "csv_fr_bom", "csv_ar_cp1256", "csv_en_tab", "csv_utf16_tab")
WEIGHTS = {  # large scales: attendance mostly CSV (xlsxwriter is slow), rosters often XLSX
    "students": (0.35, 0.25, 0.15, 0.2, 0.05), "attendance": (0.06, 0.32, 0.25, 0.32, 0.05),
    "tayssir_payments": (0.25, 0.3, 0.25, 0.15, 0.05), "canteen_meals": (0.1, 0.35, 0.25, 0.25, 0.05),
}
DEFAULT_WEIGHTS = (0.35, 0.25, 0.2, 0.15, 0.05)
CREATED = datetime(2020, 1, 1)
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EASTERN_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_ARABIC = re.compile(r"[\u0600-\u06FF]")

# Display spellings by file language; every one is an accepted spelling of configs/vocabularies.yaml
# (checked by the tests). Index 1 is the alternative spelling some files use.
VOCAB_DISPLAY: dict[str, dict[str, list[dict]]] = {
    "gender": {"ar": [{"M": "ذكر", "F": "أنثى"}, {"M": "ذ", "F": "أ"}],
               "fr": [{"M": "Garçon", "F": "Fille"}, {"M": "Masculin", "F": "Féminin"}],
               "en": [{"M": "M", "F": "F"}, {"M": "1", "F": "2"}]},
    "yes_no": {"ar": [{True: "نعم", False: "لا"}] * 2, "fr": [{True: "oui", False: "non"}, {True: "Oui", False: "Non"}],
               "en": [{True: "1", False: "0"}, {True: "true", False: "false"}]},
    "boarding_status": {"ar": [{"externe": "خارجي", "demi_pensionnaire": "نصف داخلي", "interne": "داخلي"}] * 2,
                        "fr": [{"externe": "externe", "demi_pensionnaire": "demi-pensionnaire",
                                "interne": "interne"}] * 2,
                        "en": [{"externe": "externe", "demi_pensionnaire": "demi_pensionnaire",
                                "interne": "interne"}] * 2},
    "tayssir_status": {"ar": [{"active": "نشيط", "suspended": "موقوف", "withdrawn": "منسحب"}] * 2,
                       "fr": [{"active": "actif", "suspended": "suspendu", "withdrawn": "retiré"}] * 2,
                       "en": [{"active": "active", "suspended": "suspended", "withdrawn": "withdrawn"}] * 2},
    "guardian_relation": {"ar": [{"mother": "أم", "father": "أب", "guardian": "ولي"}] * 2,
                          "fr": [{"mother": "mère", "father": "père", "guardian": "tuteur"}] * 2,
                          "en": [{"mother": "mother", "father": "father", "guardian": "guardian"}] * 2},
    "grant_type": {"ar": [{"internat": "منحة كاملة", "demi_pension": "نصف منحة", "cantine_college": "مطعم"},
                          {"internat": "داخلي", "demi_pension": "نصف داخلي", "cantine_college": "مطعم"}],
                   "fr": [{"internat": "internat", "demi_pension": "demi-pension", "cantine_college": "cantine"}] * 2,
                   "en": [{"internat": "internat", "demi_pension": "demi_pension",
                           "cantine_college": "cantine_college"}] * 2},
    "grant_status": {"ar": [{"granted": "ممنوحة", "withdrawn": "مسحوبة"}] * 2,
                     "fr": [{"granted": "accordée", "withdrawn": "retirée"}] * 2,
                     "en": [{"granted": "granted", "withdrawn": "withdrawn"}] * 2},
    "kit_type": {"ar": [{"full_kit": "محفظة كاملة", "books_supplies": "كتب ولوازم", "books_only": "كتب فقط"}] * 2,
                 "fr": [{"full_kit": "kit complet", "books_supplies": "livres et fournitures",
                         "books_only": "livres seulement"}] * 2,
                 "en": [{"full_kit": "full_kit", "books_supplies": "books_supplies", "books_only": "books_only"}] * 2},
    "payment_status": {"ar": [{"paid": "صرف", "unclaimed": "غير مسحوب", "cancelled": "ملغى"}] * 2,
                       "fr": [{"paid": "payé", "unclaimed": "non retiré", "cancelled": "annulé"}] * 2,
                       "en": [{"paid": "paid", "unclaimed": "unclaimed", "cancelled": "cancelled"}] * 2},
}
TITLES = {"students": "لائحة التلاميذ", "tayssir_beneficiaries": "لائحة المستفيدين من برنامج تيسير",
          "attendance": "الغياب الشهري للتلاميذ", "schoolbags": "المبادرة الملكية مليون محفظة - الحاجيات",
          "boarding_grants": "لائحة الممنوحين - الداخليات والمطاعم", "canteen_meals": "الإطعام المدرسي - الدعم الغذائي"}


@dataclass(frozen=True)
class Fmt:
    """How one file is written. `variant` is one of VARIANTS; the rest are its options."""

    variant: str
    lang: str  # header and vocabulary language: ar | fr | en
    encoding: str = "utf-8"
    delimiter: str = ","
    eol: str = "\n"
    date_style: str = "iso"  # cell | dmy_dash | dmy_slash | iso
    month_style: str = "iso"  # iso (2022-10) | my_slash (10/2022) | ym_slash (2022/10)
    decimal_comma: bool = False
    amount_2dp: bool = False
    indic: int = 0  # 0 ASCII digits, 1 Arabic-Indic, 2 Eastern Arabic-Indic in numeric cells
    spell: int = 0  # alternative vocabulary spellings
    noisy_headers: bool = False
    omit: tuple[str, ...] = ()
    # XLSX only
    subheader: bool = False
    merged: bool = False
    num_text: bool = False
    per_class: bool = False
    packed: bool = False
    pad: int = 0
    row_no: bool = False
    trailing: bool = False

    @property
    def xlsx(self) -> bool:
        return self.variant == "xlsx_massar"

    def describe(self) -> str:
        """Variant and active options, e.g. `xlsx_massar+subheader+per_class+date=cell`."""
        opts = [k for k in ("subheader", "merged", "num_text", "per_class", "packed", "row_no", "trailing",
                            "noisy_headers", "decimal_comma", "amount_2dp") if getattr(self, k)]
        if self.indic:
            opts.append(f"indic={self.indic}")
        opts += [f"omit={c}" for c in self.omit]
        opts += [f"date={self.date_style}", f"month={self.month_style}", f"spell={self.spell}"]
        return "+".join([self.variant, *opts])


def stable_hash(*key: object) -> int:
    """A 64-bit hash of a key, stable across runs and platforms."""
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "little")


TINY_CYCLE = {"students": ("xlsx_massar", "csv_fr_bom", "xlsx_massar", "csv_ar_cp1256", "xlsx_massar", "csv_en_tab",
                           "xlsx_massar", "csv_utf16_tab")}


def pick_variant(rtype: str, key: tuple, scale: str, counter: int) -> tuple[str, int, int]:
    """(variant, x, y) of one file: tiny scale cycles through the variants by the record type's file
    counter (so every variant and option appears); larger scales draw from per-record-type weights by
    a hash of the file's key. x drives the XLSX options, y the others. Seed-independent."""
    if scale == "tiny":
        cycle = TINY_CYCLE.get(rtype, VARIANTS)
        return cycle[counter % len(cycle)], -1, counter // len(cycle)
    h = stable_hash(rtype, *key)
    u, acc = (h % 10_000) / 10_000, 0.0
    for v, w in zip(VARIANTS, WEIGHTS.get(rtype, DEFAULT_WEIGHTS)):
        acc += w
        if u < acc:
            return v, h >> 14, h >> 14
    return VARIANTS[-1], h >> 14, h >> 14


def make_format(rtype: str, variant: str, x: int, y: int) -> Fmt:
    """The options of a file from two integers (counters at tiny scale, hash bits otherwise)."""
    spell = y % 2
    noisy = y % 3 == 2
    omit = ["school_days"] if rtype == "attendance" and y % 4 == 3 else []
    amount_2dp = rtype == "tayssir_payments" and y % 2 == 1
    if variant == "csv_fr_bom":
        return Fmt(variant, "fr", "utf-8-sig", ",", "\n", "dmy_slash", "my_slash", spell=spell,
                   noisy_headers=noisy, omit=tuple(omit), amount_2dp=amount_2dp)
    if variant == "csv_ar_cp1256":
        return Fmt(variant, "ar", "cp1256", ";", "\r\n", "dmy_slash", "iso", decimal_comma=rtype == "tayssir_payments",
                   amount_2dp=rtype == "tayssir_payments", spell=spell, noisy_headers=noisy, omit=tuple(omit))
    if variant == "csv_en_tab":
        if rtype == "students" and y % 2 == 1:
            omit.append("disability")
        return Fmt(variant, "en", "utf-8", "\t", "\n", "iso", "iso", spell=spell, noisy_headers=noisy,
                   omit=tuple(omit), amount_2dp=amount_2dp)
    if variant == "csv_utf16_tab":
        return Fmt(variant, "ar", "utf-16", "\t", "\r\n", "dmy_dash", "ym_slash", indic=1 + y % 2,
                   spell=spell, noisy_headers=noisy, omit=tuple(omit), amount_2dp=amount_2dp)
    per_class = rtype == "students" and x % 2 == 0
    subheader = x % 5 in (1, 3) and rtype != "tayssir_payments"  # the operator sends no sub-header
    return Fmt(variant, "ar" if rtype != "tayssir_payments" else "fr",
               date_style=("cell", "dmy_dash", "dmy_slash")[x % 3], month_style=("iso", "ym_slash")[(x // 2) % 2],
               indic=1 if x % 11 in (3, 8) else 0, spell=spell, noisy_headers=x % 9 == 4,
               omit=tuple(omit + (["level", "class_name"] if per_class else [])), subheader=subheader,
               merged=subheader and x % 3 != 1, num_text=x % 7 in (1, 4), per_class=per_class,
               packed=x % 4 in (1, 2), pad=(x // 3) % 4, row_no=x % 6 < 3, trailing=x % 7 in (2, 5, 6),
               amount_2dp=amount_2dp)


@dataclass
class Table:
    """Rows of one file: canonical values by column, in internal order. Rows added by defects go
    right after an original row or at the end; `order` is the order rows appear in the file."""

    rtype: str
    data: dict[str, list]
    defect: list[str] = field(default_factory=list)
    raw: dict[str, dict[int, str]] = field(default_factory=dict)
    school: list[str] | None = None  # per-row school code when a file spans schools (payments)

    def __post_init__(self) -> None:
        self.n0 = len(next(iter(self.data.values()))) if self.data else 0
        self.defect = self.defect or [""] * self.n0
        self._after: dict[int, list[int]] = {}
        self._tail: list[int] = []

    def __len__(self) -> int:
        return len(self.defect)

    @property
    def order(self) -> list[int]:
        if not self._after and not self._tail:
            return list(range(self.n0))
        out: list[int] = []
        for i in range(self.n0):
            out.append(i)
            out.extend(self._after.get(i, ()))
        return out + self._tail

    def row(self, i: int) -> dict:
        return {c: v[i] for c, v in self.data.items()}

    def append(self, row: dict, defect: str, after: int | None = None, school: str | None = None) -> int:
        """Add a row (canonical values) right after original row `after`, or at the end."""
        i = len(self)
        for c, v in self.data.items():
            v.append(row.get(c))
        self.defect.append(defect)
        if self.school is not None:
            self.school.append(school or "")
        if after is None:
            self._tail.append(i)
        else:
            self._after.setdefault(after, []).append(i)
        return i

    def set_raw(self, col: str, i: int, text: str) -> None:
        self.raw.setdefault(col, {})[i] = text


@dataclass
class Headers:
    """Header texts of a record type's columns in each language."""

    ar: dict[str, str]
    fr: dict[str, str]

    @staticmethod
    def of(settings: Settings, rtype: str) -> Headers:
        ar, fr = {}, {}
        for c, spec in settings.record_types[rtype].columns.items():
            arabic = [a for a in spec.aliases if _ARABIC.search(a)]
            latin = [a for a in spec.aliases if not _ARABIC.search(a) and "_" not in a and not a.isupper()]
            fr[c] = latin[0] if latin else arabic[0] if arabic else c
            ar[c] = arabic[0] if arabic else fr[c]
        return Headers(ar, fr)

    def text(self, col: str, fmt: Fmt, k: int = 0) -> str:
        """Header of a column (k-th written) in the file's language; noisy files get a tatweel and a
        stray space, or upper case and a trailing space, on every third column."""
        t = {"ar": self.ar, "fr": self.fr}.get(fmt.lang, {}).get(col, col)
        if not fmt.noisy_headers or k % 3:
            return t
        if _ARABIC.search(t) and len(t) > 3 and " " in t:
            return f" {t[:2]}ـ{t[2:]}"  # a tatweel and a stray space
        up = t.upper() + " "
        try:
            up.encode(fmt.encoding)
        except UnicodeEncodeError:
            return " " + t
        return up


def _num_text(v: object, fmt: Fmt) -> str:
    s = str(v)
    return s.translate(ARABIC_INDIC if fmt.indic == 1 else EASTERN_INDIC) if fmt.indic else s


def _date_text(d: date, style: str) -> str:
    if style == "iso":
        return d.isoformat()
    sep = "-" if style == "dmy_dash" else "/"
    return f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}"


def _month_text(m: str, style: str) -> str:
    if style == "my_slash":
        return f"{m[5:7]}/{m[:4]}"
    if style == "ym_slash":
        return f"{m[:4]}/{m[5:7]}"
    return m


def display_column(settings: Settings, rtype: str, col: str, values: list, fmt: Fmt) -> list:
    """Render canonical values of a column as the file shows them (typed for XLSX, str for CSV)."""
    kind = settings.record_types[rtype].columns[col].kind
    out: list
    if kind in ("int", "decimal"):
        as_text = not fmt.xlsx or fmt.num_text or fmt.indic
        if kind == "decimal":
            if fmt.amount_2dp or fmt.decimal_comma:
                txt = [None if v is None else f"{v:.2f}" for v in values]
            else:
                txt = [None if v is None else (str(int(v)) if float(v).is_integer() else str(v)) for v in values]
            if fmt.decimal_comma:
                txt = [None if t is None else t.replace(".", ",") for t in txt]
            out = [None if t is None else _num_text(t, fmt) for t in txt] if as_text else \
                [None if v is None else float(v) for v in values]
        elif not as_text:
            out = list(values)
        elif fmt.indic:
            out = [None if v is None else _num_text(v, fmt) for v in values]
        else:
            out = [None if v is None else str(v) for v in values]
    elif kind == "date":
        if fmt.xlsx and fmt.date_style == "cell":
            out = list(values)
        else:
            style = fmt.date_style if fmt.date_style != "cell" else "dmy_slash"
            out = [None if v is None else _date_text(v, style) for v in values]
    elif kind == "month":
        out = [None if v is None else _month_text(v, fmt.month_style) for v in values]
    elif kind.startswith("vocab:"):
        vocab = kind[6:]
        if vocab == "level":
            lv = settings.levels
            pick = {"ar": (lambda c: lv[c].label_ar) if fmt.spell == 0 else (lambda c: c),
                    "fr": (lambda c: c) if fmt.spell == 0 else (lambda c: lv[c].label_fr)}.get(fmt.lang, lambda c: c)
            out = [None if v is None else pick(v) for v in values]
        else:
            m = VOCAB_DISPLAY[vocab][fmt.lang][fmt.spell]
            out = [None if v is None else m[v] for v in values]
    else:
        out = [None if v is None else str(v) for v in values]
    return out


def canonical_column(settings: Settings, rtype: str, col: str, values: list) -> list[str]:
    """Canonical text of a column for the truth files (ISO dates, plain numbers, vocabulary codes)."""
    kind = settings.record_types[rtype].columns[col].kind
    if kind == "date":
        return ["" if v is None else v.isoformat() for v in values]
    if kind == "decimal":
        return ["" if v is None else (str(int(v)) if float(v).is_integer() else str(v)) for v in values]
    if kind == "vocab:yes_no":
        return ["" if v is None else ("true" if v else "false") for v in values]
    return ["" if v is None else str(v) for v in values]


def rendered(settings: Settings, table: Table, fmt: Fmt, cols: list[str]) -> dict[str, list]:
    """Display values of the columns written, raw overrides applied."""
    out = {}
    for c in cols:
        vals = display_column(settings, table.rtype, c, table.data[c], fmt)
        for i, text in table.raw.get(c, {}).items():
            vals[i] = text
        out[c] = vals
    return out


def truth_values(settings: Settings, table: Table) -> dict[str, list[str]]:
    """Canonical text of every column of the record type (raw text where a defect put one)."""
    out = {}
    for c in settings.record_types[table.rtype].columns:
        vals = canonical_column(settings, table.rtype, c, table.data[c]) if c in table.data else [""] * len(table)
        for i, text in table.raw.get(c, {}).items():
            vals[i] = text
        out[c] = vals
    return out


def write_csv(path: Path, headers: list[str], columns: list[list], order: list[int], fmt: Fmt) -> list[int]:
    """Write a CSV in the variant's encoding/delimiter; return the line number of each internal row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=fmt.delimiter, lineterminator=fmt.eol)
    w.writerow(headers)
    cols = [[("" if col[i] is None else col[i]) for i in order] for col in columns]
    w.writerows(zip(*cols))
    text = buf.getvalue()
    if fmt.encoding == "utf-16":
        data = "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")
    else:
        data = text.encode(fmt.encoding)
    path.write_bytes(data)
    lines = [0] * (max(order) + 1 if order else 0)
    for pos, i in enumerate(order):
        lines[i] = pos + 2
    return lines


@dataclass
class Preamble:
    """What the Massar preamble shows."""

    region_ar: str
    province_ar: str
    school_ar: str
    school_code: str
    school_year: str  # 2022-2023
    month: str | None = None
    title: str = ""


def _preamble_rows(p: Preamble, fmt: Fmt, level_ar: str | None, class_name: str | None) -> list[list]:
    year = p.school_year.replace("-", "/")
    extra: list[list] = []
    if p.month:
        extra.append(["الشهر :", p.month])
    if class_name:
        extra.append(["المستوى :", level_ar, "القسم :", class_name])
    if fmt.packed:
        rows = [[p.title], [], ["أكاديمية :", p.region_ar, "م.الإقليمية :", p.province_ar, "مؤسسة", p.school_ar], [],
                ["رمز المؤسسة :", p.school_code, "السنة الدراسية :", year], *extra]
    else:
        rows = [[p.title], [], ["أكاديمية :", p.region_ar], ["م.الإقليمية :", p.province_ar], ["مؤسسة", p.school_ar],
                ["رمز المؤسسة :", p.school_code], ["السنة الدراسية :", year], *extra]
    rows += [[]] * (1 + fmt.pad)
    return rows[:12]


def write_xlsx(path: Path, sheets: list[tuple[str, list[int], str | None, str | None]], headers: list[str],
               subheaders: list[str] | None, columns: list[list], fmt: Fmt, preamble: Preamble | None,
               n_rows: int, merge_cols: tuple[int, ...] = (), plain_preamble: list[list] | None = None) -> list:
    """Write a Massar-style workbook. `sheets` = (sheet name, internal rows in order, level label,
    class name); returns (sheet, row number) of each internal row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    big = n_rows > 2000 and not fmt.merged
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": big, "in_memory": not big, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"created": CREATED, "author": "Massar", "title": preamble.title if preamble else ""})
    bold = wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter"})
    date_f = wb.add_format({"num_format": "dd/mm/yyyy"})
    border = wb.add_format({"border": 1})
    where: list = [None] * n_rows
    offset = 1 if fmt.row_no else 0
    for name, rows, level_ar, class_name in sheets:
        ws = wb.add_worksheet(name)
        if preamble is not None:
            ws.right_to_left()
            pre = _preamble_rows(preamble, fmt, level_ar, class_name)
        else:
            pre = plain_preamble or []
        ws.set_column(0, len(headers) + offset, 18)
        for r, cells in enumerate(pre):
            if r == 0 and cells and not big:
                ws.merge_range(0, 0, 0, max(3, len(headers) - 1), cells[0], bold)
                continue
            for c, v in enumerate(cells):
                ws.write_string(r, c, v)
        h = len(pre)
        head = (["ر.ت"] if fmt.row_no else []) + headers
        sub = ([""] if fmt.row_no else []) + subheaders if subheaders else None
        merged = {m + offset for m in merge_cols} | ({0} if fmt.row_no else set()) if sub and fmt.merged else set()
        for c, t in enumerate(head):
            if c not in merged:
                ws.write_string(h, c, t, bold)
        if sub:
            for c, t in enumerate(sub):
                if c not in merged and t:
                    ws.write_string(h + 1, c, t, bold)
            for c in sorted(merged):
                ws.merge_range(h, c, h + 1, c, head[c], bold)
        first = h + (2 if sub else 1)
        for k, i in enumerate(rows):
            r = first + k
            where[i] = (name, r + 1)
            if fmt.row_no:
                ws.write_number(r, 0, k + 1)
            for c, col in enumerate(columns):
                v = col[i]
                if v is None or v == "":
                    continue
                if isinstance(v, str):
                    ws.write_string(r, c + offset, v)
                elif isinstance(v, date):
                    ws.write_datetime(r, c + offset, datetime(v.year, v.month, v.day), date_f)
                else:
                    ws.write_number(r, c + offset, v)
        if fmt.trailing:
            for r in range(first + len(rows), first + len(rows) + 2):
                for c in range(len(head) + 1):
                    ws.write_blank(r, c, None, border)
    wb.close()
    return where
