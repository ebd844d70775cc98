"""Raw rows (all text) → the prepared staging DataFrame that the quality rules check.

Vectorised with pandas: every normaliser works on whole columns. The helper columns named in
`quality_checks/expectations.py` (`<col>__raw`, `<col>__check`, the record-level ones) and the row key
helpers of the SQL rules (`_key`, `_key_raw`, `_content`) are added here.

This is the reference: the monitoring job's Great Expectations run (Data Docs) prepares its
samples with it, and the staging builder (`warehouse/build/staging.py`) runs its SQL twin
`prepare_sql.py`, proved equal to it by tests/landing/test_prepare_sql.py.
"""

from __future__ import annotations

import pandas as pd

from daam import codes
from daam.config import RecordTypeSpec, Settings
from daam.landing import normalise as nz

ROW_ID = "_row_id"  # the position of a row in the prepared frame: how rules name the rows they flag
# Marks a value that could not be normalised in a `__check` column, so that a raw value which
# merely looks valid (`2014-13-45` has the shape of an ISO date) can never pass the check.
UNREAD = "unread:"


def prepare(raw: pd.DataFrame, spec: RecordTypeSpec, settings: Settings, school_year: str | None) -> pd.DataFrame:
    """Normalise the canonical columns of `raw` and add the helper columns the suites check."""
    df = raw.reset_index(drop=True).copy()
    df[ROW_ID] = df.index.astype("int64")
    for col in spec.columns.values():
        source = df[col.name] if col.name in df else pd.Series(pd.NA, index=df.index, dtype="string")
        text = nz.clean_text(source.astype("string"))
        df[f"{col.name}__raw"] = text
        kind = col.kind
        if kind in ("massar_code", "school_code", "province_code", "commune_code", "cin"):
            df[col.name] = nz.normalise_code(text)
        elif kind in ("int", "decimal"):
            num = nz.to_number(text)
            df[f"{col.name}__check"] = num.astype("string").where(num.notna(), UNREAD + text)
            df[col.name] = num.round(0) if kind == "int" else num.round(2)
        elif kind == "date":
            parsed = nz.parse_dates(text)
            df[col.name] = parsed
            df[f"{col.name}__check"] = parsed.fillna(UNREAD + text)
        elif kind == "month":
            parsed = nz.parse_months(text)
            df[col.name] = parsed
            df[f"{col.name}__check"] = parsed.fillna(UNREAD + text)
        elif col.vocabulary == "level":
            mapped = nz.parse_levels(text, settings)
            df[col.name] = mapped
            df[f"{col.name}__check"] = mapped.fillna(UNREAD + nz.fold_series(text))
        elif col.vocabulary:
            mapped = nz.map_vocabulary(text, col.vocabulary, settings)
            if col.vocabulary == "yes_no" and col.name in raw:
                # a tick-box column: an empty cell in a column that is there means "no" (contract: x/empty)
                mapped = mapped.where(text.notna(), "false")
            df[col.name] = mapped
            df[f"{col.name}__check"] = mapped.fillna(UNREAD + nz.fold_series(text))
        else:
            df[col.name] = text
    _add_record_helpers(df, spec, settings, school_year)
    _add_key_helpers(df, spec)
    return df


def _add_key_helpers(df: pd.DataFrame, spec: RecordTypeSpec) -> None:
    """What the duplicate-key rule compares (quality_checks/sql/duplicate_keys.sql): the row's key
    within its file (`_key`, null when a key column is empty), the key as sent (`_key_raw`) and a
    hash of every canonical column (`_content`): two rows of one key are identical copies when it
    is equal."""
    if not spec.key:
        return
    keys = [df[k].astype("string") for k in spec.key]
    if len(keys) == 1:
        df["_key"] = keys[0]
    else:
        joined = keys[0].str.cat(keys[1:], sep="|")
        df["_key"] = joined.where(pd.concat([k.notna() for k in keys], axis=1).all(axis=1))
    raws = [df[f"{k}__raw"].fillna("") for k in spec.key]
    df["_key_raw"] = raws[0].str.cat(raws[1:], sep=" / ") if len(raws) > 1 else raws[0]
    # equal normalised values give equal hashes (numbers as numbers, empty as empty)
    df["_content"] = pd.util.hash_pandas_object(df[list(spec.columns)], index=False).to_numpy().view("int64")


def _add_record_helpers(df: pd.DataFrame, spec: RecordTypeSpec, settings: Settings, school_year: str | None) -> None:
    if spec.name == "attendance":
        month_days = {m: settings.school_days(school_year, int(m[5:])) for m in settings.months_of(school_year)}
        calendar_days = df["period"].map(month_days).astype("Float64")
        df["school_days_effective"] = df["school_days"].astype("Float64").fillna(calendar_days)
        df["absence_days_total"] = df["unjustified_absence_days"].astype("Float64") + df[
            "justified_absence_days"].astype("Float64").fillna(0)
    elif spec.name == "students":
        born = pd.to_datetime(df["birth_date"], errors="coerce")
        sept = pd.Timestamp(f"{school_year[:4]}-09-01")
        age = sept.year - born.dt.year - ((born.dt.month > 9) | ((born.dt.month == 9) & (born.dt.day > 1))).astype(int)
        nominal = df["level"].map({k: v.nominal_age for k, v in settings.levels.items()})
        df["age_at_sept"] = age.astype("Float64")
        df["age_offset"] = (age - nominal).astype("Float64")
    elif spec.name == "schools":
        valid = df["school_code"].str.fullmatch(codes.SCHOOL_CODE_RE[1:-1], na=False)
        digits = df["school_code"].where(valid).str[:5]
        df["school_code__expected"] = digits.map(
            lambda d: d + codes.school_check_letter(d), na_action="ignore").astype("string")
