"""Tests of the demo-data generator at tiny scale: determinism, landing layout, format variants,
truth rows against the files actually written, injected defects, and payment amounts."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from daam.codes import CIN_RE, MASSAR_CODE_RE, is_valid_school_code
from daam.config import load_settings
from daam.demo.defects import ALL_RULES, RULES, severities
from daam.demo.generator import _Gen, generate
from daam.demo.referential import School
from daam.demo.writers import VARIANTS, VOCAB_DISPLAY

YEARS = ["2021-2022", "2022-2023"]
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
ENCODING = {"csv_fr_bom": ("utf-8-sig", ","), "csv_ar_cp1256": ("cp1256", ";"), "csv_en_tab": ("utf-8", "\t"),
            "csv_utf16_tab": ("utf-16", "\t")}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dirty")
    return out, generate(out, scale="tiny", seed=0, years=YEARS, defects=0.05)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("clean")
    return out, generate(out, scale="tiny", seed=0, years=YEARS, defects=0.0)


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _truth(out: Path, rt: str) -> pd.DataFrame:
    return _csv(out / ".daam-demo" / "truth" / f"{rt}.csv")


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _read(out: Path, rel: str, variant: str) -> dict[tuple[str, int], list[str]]:
    """Every non-empty row of a file: (sheet, row number) -> cells as text (digits folded)."""
    rows: dict[tuple[str, int], list[str]] = {}
    if variant == "xlsx_massar":
        wb = CalamineWorkbook.from_path(str(out / rel))
        for name in wb.sheet_names:
            for r, cells in enumerate(wb.get_sheet_by_name(name).to_python(skip_empty_area=False), start=1):
                text = ["" if c is None else str(c).translate(DIGITS) for c in cells]
                if any(t.strip() for t in text):
                    rows[(name, r)] = text
    else:
        enc, sep = ENCODING[variant]
        df = pd.read_csv(out / rel, dtype=str, keep_default_na=False, encoding=enc, sep=sep)
        for k, rec in enumerate(df.itertuples(index=False), start=2):
            rows[("", k)] = [str(v).translate(DIGITS) for v in rec]
    return rows


def test_deterministic(tmp_path, dirty) -> None:
    out, _ = dirty
    again = tmp_path / "again"
    generate(again, scale="tiny", seed=0, years=YEARS, defects=0.05)
    assert _hashes(again) == _hashes(out)
    other = tmp_path / "other"
    generate(other, scale="tiny", seed=1, years=YEARS, defects=0.05)
    assert _hashes(other) != _hashes(out)


def test_layout_and_record_types(dirty) -> None:
    out, summary = dirty
    patterns = {
        "schools": r"reference/schools/\d{4}-09-01\.csv",
        "students": r"(?P<y>\d{4}-\d{4})/students/\d{5}[A-Z]\.(xlsx|csv)",
        "tayssir_beneficiaries": r"(?P<y>\d{4}-\d{4})/tayssir_beneficiaries/\d{5}[A-Z]\.(xlsx|csv)",
        "attendance": r"(?P<y>\d{4}-\d{4})/attendance/(?P<m>\d{4}-\d{2})/\d{5}[A-Z]\.(xlsx|csv)",
        "schoolbags": r"(?P<y>\d{4}-\d{4})/schoolbags/\d{5}[A-Z]\.(xlsx|csv)",
        "boarding_grants": r"(?P<y>\d{4}-\d{4})/boarding_grants/\d{5}[A-Z]\.(xlsx|csv)",
        "canteen_meals": r"(?P<y>\d{4}-\d{4})/canteen_meals/(?P<m>\d{4}-\d{2})/\d{5}[A-Z]\.(xlsx|csv)",
        "tayssir_payments": r"(?P<y>\d{4}-\d{4})/tayssir_payments/11[01]_[123]\.(xlsx|csv)",
    }
    settings = load_settings()
    found: dict[str, set[str]] = defaultdict(set)
    for p in out.rglob("*"):
        rel = p.relative_to(out).as_posix()
        if not p.is_file() or rel.startswith(".daam-demo/"):
            continue
        kinds = [rt for rt, pat in patterns.items() if (m := re.fullmatch(pat, rel))
                 and (not m.groupdict().get("m") or m["m"] in settings.months_of(m["y"]))]
        assert len(kinds) == 1, rel
        found[kinds[0]].add(rel)
    assert set(found) == set(patterns)
    for y in YEARS:
        for rt in patterns:
            if rt != "schools":
                assert any(f.startswith(y) for f in found[rt]), (rt, y)
        months = {f.split("/")[2] for f in found["attendance"] if f.startswith(y)}
        assert months == set(settings.months_of(y))
    assert summary["files"]["attendance"] == len(found["attendance"])
    # every school of the year has a roster and 10 attendance files, less the months it never sent
    manifest = _csv(out / ".daam-demo" / "files.csv")
    missing = _csv(out / ".daam-demo" / "missing.csv")
    assert len(missing) and set(missing.record_type) <= {"attendance", "canteen_meals"}
    ok = manifest[manifest.file_defect == ""]
    for y in YEARS:
        att = ok[(ok.record_type == "attendance") & (ok.school_year == y)].groupby("school_code").size()
        not_sent = missing[(missing.record_type == "attendance") & (missing.school_year == y)].groupby(
            "school_code").size()
        rosters = set(ok[(ok.record_type == "students") & (ok.school_year == y)].school_code)
        assert set(att.index) == rosters and (att + not_sent.reindex(att.index, fill_value=0) == 10).all()
        assert len(rosters) == summary["schools"][y]
    # file times: the recorded arrival, LATE_PERCENT of them after the deadline
    times = pd.to_datetime(manifest.received_at)
    for rel, when in zip(manifest.file_path, times):
        assert abs(os.stat(out / rel).st_mtime - when.timestamp()) < 1, rel
    monthly = manifest[manifest.record_type == "attendance"]
    due = [settings.deadline("attendance", y, p) for y, p in zip(monthly.school_year, monthly.period)]
    late = sum(t.date() > d for t, d in zip(pd.to_datetime(monthly.received_at), due))
    assert 0 < late < len(monthly) * 0.2


def test_format_variants_all_present(dirty) -> None:
    out, _ = dirty
    fmts = _csv(out / ".daam-demo" / "files.csv").format
    options = Counter(o for f in fmts for o in f.split("+"))
    for v in VARIANTS:
        assert options[v] > 0, v
    for opt in ("subheader", "merged", "num_text", "per_class", "packed", "row_no", "trailing", "noisy_headers",
                "decimal_comma", "indic=1", "indic=2", "omit=school_days", "date=cell", "date=dmy_dash",
                "date=dmy_slash", "date=iso", "spell=0", "spell=1"):
        assert options[opt] > 0, opt
    rosters = [f for f in fmts if f.startswith("xlsx_massar") and "per_class" in f]
    assert rosters and any("date=cell" in f for f in fmts if "xlsx" in f)
    # the encodings really are what the variant says
    m = _csv(out / ".daam-demo" / "files.csv")
    for rel, fmt in zip(m.file_path, m.format):
        head = (out / rel).read_bytes()[:4]
        if fmt.startswith("csv_fr_bom"):
            assert head.startswith(b"\xef\xbb\xbf")
        elif fmt.startswith("csv_utf16_tab"):
            assert head.startswith(b"\xff\xfe")
        elif fmt.startswith("xlsx"):
            assert head.startswith(b"PK")
        elif fmt.startswith("csv_ar_cp1256"):
            (out / rel).read_bytes().decode("cp1256")


def test_vocabulary_spellings_are_accepted() -> None:
    settings = load_settings()

    def fold(s: str) -> str:
        s = unicodedata.normalize("NFKD", s.replace("ـ", "")).casefold()
        return " ".join("".join(c for c in s if not unicodedata.combining(c)).split())

    for vocab, by_lang in VOCAB_DISPLAY.items():
        accepted = {fold(str(k)) for k in settings.vocabularies[vocab]}
        accepted |= {fold(a) for v in settings.vocabularies[vocab].values() for a in v}
        for spellings in by_lang.values():
            for m in spellings:
                for value in m.values():
                    assert fold(value) in accepted, (vocab, value)


def test_referential(dirty) -> None:
    out, _ = dirty
    snap = pd.read_csv(out / "reference/schools/2022-09-01.csv", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")
    assert (out / "reference/schools/2022-09-01.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert list(snap.columns) == ["CD_ETAB", "NOM_ETABL", "NOM_ETABA", "CD_PROV", "cd_com", "la_com", "ll_com",
                                  "CD_MIL", "LL_CYCLE", "NetabFr", "CD_etabr", "typeEtab", "has_boarding",
                                  "boarding_capacity", "has_canteen", "opened_on", "closed_on"]
    assert all(is_valid_school_code(c) for c in snap.CD_ETAB) and snap.CD_ETAB.is_unique
    assert set(snap.CD_PROV) == {"110", "111"}
    assert set(snap.CD_MIL) == {"U", "R"} and set(snap.LL_CYCLE) == {"PRIMAIRE", "SECONDAIRE-COLLEGIAL",
                                                                      "SECONDAIRE-QUALIFIANT"}
    by_code = snap.set_index("CD_ETAB")
    sats = snap[snap.NetabFr == "Satellite"]
    assert len(sats) >= 2
    for parent in sats.CD_etabr:
        assert by_code.loc[parent, "NetabFr"] == "Secteur Scolaire Centre" and by_code.loc[parent, "CD_MIL"] == "R"
    boarding = snap[snap.has_boarding == "1"]
    assert len(boarding) >= 2 and (boarding.LL_CYCLE == "SECONDAIRE-COLLEGIAL").all()
    assert (boarding.boarding_capacity.astype(int) > 0).all()
    assert ((snap.LL_CYCLE == "PRIMAIRE") & (snap.CD_MIL == "R") & (snap.has_canteen == "1")).sum() >= 2
    # the second year opens a school and closes one
    first = pd.read_csv(out / "reference/schools/2021-09-01.csv", dtype=str, keep_default_na=False)
    assert len(snap) == len(first) + 1
    assert (snap.closed_on != "").sum() == 1 and (first.closed_on == "").all()
    assert snap.loc[~snap.CD_ETAB.isin(first.CD_ETAB), "opened_on"].tolist() == ["2022-09-01"]


def test_truth_matches_files(dirty) -> None:
    """Truth rows are exactly the data rows in the files, at the row numbers they give."""
    out, summary = dirty
    manifest = _csv(out / ".daam-demo" / "files.csv")
    manifest = manifest[(manifest.file_defect == "") & (manifest.record_type != "schools")]
    settings = load_settings()
    for rt in summary["rows"]:
        truth = _truth(out, rt)
        assert len(truth) == summary["rows"][rt]
        if rt == "schools":
            continue
        files = manifest[manifest.record_type == rt]
        assert set(truth.file_path) == set(files.file_path)
        groups = dict(list(truth.groupby("file_path")))
        for rel, fmt, header_row in zip(files.file_path, files.format, files.header_row.astype(int)):
            t = groups[rel]
            cells = _read(out, rel, fmt.split("+")[0])
            xlsx = fmt.startswith("xlsx")
            skip = header_row + (1 if "subheader" in fmt else 0)
            data = {k: v for k, v in cells.items() if not xlsx or k[1] > skip}
            assert len(data) == len(t), rel
            locs = list(zip(t.sheet, t.row_number.astype(int)))
            assert set(locs) == set(data), rel
            key = "massar_code" if "massar_code" in settings.record_types[rt].columns else None
            if key:
                for (sheet, row), code in zip(locs, t[key]):
                    assert code in data[(sheet, row)], (rel, sheet, row, code)


def test_clean_rows_break_no_rule(dirty) -> None:
    out, _ = dirty
    settings = load_settings()
    st = _truth(out, "students")
    ok = st[st.defect == ""]
    assert ok.massar_code.str.fullmatch(MASSAR_CODE_RE[1:-1]).all()
    assert ok.guardian_cin.str.fullmatch(CIN_RE[1:-1]).all()
    assert set(ok.gender) == {"M", "F"} and set(ok.level) <= set(settings.levels)
    assert 0.42 < (ok.gender == "F").mean() < 0.56
    for lv, bd, year in zip(ok.level, ok.birth_date, ok.school_year):
        b = date.fromisoformat(bd)
        start = date(int(year[:4]), 9, 1)
        age = start.year - b.year - ((start.month, start.day) < (b.month, b.day))
        nominal = settings.levels[lv].nominal_age
        assert nominal - settings.age_below <= age <= nominal + settings.age_above
    # one roster row per pupil and school-year; nobody on two rosters
    first = ~st.duplicated(["school_year", "massar_code", "file_path", "first_name_fr"], keep="first")
    pupils = st[first & st.defect.isin(["", "age_level_mismatch", "duplicate_key_identical"])]
    assert not pupils[pupils.defect != "duplicate_key_identical"].duplicated(["school_year", "massar_code"]).any()
    on_roster = set(zip(pupils.school_year, pupils.school_code, pupils.massar_code))
    for rt in ("attendance", "tayssir_beneficiaries", "boarding_grants"):
        t = _truth(out, rt)
        good = t[t.defect.isin(["", "duplicate_key_identical"])]
        missing = [r for r in zip(good.school_year, good.school_code, good.massar_code) if r not in on_roster]
        assert not missing, (rt, missing[:3])
        bad = t[t.defect == "pupil_not_on_roster"]
        assert len(bad) and not any(r in on_roster for r in zip(bad.school_year, bad.school_code, bad.massar_code))
    att = _truth(out, "attendance")
    a = att[att.defect == ""]
    tot = a.unjustified_absence_days.astype(int) + a.justified_absence_days.astype(int)
    assert (tot <= a.school_days.astype(int)).all() and (a.justified_absence_days.astype(int) >= 0).all()
    months = {m: settings.school_days(y, int(m[5:])) for y in YEARS for m in settings.months_of(y)}
    assert (a.school_days.astype(int) == a.period.map(months)).all()
    u = a.unjustified_absence_days.astype(int)
    assert (u <= 2).mean() > 0.7 and (u > 6).sum() > 0  # skewed, with a tail above the thresholds
    bags = _truth(out, "schoolbags")
    b = bags[bags.defect == ""]
    assert (b.kits_requested.astype(int) <= b.eligible.astype(int)).all()
    for rt in ("attendance", "tayssir_beneficiaries", "boarding_grants", "schoolbags", "tayssir_payments"):
        t = _truth(out, rt)
        key = {"schoolbags": "level", "tayssir_payments": "payment_ref"}.get(rt, "massar_code")
        g = t[t.defect == ""]
        assert not g.duplicated(["file_path", key]).any(), rt
    grants = _truth(out, "boarding_grants")
    ref = _csv(out / ".daam-demo" / "truth" / "schools.csv")
    cap = dict(zip(zip(ref.school_year, ref.school_code), ref.boarding_capacity))
    n = grants[grants.defect == ""].groupby(["school_year", "school_code"]).size()
    for (y, code), count in n.items():
        assert count <= int(cap[(y, code)])


def test_defects_listed(dirty) -> None:
    out, summary = dirty
    d = _csv(out / ".daam-demo" / "defects.csv")
    assert list(d.columns) == ["file_path", "sheet", "row_number", "rule", "severity", "column_name"]
    assert set(d.rule) == set(ALL_RULES)
    sev = severities()
    assert (d.severity == d.rule.map(sev)).all()
    assert sev["duplicate_key_identical"] == "warning" and sev["age_level_mismatch"] == "warning"
    # every record type (but the referential) carries defects
    manifest = _csv(out / ".daam-demo" / "files.csv").set_index("file_path")
    hit = set(manifest.loc[d.file_path, "record_type"])
    assert hit == set(RULES)
    for rt, rules in RULES.items():
        assert set(d[d.file_path.map(manifest.record_type) == rt].rule) == set(rules), rt
    # defects.csv and the truth agree row by row
    truth = pd.concat([_truth(out, rt)[["file_path", "sheet", "row_number", "defect", "massar_code"]]
                       if "massar_code" in _truth(out, rt) else
                       _truth(out, rt)[["file_path", "sheet", "row_number", "defect"]] for rt in RULES])
    flagged = truth[truth.defect != ""]
    assert sorted(zip(flagged.file_path, flagged.sheet, flagged.row_number, flagged.defect)) == \
        sorted(zip(d.file_path, d.sheet, d.row_number, d.rule))
    assert sum(summary["defects"].values()) == len(d)
    # conflicts come in pairs of one key with different content; identical copies follow a clean twin
    for rt in ("students", "attendance"):
        t = _truth(out, rt)
        conf = t[t.defect == "duplicate_key_conflict"].groupby(["file_path", "massar_code"]).size()
        assert len(conf) and (conf == 2).all()
        cols = [c for c in load_settings().record_types[rt].columns]
        for _, row in t[t.defect == "duplicate_key_identical"].iterrows():
            twins = t[(t.file_path == row.file_path) & (t.massar_code == row.massar_code)]
            clean = twins[twins.defect == ""]
            assert len(clean) == 1 and (clean[cols].iloc[0] == row[cols]).all()
    # a pupil whose roster row is an error keeps his attendance, every row of it pupil_not_on_roster
    # (massar_code_format rows are left out: the roster carries the mistyped code, attendance the true one)
    st = _truth(out, "students")
    off = st[st.defect.isin(["required_value_missing", "gender_unknown", "level_unknown", "date_invalid",
                             "duplicate_key_conflict"])]
    att = _truth(out, "attendance")
    off_keys = set(zip(off.school_year, off.massar_code))
    of_off = att[[k in off_keys for k in zip(att.school_year, att.massar_code)]]
    assert len(off) and len(of_off) and (of_off.defect == "pupil_not_on_roster").all()
    assert {(y, c) for y, c in zip(of_off.school_year, of_off.massar_code)} <= off_keys
    # file-level defects
    fd = _csv(out / ".daam-demo" / "file_defects.csv")
    assert set(fd.reason_kind) == {"empty_file", "required_column_missing", "unknown_school_code",
                                   "school_code_mismatch"}
    kinds = dict(zip(fd.reason_kind, fd.file_path))
    assert (out / kinds["empty_file"]).stat().st_size == 0
    ref = _csv(out / ".daam-demo" / "truth" / "schools.csv")
    assert kinds["unknown_school_code"].split("/")[-1][:6] not in set(ref.school_code)
    rows = CalamineWorkbook.from_path(str(out / kinds["school_code_mismatch"])).get_sheet_by_index(0).to_python()
    codes = [r[c + 1] for r in rows for c in range(len(r) - 1) if str(r[c]).startswith("رمز المؤسسة")]
    assert codes and codes[0] != kinds["school_code_mismatch"].split("/")[-1][:6]
    assert "eligible" not in str(pd.read_csv(out / kinds["required_column_missing"], encoding="utf-8-sig").columns)


def test_clean_run_has_no_defects(clean) -> None:
    out, summary = clean
    assert len(_csv(out / ".daam-demo" / "defects.csv")) == 0
    assert len(_csv(out / ".daam-demo" / "file_defects.csv")) == 0
    assert sum(summary["defects"].values()) == 0
    for rt in RULES:
        assert (_truth(out, rt).defect == "").all()
    assert 150 < summary["pupils"]["2021-2022"] < 450


def _expected_payments(out: Path) -> dict[tuple[str, str, str], int]:
    """(school_year, period_from, massar_code) -> amount from truth rosters, Tayssir lists, attendance."""
    settings = load_settings()
    st = _truth(out, "students")
    level = dict(zip(zip(st.school_year, st.massar_code), st.level))
    ben = _truth(out, "tayssir_beneficiaries")
    ben = ben[ben.defect == ""]
    att = _truth(out, "attendance")
    att = att[att.defect == ""]
    unjust = dict(zip(zip(att.school_year, att.massar_code, att.period), att.unjustified_absence_days.astype(int)))
    exp = {}
    for y, code, status, enrolled in zip(ben.school_year, ben.massar_code, ben.status, ben.enrolled_on):
        if status != "active":
            continue
        rules = settings.programme_rules(y)["tayssir"]
        lv = level[(y, code)]
        rate = rules["monthly_amount_mad"][lv]
        thr = rules["max_unjustified_absence_days"][settings.levels[lv].cycle]
        months = settings.months_of(y)
        start = enrolled[:7] if enrolled else months[0]
        for inst in rules["instalments"].values():
            ms = [m for m in months if int(m[5:]) in inst]
            if any((y, code, m) not in unjust and m >= start for m in ms):
                continue  # an attendance month never sent (missing.csv): the truth can not say
            amount = sum(rate for m in ms if m >= start and unjust[(y, code, m)] <= thr)
            if amount:
                exp[(y, ms[0], code)] = amount
    return exp


@pytest.mark.parametrize("which", ["clean", "dirty"])
def test_payments_follow_compliance(which, request) -> None:
    out, _ = request.getfixturevalue(which)
    exp = _expected_payments(out)
    pay = _truth(out, "tayssir_payments")
    good = pay[pay.defect.isin(["", "duplicate_key_identical"])]
    got = {(y, f, c): int(a) for y, f, c, a in zip(good.school_year, good.period_from, good.massar_code,
                                                   good.amount_mad)}
    assert len(got) > 50
    if which == "clean":
        assert got == exp
    else:  # rows quarantined by a defect are missing, the others agree
        unjudged = [k for k in got if k not in exp]  # instalments with an attendance month never sent
        assert len(unjudged) < len(got) * 0.2
        assert all(exp[k] == v for k, v in got.items() if k in exp)
        assert len(set(exp) - set(got)) <= (pay.defect != "").sum()
    assert set(pay.status) >= {"paid", "unclaimed"}
    assert pay.payment_ref.is_unique or which == "dirty"
    assert (pay[pay.status == "paid"].paid_on != "").all()


def test_file_values_render_truth(clean) -> None:
    """Spot-check that written cells carry the truth values in the variant's spelling."""
    out, _ = clean
    st = _truth(out, "students")
    manifest = _csv(out / ".daam-demo" / "files.csv").set_index("file_path")
    seen_date_cell = False
    for rel, t in st.groupby("file_path"):
        fmt = manifest.loc[rel, "format"]
        cells = _read(out, rel, fmt.split("+")[0])
        for sheet, row, bd, g in zip(t.sheet, t.row_number.astype(int), t.birth_date, t.gender):
            values = cells[(sheet, row)]
            d = date.fromisoformat(bd)
            spellings = {d.isoformat(), f"{d:%d/%m/%Y}", f"{d:%d-%m-%Y}", f"{d.isoformat()} 00:00:00"}
            assert spellings & set(values), (rel, row, values)
            seen_date_cell |= f"{d.isoformat()}" in values and fmt.startswith("xlsx")
            assert any(v in values for v in ({"M": ["M", "1", "ذكر", "ذ", "Garçon", "Masculin"],
                                              "F": ["F", "2", "أنثى", "أ", "Fille", "Féminin"]}[g]))
    assert seen_date_cell


