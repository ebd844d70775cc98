"""Every path of the landing layout is placed; everything else is refused with a reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daam.config import load_settings
from daam.landing.inventory import classify, safe_paths, scan

S = load_settings()


@pytest.mark.parametrize("path, expected", [
    ("reference/schools/2022-09-01.csv", ("schools", None, "2022-09-01", None, None)),
    ("2022-2023/students/16698Z.xlsx", ("students", "2022-2023", None, "16698Z", None)),
    ("2022-2023/attendance/2022-10/16698Z.csv", ("attendance", "2022-2023", "2022-10", "16698Z", None)),
    ("2022-2023/canteen_meals/2023-06/16698Z.csv", ("canteen_meals", "2022-2023", "2023-06", "16698Z", None)),
    ("2022-2023/tayssir_payments/110_3.csv", ("tayssir_payments", "2022-2023", None, None, "110")),
    ("2022-2023/boarding_grants/16701c.csv", ("boarding_grants", "2022-2023", None, "16701C", None)),
])
def test_layout_paths_are_placed(path, expected):
    e = classify(path, S)
    assert e.refusal is None
    assert (e.record_type, e.school_year, e.period, e.school_code, e.province_code) == expected


@pytest.mark.parametrize("path, reason", [
    ("2022-2023/attendance/2023-07/16698Z.csv", "outside the school year"),
    ("2022-2023/attendance/16698Z.csv", "month folder"),
    ("2022-2023/students/2022-10/16698Z.csv", "not in a sub-folder"),
    ("2022-2023/grades/16698Z.csv", "not part of the landing layout"),
    ("2031-2032/students/16698Z.csv", "no programme rules"),
    ("2022/students/16698Z.csv", "not part of the landing layout"),
    ("2022-23/students/16698Z.csv", "must be written '2022-2023'"),
    ("2022-2023/tayssir_payments/110.csv", "<province_code>_<instalment 1-3>"),
    ("2022-2023/tayssir_payments/999_1.csv", "unknown province code 999"),
    ("2022-2023/students/16698Z.pdf", "not a spreadsheet"),
    ("reference/schools/latest.csv", "<YYYY-MM-DD>"),
])
def test_other_paths_are_refused(path, reason):
    assert reason in (classify(path, S).refusal or "")


def test_scan_refuses_links_out_and_bad_names_and_skips_hidden(tmp_path: Path):
    root = tmp_path / "landing"
    (root / "2022-2023/students").mkdir(parents=True)
    (root / "2022-2023/students/16698Z.csv").write_text("massar_code\n", encoding="utf-8")
    secret = tmp_path / "secret.csv"
    secret.write_text("x\n", encoding="utf-8")
    os.symlink(secret, root / "2022-2023/students/16699A.csv")
    (root / "2022-2023/students/16701C\u200f.csv").write_text("x\n", encoding="utf-8")
    (root / ".daam-demo").mkdir()
    (root / ".daam-demo/truth.csv").write_text("x\n", encoding="utf-8")
    (root / "2022-2023/students/~$16698Z.xlsx").write_text("lock", encoding="utf-8")
    entries = {e.file_path: e for e in scan(root, S)}
    assert set(entries) == {"2022-2023/students/16698Z.csv", "2022-2023/students/16699A.csv",
                            "2022-2023/students/16701C\\u200f.csv"}
    assert entries["2022-2023/students/16698Z.csv"].content_sha256 is not None
    assert "outside the landing root" in entries["2022-2023/students/16699A.csv"].refusal
    assert "invisible" in entries["2022-2023/students/16701C\\u200f.csv"].refusal


def test_safe_paths_refuse_escapes(tmp_path: Path):
    with pytest.raises(ValueError):
        safe_paths(tmp_path, ["../etc/passwd"])
    assert safe_paths(tmp_path, ["a/b.csv"]) == [(tmp_path / "a/b.csv").resolve()]


def test_safe_paths_resolve_each_path_and_refuse_one_that_escapes(tmp_path: Path):
    (tmp_path / "landing" / "a").mkdir(parents=True)
    (tmp_path / "outside.csv").write_text("x")
    (tmp_path / "landing" / "a" / "link.csv").symlink_to(tmp_path / "outside.csv")
    root = tmp_path / "landing" / "a" / ".."  # resolved once, for every path
    landing = (tmp_path / "landing").resolve()
    assert safe_paths(root, ["a/b.csv", "c.csv"]) == [landing / "a" / "b.csv", landing / "c.csv"]
    with pytest.raises(ValueError, match="a/link.csv"):
        safe_paths(root, ["a/b.csv", "a/link.csv"])
