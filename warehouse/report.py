"""Read-only summaries of the warehouse for the command line."""

from __future__ import annotations

import duckdb
import pandas as pd

from daam.config import RECORD_TYPES
from warehouse.schema import SQL


def load_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per record type: files by status (current state) and rows read / loaded / quarantined / warned."""
    return SQL.query(con, "reports/load_summary.sql", {"order": list(RECORD_TYPES)}).df()


def rejected_files(con: duckdb.DuckDBPyConnection, limit: int = 10) -> pd.DataFrame:
    return SQL.query(con, "reports/rejected_list.sql", {"n": limit}).df()


def headline_indicators(con: duckdb.DuckDBPyConnection, geo_level: str, geo_code: str | None = None) -> pd.DataFrame:
    """Yearly indicators (months summed for monthly ones) of one level, one column per school year."""
    frame = SQL.query(con, "reports/headline_indicators.sql", {"level": geo_level, "code": geo_code}).df()
    if frame.empty:
        return frame
    return frame.pivot_table(index=["geo_code", "geo_name_fr", "indicator"], columns="school_year",
                             values="value", aggfunc="sum").reset_index()
