"""Where a group lands in the landing zone: its relative path from its lineage values (or its date)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from typing import Any

from daam.config import RecordTypeSpec
from daam.landing.normalise import parse_school_year
from daam.sql_source.writer import _text

_SCHOOL_CODE = re.compile(r"^[0-9A-Z]{1,20}$")
_PERIOD = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_PROVINCE = re.compile(r"^[0-9]{3}$")


def _landing_path(spec: RecordTypeSpec, lineage: dict[str, Any], group_max: Any) -> str | None:
    """The relative landing path of a group, or None when its lineage can not name one."""
    if spec.layout == "snapshot":
        day = _as_date(group_max)
        return f"{spec.folder}/{day.isoformat()}.csv" if day else None
    year = parse_school_year(_text(lineage["school_year"])) if lineage["school_year"] is not None else None
    if not year:
        return None
    if spec.layout == "province_instalment":
        province, instalment = _text(lineage["province_code"]).strip(), _text(lineage["instalment"]).strip()
        if not _PROVINCE.match(province) or instalment not in ("1", "2", "3"):
            return None
        return f"{year}/{spec.folder}/{province}_{instalment}.csv"
    school = _text(lineage["school_code"]).strip().upper()
    if not _SCHOOL_CODE.match(school):
        return None
    if spec.layout == "monthly_school":
        period = lineage["period"]
        period = period.strftime("%Y-%m") if isinstance(period, dt.date) else _text(period).strip()
        if not _PERIOD.match(period):
            return None
        return f"{year}/{spec.folder}/{period}/{school}.csv"
    return f"{year}/{spec.folder}/{school}.csv"


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.datetime.fromisoformat(value.strip()).date()
    return None
