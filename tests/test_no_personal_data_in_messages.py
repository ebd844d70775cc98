"""No personal data in what daam says about the data (contract, levels.md section 1).

A small landing zone with known personal values (tests/conftest.py FILES: Massar codes, names,
birth dates, guardians' CIN; plus a phone number in a column the contract does not name) goes
through the paths that talk: the reader's refusals on hostile files, the load (its logs, asset
metadata, check metadata, everything Dagster records), the warehouse checks made to fail, the
alerts, and the Data Docs site. None of them may hold any of those values, nor a pupil or
guardian key. The SQL extractor's files follow the umask.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import shutil
import stat
import zipfile
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, build_sensor_context

from daam.config import load_settings
from daam.landing import reader as reader_pkg
from daam.landing.reader import read_file
from daam.sql_source import extract
from pipelines.alerts import Alert, AlertNotifier, LogFileNotifier, plain_metadata
from pipelines.definitions import build_definitions
from pipelines.load import run_load
from pipelines.sensors import failed_check_sensor
from quality_checks import data_docs
from tests.conftest import FILES, ROSTER_A, SCHOOL_A, SCHOOL_B, YEAR, write_files
from tests.corpus.builders import grid, xlsx_bytes
from tests.sql_source import replica
from warehouse.build.ops import data_docs_batches
from warehouse.checks import run_checks
from warehouse.registry import registry

SETTINGS = load_settings()
STUDENTS = SETTINGS.record_types["students"]

MASSAR = ["J130245871", "J130245872", "J130245873", "J999999999"]
CIN = ["S123456", "AB12345"]
NAMES = ["العلوي", "محمد", "الإدريسي", "فاطمة"]
BIRTH = ["01/02/2015", "2014-05-03", "2010-01-01"]
PHONE = "0612345678"  # in the roster's extra column `الهاتف`, which the contract does not name
PERSONAL = [*MASSAR, *CIN, *NAMES, *BIRTH, PHONE]
# the malformed Massar code of the fixture, as it would stand alone in JSON or HTML
PERSONAL_QUOTED = ['"BAD"', ">BAD<", "'BAD'"]

ROSTER_WITH_PHONE = ROSTER_A.replace("المستوى\n", "المستوى,الهاتف\n", 1).replace(
    "01/02/2015,2AP\n", f"01/02/2015,2AP,{PHONE}\n", 1)
LANDING = {**FILES, f"{YEAR}/students/{SCHOOL_A}.csv": ROSTER_WITH_PHONE}


def leaks(text: str, extra: list[str] = ()) -> list[str]:
    """The personal values (or keys) found in `text`."""
    return [v for v in (*PERSONAL, *PERSONAL_QUOTED, *extra) if v in text]


def _mojibake(value: str) -> list[str]:
    """Every 3 characters of a value as a refusal would quote it from a file in another code page,
    read as Windows-1256 (a refusal quoting part of a word quotes 3 of them)."""
    out = set()
    for codec in ("iso8859_6", "cp850", "cp720"):
        with contextlib.suppress(UnicodeError):
            garbled = value.encode(codec).decode("cp1256")
            if garbled != value:
                out |= {garbled[i:i + 3] for i in range(max(1, len(garbled) - 2))}
    # garbled: mixing scripts (3 Arabic letters could be part of a contract column's Arabic name)
    return sorted(f for f in out if not f.isascii() and any(not "\u0600" <= c <= "\u06ff" for c in f))


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@contextlib.contextmanager
def captured_logs():
    """Every log record of every logger (DEBUG and up, tracebacks included), and stderr."""
    handler, root = _Records(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.lines.append(err.getvalue())


# --- the reader's refusals ----------------------------------------------------------------------


def _limits(**limits: int):
    return dataclasses.replace(SETTINGS, limits={**SETTINGS.limits, **limits})


ASCII_HEADER = ["massar_code", "last_name_ar", "first_name_ar", "gender", "birth_date", "level"]
LATIN_HEADER = ["massar_code", "last_name_ar", "first_name_ar", "last_name_fr", "first_name_fr", "gender",
                "birth_date", "level"]
AR_HEADER = ["رقم التلميذ", "النسب", "الإسم", "النوع", "تاريخ الازدياد", "المستوى"]
PUPIL = ["J130245871", "العلوي", "محمد", "ذكر", "01/02/2015", "2AP"]


def _csv(rows: list[list[str]], codec: str = "utf-8", delimiter: str = ",") -> bytes:
    return ("\r\n".join(delimiter.join(r) for r in rows) + "\r\n").encode(codec)


def _entity_xlsx() -> bytes:
    """A workbook whose one text cell refers to an undefined XML entity named like a Massar code."""
    book = xlsx_bytes({"Feuil1": grid([AR_HEADER, ["PLACEHOLDER", "x", "y", "ذكر", "01/02/2015", "2AP"]])})
    src, out = zipfile.ZipFile(io.BytesIO(book)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data.replace(b"PLACEHOLDER", b"&J130245871;"))
    return out.getvalue()


HOSTILE = {
    # Arabic in a DOS/ISO code page: read as Windows-1256 its words are mojibake of the names
    "names_in_iso8859_6": (lambda: _csv([ASCII_HEADER, ["J130245871", "العلوي", "محمد", "M", "01/02/2015", "2AP"],
                                         ["J130245872", "الإدريسي", "فاطمة", "F", "2014-05-03", "3AP"]],
                                        "iso8859_6", ";"), SETTINGS, "encoding_not_allowed"),
    "names_in_cp850": (lambda: _csv([LATIN_HEADER, ["J130245871", "-", "-", "Hélène", "Zoé", "F", "01/02/2015",
                                                    "1AP"]] * 2, "cp850", ";"), SETTINGS, "encoding_not_allowed"),
    # a Massar code where the school code belongs, a birth date where the school year does
    "preamble_school_code": (lambda: xlsx_bytes({
        "1AP-1": grid([["رمز المؤسسة :", "J130245871"], AR_HEADER, PUPIL]),
        "1AP-2": grid([["CD_ETAB", SCHOOL_A], AR_HEADER, PUPIL])}), SETTINGS, "conflicting_preamble"),
    "preamble_school_year": (lambda: xlsx_bytes({
        "1AP-1": grid([["السنة الدراسية :", "01/02/2015"], AR_HEADER, PUPIL]),
        "1AP-2": grid([["السنة الدراسية :", "2022/2023"], AR_HEADER, PUPIL])}), SETTINGS, "conflicting_preamble"),
    # a sheet named after a pupil
    "sheet_named_after_a_pupil": (lambda: xlsx_bytes({"محمد العلوي": grid([AR_HEADER, PUPIL, PUPIL, PUPIL])}),
                                  _limits(max_rows_per_sheet=2), "sheet_too_large"),
    "sheet_named_after_a_pupil_missing_column": (lambda: xlsx_bytes({
        "Feuil1": grid([AR_HEADER, PUPIL]), "فاطمة الإدريسي": grid([AR_HEADER[:5], PUPIL[:5]])}),
        SETTINGS, "missing_required_column"),
    # the XML parser names the entity it does not know
    "xml_entity_named_like_a_massar_code": (_entity_xlsx, SETTINGS, "unreadable"),
    # no header: rows of pupils only
    "pupils_without_header": (lambda: _csv([PUPIL, PUPIL]), SETTINGS, "no_header"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_refusals_name_the_problem_never_the_content(case: str, tmp_path: Path):
    make, settings, kind = HOSTILE[case]
    path = tmp_path / "16698Z.xlsx"
    path.write_bytes(make())
    with captured_logs() as logs:
        result = read_file(path, STUDENTS, settings)
    assert result.error_kind == kind, result.error
    mojibake = [m for v in (*PERSONAL, "Hélène", "Zoé") for m in _mojibake(v)]
    assert not leaks(result.error, [*mojibake, "Hélène", "Zoé"]), result.error
    assert not leaks("\n".join(logs), mojibake)


def test_a_reader_crash_is_refused_without_its_message_or_traceback(tmp_path: Path, monkeypatch):
    def crash(*args, **kwargs):
        raise ValueError("could not convert string to float: 'J130245871' (العلوي محمد, 01/02/2015)")

    monkeypatch.setattr(reader_pkg, "_csv_table", crash)
    path = tmp_path / "s.csv"
    path.write_bytes(_csv([AR_HEADER, PUPIL]))
    with captured_logs() as logs:
        result = read_file(path, STUDENTS, SETTINGS)
    assert result.error_kind == "unreadable" and result.error.startswith("not a readable Excel or CSV file")
    assert not leaks(result.error) and "ValueError" not in result.error
    text = "\n".join(logs)
    assert "unreadable file" in text and "ValueError" in text  # the engineers still learn what and where
    assert not leaks(text)


# --- the load, its checks, alerts and Data Docs -------------------------------------------------


@dataclasses.dataclass
class Loaded:
    root: Path
    db: Path
    logs: str


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    """LANDING loaded through Dagster into a persistent instance (DAGSTER_HOME in tmp), logs captured."""
    root = tmp_path_factory.mktemp("personal")
    write_files(root / "landing", LANDING)
    (root / "dagster_home").mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
    mp.setenv("DAAM_GX_ROOT", str(root / "gx_root"))
    try:
        with captured_logs() as logs:
            report = run_load(root / "landing", root / "w.duckdb", quiet=False)
        assert report.ok, report.failed
        yield Loaded(root, root / "w.duckdb", "\n".join(logs))
    finally:
        mp.undo()


def _keys(db: Path) -> list[str]:
    """Every pupil and guardian key of the warehouse, as text."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("""select pupil_key from core.dim_pupil
                              union select pupil_key from core.fct_enrolment
                              union select guardian_key from mart.household_member""").fetchall()
    return [str(r[0]) for r in rows if r[0] is not None]


def test_the_fixture_holds_the_personal_values(loaded: Loaded):
    """The values searched for below are really in the warehouse (else the other tests prove nothing)."""
    with duckdb.connect(str(loaded.db), read_only=True) as con:
        massar = {r[0] for r in con.execute("select massar_code from staging.students").fetchall()}
        extra = " ".join(str(r[0]) for r in con.execute("select extra from raw.students").fetchall())
    assert {"J130245871", "J130245872"} <= massar and PHONE in extra
    assert len(_keys(loaded.db)) >= 3


def test_the_loads_logs_and_dagster_records_hold_no_personal_data(loaded: Loaded):
    keys = _keys(loaded.db)
    assert not leaks(loaded.logs, keys)
    # Everything Dagster recorded: asset and check metadata, step logs, errors (SQLite files).
    for f in (loaded.root / "dagster_home").rglob("*"):
        if f.is_file():
            text = f.read_bytes().decode("utf-8", errors="replace")
            assert not leaks(text, keys), f"{f.relative_to(loaded.root)} holds {leaks(text, keys)}"


def test_failed_checks_and_their_alerts_name_schools_never_pupils(loaded: Loaded, tmp_path: Path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(loaded.db, db)
    keys = _keys(loaded.db)
    with duckdb.connect(str(db)) as con:
        # an orphan pupil key (its pupil gone from the dimension), and a pupil at two schools
        con.execute("""delete from core.dim_pupil where pupil_key in (
                           select pupil_key from core.fct_enrolment where school_code = $a and row_number = 2)""",
                    {"a": SCHOOL_A})
        con.execute("""insert into core.fct_attendance (school_year, province_code, school_code, month, pupil_key)
                       select school_year, province_code, $b, month, pupil_key from core.fct_attendance
                       where school_code = $a and row_number = 2""", {"a": SCHOOL_A, "b": SCHOOL_B})
        models = [m for m in registry().models.values() if m.schema in ("core", "staging")]
        results = run_checks(con, models, {"year": YEAR, "province": "110"})
        results += run_checks(con, [registry()["mart.indicators"]], {"year": YEAR})
    failed = {(r.model, r.name): r.outcome.metadata for r in results if not r.passed}
    assert ("core.fct_enrolment", "referential_integrity") in failed
    assert ("core.fct_attendance", "no_pupil_in_two_schools_same_month") in failed
    for name, metadata in failed.items():
        text = json.dumps(metadata, ensure_ascii=False, default=str)
        assert not leaks(text, keys), f"{name}: {text}"
    # the orphan is shown by its school
    assert failed[("core.fct_enrolment", "referential_integrity")]["orphan_pupil_key_schools"] == SCHOOL_A

    # the alerts of those failures, and of a careless check that would show values
    careless = {"examples": f"J130245871 at {SCHOOL_A}; CIN AB12345", "orphan_pupil_key_examples": ", ".join(keys),
                "guardian_cin_examples": "S123456", "birth_date_values": "01/02/2015",
                "pupil_keys": [int(k) for k in keys], "rows": 3}
    alerts = [Alert(check_name=name, asset_key=model.replace(".", "/"), severity="WARN", run_id="r",
                    time="2023-01-01T00:00:00+00:00", partition_key=f"110|{YEAR}", metadata=plain_metadata(meta))
              for (model, name), meta in [*failed.items(), (("core.fct_enrolment", "careless"), careless)]]
    log = tmp_path / "alerts.log"
    notifier = LogFileNotifier(log)
    assert all(notifier.send(a) for a in alerts)
    text = log.read_text(encoding="utf-8")
    assert SCHOOL_A in text and '"rows": 3' in text  # schools and counts are kept
    assert not leaks(text, keys), text
    assert not leaks(" ".join(a.summary for a in alerts), keys)


def test_the_sensors_alerts_hold_no_personal_data(loaded: Loaded, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(loaded.root / "dagster_home"))
    log = tmp_path / "alerts.log"
    with DagsterInstance.get() as instance:
        defs = build_definitions(str(loaded.root / "landing"), str(loaded.db))
        context = build_sensor_context(instance=instance, definitions=defs,
                                       resources={"alert_notifier": AlertNotifier(log_path=str(log), webhook_url="")})
        failed_check_sensor(context)
    text = log.read_text(encoding="utf-8")
    assert "quality_suite" in text  # the fixture's quarantined rows fail the suites (WARN)
    assert not leaks(text, _keys(loaded.db)), text


@pytest.mark.parametrize("result_format", ["as configured", "COMPLETE"])
def test_data_docs_hold_no_personal_value(loaded: Loaded, tmp_path: Path, monkeypatch, result_format: str):
    """The site and its stored results, with daam's result format and with GX's most talkative one
    (as if RESULT_FORMAT were changed one day): counts, never values."""
    if result_format == "COMPLETE":
        monkeypatch.setattr(data_docs, "RESULT_FORMAT", {"result_format": "COMPLETE", "include_unexpected_rows": True})
    with duckdb.connect(str(loaded.db), read_only=True) as con, captured_logs() as logs:
        result = data_docs.build_data_docs(data_docs_batches(con), tmp_path / "gx_root")
    students = next(s for s in result.suites if s.record_type == "students")
    assert students.failed_rules == ["age_level_mismatch", "massar_code_format"]
    page = next((result.index_html.parent / "validations/daam/students").rglob("*.html")).read_text(encoding="utf-8")
    assert "1 unexpected" in page  # the count of failing rows is shown
    generated = [f for f in (tmp_path / "gx_root").rglob("*")
                 if f.is_file() and "static" not in f.relative_to(tmp_path / "gx_root").parts]
    assert any(f.suffix == ".html" for f in generated)
    for f in generated:
        text = f.read_bytes().decode("utf-8", errors="replace")
        assert not leaks(text), f"{f.name} holds {leaks(text)}"
    assert not leaks("\n".join(logs))


# --- files written: the umask decides -----------------------------------------------------------


def test_the_sql_extractors_files_follow_the_umask(tmp_path: Path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'replica.sqlite'}")
    replica.create(engine)
    old = os.umask(0o077)
    try:
        report = extract(engine, tmp_path / "landing")
    finally:
        os.umask(old)
    assert report.files_written
    written = [tmp_path / "landing" / p for p in report.files_written]
    written.append(tmp_path / "landing" / ".daam-sql" / "state.json")
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in written}
    assert set(modes.values()) == {0o600}, modes
