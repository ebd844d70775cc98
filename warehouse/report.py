"""Read-only summaries of the warehouse for the command line."""

from __future__ import annotations

import duckdb
import pandas as pd


def load_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per record type: files by status (current state) and rows read / loaded / quarantined / warned."""
    return con.execute("""
        select record_type,
               count(*) filter (status = 'loaded') as files_loaded,
               count(*) filter (status = 'rejected') as files_rejected,
               count(*) filter (status = 'duplicate') as files_duplicate,
               count(*) filter (status = 'superseded') as versions_superseded,
               coalesce(sum(rows_read) filter (status = 'loaded'), 0)::bigint as rows_read,
               coalesce(sum(rows_loaded) filter (status = 'loaded'), 0)::bigint as rows_loaded,
               coalesce(sum(rows_quarantined) filter (status = 'loaded'), 0)::bigint as rows_quarantined,
               coalesce(sum(rows_warned) filter (status = 'loaded'), 0)::bigint as rows_warned
        from ops.file_manifest
        group by record_type
        order by array_position(['schools', 'students', 'tayssir_beneficiaries', 'attendance', 'schoolbags',
                                 'boarding_grants', 'canteen_meals', 'tayssir_payments'], record_type) nulls last
    """).df()


def rejected_files(con: duckdb.DuckDBPyConnection, limit: int = 10) -> pd.DataFrame:
    return con.execute("""
        select file_path, error from ops.file_manifest where status = 'rejected' order by file_path limit $n
    """, {"n": limit}).df()


def headline_indicators(con: duckdb.DuckDBPyConnection, geo_level: str, geo_code: str | None = None) -> pd.DataFrame:
    """Yearly indicators (months summed for monthly ones) of one level, one column per school year."""
    frame = con.execute("""
        select geo_code, geo_name_fr, school_year, indicator, sum(value) as value
        from mart.indicators
        where geo_level = $level and ($code is null or geo_code = $code)
        group by all order by geo_code, indicator, school_year
    """, {"level": geo_level, "code": geo_code}).df()
    if frame.empty:
        return frame
    return frame.pivot_table(index=["geo_code", "geo_name_fr", "indicator"], columns="school_year",
                             values="value", aggfunc="sum").reset_index()
