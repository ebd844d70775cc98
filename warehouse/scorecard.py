"""The quality scorecard a monitor reads in a terminal (`daam quality`): completeness and
timeliness per record type, the rules failing most, the worst schools, open outliers, the units
waiting for approval and the signed units in drift."""

from __future__ import annotations

import duckdb
import pandas as pd

from quality_checks.catalogue import rules
from warehouse.schema import SQL


def completeness(con: duckdb.DuckDBPyConnection, province: str | None = None) -> pd.DataFrame:
    """Per school year and record type: submissions expected, received, on time, not reported."""
    return SQL.query(con, "reports/completeness.sql", {"province": province}).df()


def rules_failing(con: duckdb.DuckDBPyConnection, province: str | None = None, limit: int = 15) -> pd.DataFrame:
    """Open issues per rule: rows and schools concerned, errors first."""
    frame = SQL.query(con, "reports/rules_failing.sql", {"province": province, "limit": limit}).df()
    catalogue = rules()
    frame.insert(1, "problem", [catalogue[r].title_fr if r in catalogue else r for r in frame["rule"]])
    return frame


def worst_schools(con: duckdb.DuckDBPyConnection, province: str | None = None, limit: int = 10) -> pd.DataFrame:
    """The lowest scores of the latest monitoring run (empty before the first one)."""
    return SQL.query(con, "reports/worst_schools.sql", {"province": province, "limit": limit}).df()


def open_outliers(con: duckdb.DuckDBPyConnection, province: str | None = None) -> pd.DataFrame:
    return SQL.query(con, "reports/open_outliers.sql", {"province": province}).df()


def approvals(con: duckdb.DuckDBPyConnection, province: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units waiting for approval, per directorate and school year (their periods in one cell), and
    the signed units in drift with what moved."""
    waiting = SQL.query(con, "reports/approval_waiting.sql", {"province": province}).df()
    drifting = SQL.query(con, "reports/approval_drift.sql", {"province": province}).df()
    return waiting, drifting
