"""Outliers on school aggregates: the scores are computed here by hand, and follow-up statuses
survive a rerun."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from warehouse import seeds
from warehouse.build import ops
from warehouse.build.ops import detect_outliers, outlier_config
from warehouse.schema import ensure_schema

YEAR = "2022-2023"
# absence rate per school in October: ten primary schools of directorate 110, one far off
RATES_110 = {"10001A": 0.04, "10002B": 0.05, "10003C": 0.05, "10004D": 0.05, "10005E": 0.05, "10006F": 0.06,
             "10007G": 0.06, "10008H": 0.05, "10009J": 0.05, "10010K": 0.40}
RATES_111 = {"20001A": 0.01, "20002B": 0.02, "20003C": 0.03, "20004D": 0.90}  # 4 schools: too few peers


def _school_days_rows(rates: dict[str, float], province: str) -> list[tuple]:
    # 100 school days in the month summed over pupils, so absences = rate x 100
    return [(YEAR, province, code, "2022-10", round(rate * 100), 0, 100) for code, rate in rates.items()]


@pytest.fixture
def con():
    con = duckdb.connect()
    ensure_schema(con)
    con.execute("insert into core.dim_date (date_key, date, month, school_year) values "
                "(20221001, '2022-10-01', '2022-10', $y)", {"y": YEAR})
    for code, province in [*((c, "110") for c in RATES_110), *((c, "111") for c in RATES_111)]:
        con.execute("""insert into core.dim_school (school_key, school_code, province_code, cycle, milieu, valid_from,
                       is_current) values (hash($c) % 1000000, $c, $p, 'primaire', 'rural', '2022-09-01', true)""",
                    {"c": code, "p": province})
    con.executemany("""insert into core.fct_attendance (school_year, province_code, school_code, month,
                       unjustified_absence_days, justified_absence_days, school_days) values (?, ?, ?, ?, ?, ?, ?)""",
                    _school_days_rows(RATES_110, "110") + _school_days_rows(RATES_111, "111"))
    yield con
    con.close()


def _scores(con, cfg, monkeypatch) -> dict[str, tuple]:
    """The run's scores (temp table outlier_scores) with configs/outliers.yaml replaced by `cfg`."""
    monkeypatch.setattr(ops, "outlier_config", lambda: cfg)
    monkeypatch.setattr(seeds, "outlier_config", lambda: cfg)  # what core.outlier_rule is loaded from
    detect_outliers(con, "scores")
    return {code: (score, out) for code, score, out in con.execute(
        "select school_code, score, is_outlier from outlier_scores where metric = 'absence_rate'").fetchall()}


def test_modified_z_falls_back_on_the_mean_absolute_deviation(con, monkeypatch):
    scores = _scores(con, outlier_config(), monkeypatch)
    # median 0.05; MAD = 0 (six of ten at the median), so the mean absolute deviation around the
    # median x 1.253314 is the scale: (0.01 + 0.01 + 0.01 + 0.35) / 10 = 0.038
    scale = 1.253314 * 0.038
    assert scores["10010K"][0] == pytest.approx(0.35 / scale)
    assert scores["10010K"][1] is True
    assert scores["10001A"][0] == pytest.approx(-0.01 / scale) and scores["10001A"][1] is False
    assert sum(out for _, out in scores.values()) == 1
    assert not any(code.startswith("2") for code in scores)  # directorate 111: 4 schools < min_peers


def test_zscore_and_minmax_methods(con, monkeypatch):
    base = outlier_config()
    z = dataclasses.replace(base, metrics={"absence_rate": {**base.metrics["absence_rate"], "method": "zscore"}})
    scores = _scores(con, z, monkeypatch)
    values = list(RATES_110.values())
    mean = sum(values) / 10
    sd = (sum((v - mean) ** 2 for v in values) / 9) ** 0.5
    assert scores["10010K"][0] == pytest.approx((0.40 - mean) / sd)
    assert scores["10010K"][1] is ((0.40 - mean) / sd > 3.0)
    mm = dataclasses.replace(base, metrics={"absence_rate": {**base.metrics["absence_rate"], "method": "minmax",
                                                             "min": 0.0, "max": 0.3}})
    flagged = {code for code, (_, out) in _scores(con, mm, monkeypatch).items() if out}
    assert flagged == {"10010K", "20004D"}  # bounds need no peers


def test_follow_up_status_survives_reruns(con):
    assert detect_outliers(con, "r1") == {"assessed": 10, "outliers": 1, "new": 1, "resolved": 0}
    assert con.execute("select school_code, status from ops.outlier").fetchall() == [("10010K", "open")]
    con.execute("update ops.outlier set status = 'confirmed', note = 'new school building, real absences'")
    assert detect_outliers(con, "r2")["new"] == 0
    assert con.execute("select status, note, last_run_id from ops.outlier").fetchall() == [
        ("confirmed", "new school building, real absences", "r2")]
    # the school's data is corrected: an open outlier resolves, a confirmed one keeps the monitor's word
    con.execute("update ops.outlier set status = 'open'")
    con.execute("update core.fct_attendance set unjustified_absence_days = 5 where school_code = '10010K'")
    assert detect_outliers(con, "r3") == {"assessed": 10, "outliers": 0, "new": 0, "resolved": 1}
    assert con.execute("select status from ops.outlier").fetchall() == [("resolved",)]
