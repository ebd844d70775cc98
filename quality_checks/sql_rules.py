"""Rules across rows and record types, run as the DuckDB SQL of `quality_checks/sql/` (contract
section 8).

Each function takes the open connection, with the prepared rows as the relation `prepared`, and
returns issue rows: `_row_id, rule, severity, column_name, raw_value`. Which rule applies to which
record type comes from the record type (its key, its `roster` in configs/record_types.yaml) and the
catalogue's `applies: {record_type: ...}`.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from daam.config import RecordTypeSpec
from daam.sqlfiles import SqlFiles
from quality_checks.catalogue import rules

SQL = SqlFiles("quality_checks")
CHECKED_AGAINST_ROSTER = ("school", "directorate")


def applies_to(rule_id: str, spec: RecordTypeSpec) -> bool:
    return rules()[rule_id].applies.get("record_type") == spec.name


def sql_rules_for(spec: RecordTypeSpec) -> list[str]:
    """The SQL rules this module applies to a record type's rows."""
    out = ["duplicate_key_conflict", "duplicate_key_identical"] if spec.key else []
    if spec.roster in CHECKED_AGAINST_ROSTER:
        out.append("pupil_not_on_roster")
    out += [r for r in ("pupil_on_two_rosters", "grant_without_facility") if applies_to(r, spec)]
    return out


def duplicate_keys(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec) -> pd.DataFrame:
    """Same key twice in one file: conflict (error on every row of the key) when the contents
    differ, identical copies (warning on the copies, the first row stays clean) otherwise."""
    if not spec.key:
        return pd.DataFrame()
    return SQL.query(con, "duplicate_keys.sql", {"key_column": spec.key[0]}).df()


def pupil_not_on_roster(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec, school_year: str,
                        province_code: str) -> pd.DataFrame:
    """A pupil referred to by a school's file must be on that school's accepted roster for the
    year; for province payment files, on the accepted roster of any school of the province."""
    if spec.roster not in CHECKED_AGAINST_ROSTER:
        return pd.DataFrame()
    return SQL.query(con, "pupil_not_on_roster.sql", {"year": school_year, "province": province_code,
                                                       "same_school": spec.roster == "school"}).df()


def grant_without_facility(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec) -> pd.DataFrame:
    """Warning on a grant at a school whose referential says it has no boarding (internat,
    demi-pension) or no canteen (cantine_college)."""
    if not applies_to("grant_without_facility", spec):
        return pd.DataFrame()
    return SQL.query(con, "grant_without_facility.sql").df()


def pupil_on_two_rosters(con: duckdb.DuckDBPyConnection, spec: RecordTypeSpec, school_year: str,
                         province_code: str) -> pd.DataFrame:
    """Warning on an accepted roster row (the `_row_id`s of `prepared` in the relation `accepted`)
    whose pupil is also on another school's accepted roster the same year, in this directorate or
    another one. Runs once the partition's rows are staged, so that they count among the rosters."""
    if not applies_to("pupil_on_two_rosters", spec):
        return pd.DataFrame()
    return SQL.query(con, "pupil_on_two_rosters.sql", {"year": school_year, "province": province_code}).df()