def test_defects_leave_clean_rows_alone(clean, dirty) -> None:
    """The same seed with and without defects: every clean row of the dirty run is in the clean run."""
    c_out, d_out = clean[0], dirty[0]
    settings = load_settings()
    missing = _csv(d_out / ".daam-demo" / "missing.csv")
    folders = {rt: settings.record_types[rt].folder for rt in RULES}
    never_sent = {f"{y}/{folders[rt]}/{p}/{code}"
                  for rt, code, y, p in zip(missing.record_type, missing.school_code, missing.school_year, missing.period)}
    for rt in RULES:
        cols = ["file_path", *settings.record_types[rt].columns]
        c, d = _truth(c_out, rt), _truth(d_out, rt)
        c = c[[p.rsplit(".", 1)[0] not in never_sent for p in c.file_path]]
        assert (d.defect != "").any()
        got = set(map(tuple, d[d.defect == ""][cols].itertuples(index=False)))
        want = set(map(tuple, c[cols].itertuples(index=False)))
        assert got <= want, rt
        assert len(want) - len(got) <= (d.defect != "").sum(), rt
    assert _hashes(c_out / "reference") == _hashes(d_out / "reference")


# ---------------------------------------------------------------------- small rural units
def _cells(out: Path) -> dict[str, pd.DataFrame]:
    """Per school year: the referential snapshot with each school's pupils and girls on its roster,
    and the counts behind small cells (pupils per level, grantees, Tayssir, schoolbags, canteen)."""
    st = _truth(out, "students")
    st = st[st.defect == ""]
    frames = {}
    for year in sorted(set(st.school_year)):
        ref = _csv(out / f"reference/schools/{year[:4]}-09-01.csv")
        ref = ref[ref.closed_on == ""].set_index("CD_ETAB")
        roster = st[st.school_year == year]
        ref["pupils"] = roster.groupby("school_code").size().reindex(ref.index)
        ref["girls"] = roster[roster.gender == "F"].groupby("school_code").size().reindex(ref.index, fill_value=0)
        frames[year] = ref
    return frames


