"""A corpus of malformed and hostile landing files, loaded once through the whole pipeline; every
file's exact outcome (manifest status, reason, counts, row issues, facts) is asserted.

The cases and their expected outcomes are in `tests/corpus/cases.py`; how they are made in
`tests/corpus/builders.py`. Versions (duplicates across loads, corrections) have their own small
landing zone at the end, loaded twice.
"""

from __future__ import annotations

import hashlib
import re
import tracemalloc
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from daam.config import load_settings
from daam.landing import reader
from daam.landing.reader import ERROR_KINDS, read_file
from pipelines.load import LoadReport, run_load
from quality_checks.catalogue import rules
from tests.corpus import cases as C
from tests.corpus.builders import csv_bytes, zip_bomb_xlsx

CASES = {c.id: c for c in C.CASES}
ROW_CASES = [c.id for c in C.CASES if c.status == "loaded"]
FACT_CASES = [c.id for c in C.CASES if c.facts is not None]
READER_REJECTIONS = [c.id for c in C.CASES if c.kind is not None]

MANIFEST_COLUMNS = ("status", "rows_read", "rows_loaded", "rows_quarantined", "rows_warned", "error", "encoding",
                    "extra_columns", "duplicate_of", "version", "record_type", "school_code", "province_code", "error_kind")


@dataclass
class Loaded:
    root: Path
    db: Path
    report: LoadReport
    manifest: dict[str, list[dict]]         # path -> every version, oldest first
    issues: dict[str, set[tuple]]           # path -> open issues (rule, sheet, row, column, raw, severity)

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql, params).fetchall()


def _snapshot(root: Path, db: Path, report: LoadReport) -> Loaded:
    with duckdb.connect(str(db), read_only=True) as con:
        cols = list(MANIFEST_COLUMNS)
        manifest: dict[str, list[dict]] = {}
        for row in con.execute(f"select file_path, {', '.join(cols)} from ops.file_manifest "
                               "order by file_path, version").fetchall():
            manifest.setdefault(row[0], []).append(dict(zip(cols, row[1:], strict=True)))
        issues: dict[str, set[tuple]] = {}
        for path, *issue in con.execute("""select file_path, rule, sheet, row_number, column_name, raw_value, severity
                                          from ops.row_issue where status = 'open'""").fetchall():
            issues.setdefault(path, set()).add(tuple(issue))
    return Loaded(root, db, report, manifest, issues)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    tmp = tmp_path_factory.mktemp("corpus")
    root, outside = tmp / "landing", tmp / "outside"
    root.mkdir()
    outside.mkdir()
    C.write_landing(root, outside)
    db = tmp / "warehouse.duckdb"
    report = run_load(root, db)
    return _snapshot(root, db, report)


def _only_version(corpus: Loaded, case: C.Case) -> dict:
    path = case.manifest_path or case.path
    versions = corpus.manifest.get(path)
    assert versions is not None, f"{path} is not in the manifest"
    assert len(versions) == 1, versions
    return versions[0]


_CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception|Warning)\b|BadZipFile|Traceback|File \"|line \d+, in ")


def assert_plain_language(error: str) -> None:
    """A reason a school secretary can read: one line, no exception class, no traceback."""
    assert error and "\n" not in error, error
    assert not _CLASS_NAME.search(error), error


# --- the load as a whole ------------------------------------------------------------------------


def test_the_load_succeeds_despite_the_corpus(corpus: Loaded) -> None:
    assert corpus.report.ok, corpus.report.failed
    assert corpus.report.partitions == [(C.YEAR, C.PROVINCE)]


def test_every_file_is_accounted_for(corpus: Loaded) -> None:
    """Nothing is dropped silently: every case and support file has exactly one manifest entry, and
    a loaded file's rows read are its rows loaded plus its rows quarantined."""
    expected = {c.manifest_path or c.path for c in C.CASES} | set(C.SUPPORT)
    assert set(corpus.manifest) == expected
    assert len(C.CASES) >= 40
    for path, versions in corpus.manifest.items():
        for v in versions:
            if v["status"] == "loaded":
                assert v["rows_read"] == v["rows_loaded"] + v["rows_quarantined"], path
                assert v["error"] is None, path


