"""Rules across rows and record types, run as DuckDB SQL (contract section 8).

Each function takes the open connection (with the prepared frame registered as `prepared`) and
returns issue rows: `_row_id, rule, severity, column_name, raw_value`.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from daam.config import RecordTypeSpec

ROSTER_RECORD_TYPES = ("tayssir_beneficiaries", "attendance", "boarding_grants")


def sql_rules_for(spec: RecordTypeSpec) -> list[str]:
    """The SQL rules this module applies to a record type's rows."""
    out = ["duplicate_key_conflict", "duplicate_key_identical"] if spec.key else []
    if spec.name in ROSTER_RECORD_TYPES or spec.name == "tayssir_payments":
        out.append("pupil_not_on_roster")
    if spec.name == "students":
        out.append("pupil_on_two_rosters")
    if spec.name == "boarding_grants":
        out.append("grant_without_facility")
    return out


def _q(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


def duplicate_keys(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec) -> pd.DataFrame:
    """Same key twice in one file: conflict (error on every row of the key) when the contents
    differ, identical copies (warning on the copies, the first row stays clean) otherwise."""
    key_expr = " || '|' || ".join(f"coalesce({_q(k)}::varchar, '')" for k in spec.key) or "''"
    key_not_null = " and ".join(f"{_q(k)} is not null" for k in spec.key) or "true"
    key_raw = " || ' / ' || ".join(f"coalesce({_q(k + '__raw')}, '')" for k in spec.key)
    content = ", ".join(f"coalesce({_q(c)}::varchar, '∅')" for c in spec.columns)
    return con.execute(f"""
        with keyed as (
            select _row_id, file_path, file_version, {key_expr} as k, {key_raw or "''"} as key_raw,
                   md5(concat_ws('|', {content})) as content_hash
            from prepared where {key_not_null}
        ), grouped as (
            select *, count(*) over w as n, count(distinct content_hash) over w as contents,
                   row_number() over (partition by file_path, file_version, k order by _row_id) as copy_rank
            from keyed
            window w as (partition by file_path, file_version, k)
        )
        select _row_id,
               case when contents > 1 then 'duplicate_key_conflict' else 'duplicate_key_identical' end as rule,
               case when contents > 1 then 'error' else 'warning' end as severity,
               {("'" + spec.key[0] + "'") if spec.key else 'null'} as column_name,
               key_raw as raw_value
        from grouped
        where n > 1 and (contents > 1 or copy_rank > 1)
    """).df()


def pupil_not_on_roster(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec, school_year: str,
                        province_code: str) -> pd.DataFrame:
    """A pupil referred to by a school's file must be on that school's accepted roster for the
    year; for province payment files, on the accepted roster of any school of the province."""
    if spec.name in ROSTER_RECORD_TYPES:
        match = "r.school_code = p.school_code"
    elif spec.name == "tayssir_payments":
        match = "true"
    else:
        return pd.DataFrame()
    return con.execute(f"""
        select p._row_id, 'pupil_not_on_roster' as rule, 'error' as severity,
               'massar_code' as column_name, p.massar_code__raw as raw_value
        from prepared p
        where p.massar_code is not null
          and regexp_full_match(p.massar_code, '[A-Z][0-9]{{9}}')
          and not exists (
              select 1 from staging.students r
              where r.school_year = $year and r.province_code = $province and not r.is_quarantined
                and r.massar_code = p.massar_code and {match})
    """, {"year": school_year, "province": province_code}).df()


def pupil_on_two_rosters(con: duckdb.DuckDBPyConnection, school_year: str, province_code: str,
                         accepted_ids: list[int]) -> pd.DataFrame:
    """Warning on an accepted roster row whose pupil is also on another school's accepted roster
    the same year: in this partition, or in another directorate's partition already loaded (this
    partition's own staged rows are about to be replaced, so they are not looked at)."""
    con.register("accepted_ids", pd.DataFrame({"_row_id": pd.Series(accepted_ids, dtype="int64")}))
    try:
        return con.execute("""
            select p._row_id, 'pupil_on_two_rosters' as rule, 'warning' as severity,
                   'massar_code' as column_name, p.massar_code__raw as raw_value
            from prepared p join accepted_ids a using (_row_id)
            where exists (
                select 1 from staging.students r
                where r.school_year = $year and r.province_code <> $province
                  and not r.is_quarantined and not r.is_duplicate_copy
                  and r.massar_code = p.massar_code and r.school_code <> p.school_code)
               or exists (
                select 1 from prepared q join accepted_ids b using (_row_id)
                where q.massar_code = p.massar_code and q.school_code <> p.school_code)
        """, {"year": school_year, "province": province_code}).df()
    finally:
        con.unregister("accepted_ids")


def grant_without_facility(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Warning on a grant at a school whose referential says it has no boarding (internat,
    demi-pension) or no canteen (cantine_college)."""
    return con.execute("""
        select p._row_id, 'grant_without_facility' as rule, 'warning' as severity,
               'grant_type' as column_name, p.grant_type__raw as raw_value
        from prepared p join core.dim_school s on s.school_code = p.school_code and s.is_current
        where (p.grant_type in ('internat', 'demi_pension') and not coalesce(s.has_boarding, false))
           or (p.grant_type = 'cantine_college' and not coalesce(s.has_canteen, false))
    """).df()