def _per_school(out: Path, rt: str, year: str) -> pd.Series:
    t = _truth(out, rt)
    t = t[(t.defect == "") & (t.school_year == year)]
    return t.groupby("school_code").size()


def _assert_small_cells(out: Path, year: str, ref: pd.DataFrame, few: int) -> None:
    """Counts under 5 exist in every kind of cell a report would have to hide: pupils of a level,
    girls of a school, boarding grantees, Tayssir beneficiaries, schoolbags eligible."""
    st = _truth(out, "students")
    st = st[(st.defect == "") & (st.school_year == year)]
    per_level = st.groupby(["school_code", "level"]).size()
    assert (per_level < 5).sum() >= few, year
    on_roster = ref[ref.pupils.notna()]
    assert ((on_roster.girls > 0) & (on_roster.girls < 5)).any(), year
    grants = _per_school(out, "boarding_grants", year)
    small_colleges = grants[grants.between(1, 4)]
    assert len(small_colleges), year
    assert (ref.loc[small_colleges.index, "CD_MIL"] == "R").all()
    assert (ref.loc[small_colleges.index, "LL_CYCLE"] == "SECONDAIRE-COLLEGIAL").all()
    assert (grants >= 10).any(), year  # the larger internats are still there
    assert (_per_school(out, "tayssir_beneficiaries", year) < 5).any(), year
    bags = _truth(out, "schoolbags")
    bags = bags[(bags.defect == "") & (bags.school_year == year)]
    assert (bags.eligible.astype(int) < 5).sum() >= few, year