def test_support_rosters_load_clean(corpus: Loaded) -> None:
    for path in C.SUPPORT:
        (v,) = corpus.manifest[path]
        assert (v["status"], v["rows_quarantined"], v["rows_warned"]) == ("loaded", 0, 0), path
        assert v["rows_read"] >= 1
        assert path not in corpus.issues


# --- one case at a time -------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", list(CASES))
def test_manifest_outcome(corpus: Loaded, case_id: str) -> None:
    case = CASES[case_id]
    v = _only_version(corpus, case)
    assert v["status"] == case.status
    assert (v["rows_read"], v["rows_loaded"], v["rows_quarantined"], v["rows_warned"]) == case.counts
    assert v["version"] == 1
    assert v["duplicate_of"] == case.duplicate_of
    if case.status != "loaded":
        assert case.path not in corpus.issues
    if case.status == "rejected":
        assert_plain_language(v["error"])
        if case.error_prefix:
            assert v["error"].startswith(case.error_prefix), v["error"]
        else:
            assert v["error"] == case.error
        assert (case.kind is None) != (case.manifest_kind is None)
        assert v["error_kind"] == (case.kind or case.manifest_kind)
    else:
        assert case.error is None and case.error_prefix is None
        if case.path != C.REFERENTIAL_PATH:
            assert v["province_code"] == C.PROVINCE
        assert v["error"] is None and v["error_kind"] is None
        assert v["encoding"] == case.encoding
        assert v["extra_columns"] == case.extra_columns


@pytest.mark.parametrize("case_id", READER_REJECTIONS)
def test_reader_error_kind(corpus: Loaded, case_id: str) -> None:
    """The reader, on the very file the load rejected, names the same reason and its stable kind."""
    case = CASES[case_id]
    assert case.kind in ERROR_KINDS
    settings = load_settings()
    record_type = _only_version(corpus, case)["record_type"]
    result = read_file(corpus.root / case.path, settings.record_types[record_type], settings)
    assert (result.error_kind, result.error, result.frame) == (case.kind, case.error, None)


@pytest.mark.parametrize("case_id", ROW_CASES)
def test_row_issues(corpus: Loaded, case_id: str) -> None:
    """Exactly the expected (rule, sheet, row, column, raw value), each with its catalogue severity."""
    case = CASES[case_id]
    found = corpus.issues.get(case.path, set())
    catalogue = rules()
    assert {i[:5] for i in found} == set(case.issues)
    for rule, *_, severity in found:
        assert severity == catalogue[rule].severity, rule
    assert len(found) == len(case.issues)  # no issue twice under two severities


@pytest.mark.parametrize("case_id", FACT_CASES)
def test_facts(corpus: Loaded, case_id: str) -> None:
    """What reached the warehouse: Arabic names, dates, numbers and levels, with their row numbers."""
    case = CASES[case_id]
    name, expected = case.facts
    rows = corpus.query(C.FACT_QUERIES[name], {"path": case.path})
    assert len(rows) == len(set(rows))
    assert set(rows) == set(expected)


# --- properties across cases --------------------------------------------------------------------


def test_quarantined_rows_keep_their_raw_values(corpus: Loaded) -> None:
    """Every row an error quarantined is in raw with its values as sent, at the row number reported."""
    checked = 0
    for case in C.CASES:
        if case.status != "loaded":
            continue
        record_type = _only_version(corpus, case)["record_type"]
        for rule, sheet, row, column, raw, severity in corpus.issues.get(case.path, set()):
            if severity != "error" or column is None:
                continue
            stored = corpus.query(f"""select "{column}" from raw.{record_type}
                                     where file_path = $p and sheet is not distinct from $s and row_number = $r""",
                                  {"p": case.path, "s": sheet, "r": row})
            assert len(stored) == 1, (case.id, rule, row)
            assert (stored[0][0] or "").strip() == (raw or ""), (case.id, rule, row)
            checked += 1
    assert checked >= 25


