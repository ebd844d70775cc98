"""Raw rows (all text) → the prepared staging DataFrame that the quality suites validate.

Vectorised with pandas: every normaliser works on whole columns. The helper columns named in
`quality_checks/suites.py` are added here; `warehouse/stage.py` keeps the canonical ones, typed.
"""

from __future__ import annotations

import pandas as pd

from daam import codes
from daam.config import RecordTypeSpec, Settings
from daam.landing import normalise as nz

ROW_ID = "_row_id"
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
    return df


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