def test_tiny_has_small_rural_units(clean) -> None:
    """Even the tiny scale has a satellite of a few dozen pupils, a hamlet unit of a handful, and a
    rural collège with a handful of boarding grantees."""
    out, _ = clean
    canteen_under_5 = False
    for year, ref in _cells(out).items():
        sats = ref[ref.NetabFr == "Satellite"]
        assert (sats.CD_MIL == "R").all() and sats.pupils.between(20, 80).any() and (sats.pupils < 20).any()
        assert (sats.girls < 5).any(), year
        _assert_small_cells(out, year, ref, few=5)
        canteen = _truth(out, "canteen_meals")
        canteen = canteen[canteen.school_year == year]
        canteen_under_5 |= (canteen.beneficiaries.astype(int) < 5).any()
    assert canteen_under_5


@pytest.fixture(scope="module")
def province_rural(tmp_path_factory) -> Path:
    """Nador at province scale with its whole referential, but rosters and programme files only for its
    rural primary units and rural collèges (the whole province takes ~30 s: the urban schools are
    large, so they change none of the small-unit counts tested here)."""
    out = tmp_path_factory.mktemp("province")
    populate = _Gen._school

    def rural_only(self: _Gen, school: School, pay: dict) -> None:
        if school.milieu == "rural" and school.cycle in ("primaire", "college"):
            populate(self, school, pay)

    with pytest.MonkeyPatch.context() as mp:  # one province: generated in this process
        mp.setattr(_Gen, "_school", rural_only)
        generate(out, scale="province", seed=0, years=YEARS)
    return out


def test_province_small_rural_units_in_proportion(province_rural) -> None:
    """About a third of Nador's primary units are rural units of 20-80 pupils (satellites), as its
    referential would have them: satellites are close to half of the primary units (domain.md 1.1,
    5.4), some of them hamlet units of fewer than 20 pupils; some rural collèges have 1-4 grantees."""
    out = province_rural
    for year, ref in _cells(out).items():
        primary = ref[ref.LL_CYCLE == "PRIMAIRE"]
        rural = primary[primary.CD_MIL == "R"]
        assert rural.pupils.notna().all()  # every rural unit was generated
        assert 0.25 <= rural.pupils.between(20, 80).sum() / len(primary) <= 0.40, year
        sats = primary[primary.NetabFr == "Satellite"]
        assert 0.35 <= len(sats) / len(primary) <= 0.55, year
        assert (sats.CD_etabr.map(ref.NetabFr) == "Secteur Scolaire Centre").all()
        assert (sats.pupils < 20).sum() >= 3 and (sats.pupils > 80).sum() >= 3, year
        others = rural[rural.NetabFr != "Satellite"]
        assert (others.pupils > 150).all(), year  # centres and écoles communales stay large
        _assert_small_cells(out, year, ref, few=50)