def test_files_refused_unread_were_never_opened(corpus: Loaded) -> None:
    """Links out of the root or to nothing, badly named files and named pipes are refused at the scan,
    unread: no size, and an identity that is not the hash of their content."""
    unread = [c for c in C.CASES if c.unread]
    assert len(unread) == 7
    for case in unread:
        size, sha = corpus.query("select size_bytes, content_sha256 from ops.landing_inventory where file_path = $p",
                                 {"p": case.manifest_path or case.path})[0]
        assert size is None
        assert sha is not None
        path = corpus.root / case.path
        if path.is_file() and not path.is_fifo():
            assert sha != hashlib.sha256(path.read_bytes()).hexdigest()


def test_zip_bomb_is_rejected_without_inflating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 1 GB sheet is refused from the ZIP directory: not a byte of it is inflated, and memory stays flat."""
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(zip_bomb_xlsx(1024))
    inflated = []
    original = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        data = original(self, n)
        inflated.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    settings = load_settings()
    tracemalloc.start()
    try:
        result = read_file(path, settings.record_types["students"], settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.error_kind, result.error) == ("xlsx_too_large", "the Excel file inflates to 1 GB (limit 500 MB)")
    assert sum(inflated) == 0
    assert peak < 32 * C.MIB


def test_lying_zip_bomb_stops_at_the_declared_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Headers claiming 4 KB for a 1 GB sheet: the check inflates 4 KB, the workbook reader refuses to
    go past the declared size; at no point is the sheet inflated."""
    path = tmp_path / "lying.xlsx"
    path.write_bytes(CASES["xlsx_zip_bomb_lying_sizes"].data)
    settings = load_settings()
    tracemalloc.start()
    try:
        result = read_file(path, settings.record_types["students"], settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error_kind == "unreadable"
    assert peak < 32 * C.MIB


def test_wide_csv_is_refused_before_its_cells_are_examined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """8 lines of 340,000 cells (2.7 million cells in 8 MB, every line under the 1 MB line limit): refused at the
    first line over the column limit, without comparing millions of cells with the column names."""
    path = tmp_path / "wide.csv"
    path.write_bytes(C.WIDE_CSV)
    folded = []
    # header cells are folded in the reader's header module: patch fold_header where it is looked up
    original = reader.header.fold_header
    monkeypatch.setattr(reader.header, "fold_header", lambda text: folded.append(1) or original(text))
    settings = load_settings()
    result = read_file(path, settings.record_types["attendance"], settings)
    assert (result.error_kind, result.error) == ("too_many_columns", "line 2 has 340000 columns (limit 200)")
    assert len(folded) < 1000


# --- versions: a second load of a small landing zone ---------------------------------------------

V_SCHOOL = "16698Z"
V_ROSTER = f"{C.YEAR}/students/{V_SCHOOL}.csv"
V_ATTENDANCE = f"{C.YEAR}/attendance/2022-10/{V_SCHOOL}.csv"
V_COPY = f"{C.YEAR}/attendance/2022-11/{V_SCHOOL}.csv"
V_PUPILS = [["J130245871", "العلوي", "محمد", "ذكر", "2014-02-01", "3AP"],
            ["J130245872", "الإدريسي", "فاطمة", "أنثى", "2014-05-03", "3AP"]]
V_REFERENTIAL = csv_bytes([
    ["CD_ETAB", "NOM_ETABL", "NOM_ETABA", "CD_PROV", "cd_com", "CD_MIL", "LL_CYCLE", "has_boarding", "has_canteen"],
    [V_SCHOOL, "ECOLE A", "مدرسة أ", "110", "1001", "R", "PRIMAIRE", "0", "1"]])
V_ATTENDANCE_BYTES = csv_bytes([["massar_code", "unjustified_absence_days"], ["J130245871", "1"], ["J130245872", "0"]])


@dataclass
class Versions:
    first: Loaded
    second: Loaded
    first_issues: list[tuple]


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Versions:
    """Load 1: a roster with a bad row, an attendance month, the same bytes again as the next month.
    Load 2: the roster corrected, the attendance month replaced by a damaged file."""
    tmp = tmp_path_factory.mktemp("versions")
    root, db = tmp / "landing", tmp / "warehouse.duckdb"
    files = {
        "reference/schools/2022-09-01.csv": V_REFERENTIAL,
        V_ROSTER: csv_bytes([C.CANON_HEADER, *V_PUPILS, ["BAD", "س", "ص", "ذكر", "2014-05-03", "3AP"]]),
        V_ATTENDANCE: V_ATTENDANCE_BYTES,
        V_COPY: V_ATTENDANCE_BYTES,
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    first = _snapshot(root, db, run_load(root, db))
    first_issues = first.query("select file_path, file_version, row_number, rule, status from ops.row_issue")
    (root / V_ROSTER).write_bytes(csv_bytes([C.CANON_HEADER, *V_PUPILS,
                                             ["J130245874", "س", "ص", "ذكر", "2014-05-03", "3AP"]]))
    (root / V_ATTENDANCE).write_bytes(b"PK\x03\x04 damaged in transit")
    return Versions(first, _snapshot(root, db, run_load(root, db)), first_issues)


def test_same_bytes_at_another_path_is_a_duplicate(versions: Versions) -> None:
    first = versions.first
    assert first.report.ok
    (original,) = first.manifest[V_ATTENDANCE]
    assert (original["status"], original["rows_read"], original["rows_loaded"]) == ("loaded", 2, 2)
    (copy,) = first.manifest[V_COPY]
    assert (copy["status"], copy["duplicate_of"], copy["rows_read"], copy["rows_loaded"], copy["error"]) == (
        "duplicate", V_ATTENDANCE, 2, None, None)
    assert first.query("select count(*) from core.fct_attendance where month = '2022-11'") == [(0,)]
    assert first.query("select count(*) from raw.attendance where file_path = $p", {"p": V_COPY}) == [(0,)]


def test_unchanged_files_add_nothing_on_the_second_load(versions: Versions) -> None:
    first, second = versions.first, versions.second
    for path in ("reference/schools/2022-09-01.csv", V_COPY):
        assert second.manifest[path] == first.manifest[path]


def test_correction_supersedes_and_resolves(versions: Versions) -> None:
    first, second = versions.first, versions.second
    assert second.report.ok
    assert [(v["version"], v["status"], v["rows_read"], v["rows_quarantined"]) for v in first.manifest[V_ROSTER]] == [
        (1, "loaded", 3, 1)]
    assert [(v["version"], v["status"], v["rows_read"], v["rows_quarantined"]) for v in second.manifest[V_ROSTER]] == [
        (1, "superseded", 3, 1), (2, "loaded", 3, 0)]
    assert versions.first_issues == [(V_ROSTER, 1, 4, "massar_code_format", "open")]
    assert second.query("select file_version, row_number, rule, status from ops.row_issue where file_path = $p",
                        {"p": V_ROSTER}) == [(1, 4, "massar_code_format", "resolved")]
    assert V_ROSTER not in second.issues
    assert second.query("select count(*) from core.fct_enrolment where school_code = $c", {"c": V_SCHOOL}) == [(3,)]


def test_rejected_correction_keeps_the_good_version(versions: Versions) -> None:
    second = versions.second
    assert [(v["version"], v["status"]) for v in second.manifest[V_ATTENDANCE]] == [(1, "loaded"), (2, "rejected")]
    assert second.manifest[V_ATTENDANCE][1]["error"] == (
        "not a readable Excel or CSV file: damaged Excel file (File is not a zip file)")
    assert second.query("select row_number, unjustified_absence_days from core.fct_attendance where file_path = $p "
                        "order by 1", {"p": V_ATTENDANCE}) == [(2, 1), (3, 0)]


def test_every_catalogue_rule_is_broken_by_some_file_of_the_corpus(corpus: Loaded) -> None:
    """A rule no fixture breaks is a rule nothing proves works: adding one to
    configs/quality_rules.yaml means adding a corpus case that breaks it."""
    from quality_checks.catalogue import rules

    broken = {issue[0] for issues in corpus.issues.values() for issue in issues}
    assert broken == set(rules())
    severities = {issue[0]: issue[-1] for issues in corpus.issues.values() for issue in issues}
    assert severities == {rid: r.severity for rid, r in rules().items()}
