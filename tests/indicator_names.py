"""The indicator names warehouse/sql/mart/indicators.sql writes, read from the SQL itself: the
suppression rules and the indicator catalogue must each cover exactly these."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def indicator_names_in_sql() -> set[str]:
    """The quoted literals in the select lists of the branches of its `school_values` CTE (an
    `'x' as indicator` or an `unnest(['a', 'b'])`)."""
    sql = (ROOT / "warehouse/sql/mart/indicators.sql").read_text(encoding="utf-8")
    sql = re.sub(r"--[^\n]*", "", sql)
    body = sql[sql.index("school_values as ("):]
    names = set()
    for branch in re.split(r"\bunion all\b", body):
        select_list = re.split(r"\n\s*from\s", branch, maxsplit=1)[0]
        names |= set(re.findall(r"'([a-z][a-z0-9_]*)'", select_list))
    return names
