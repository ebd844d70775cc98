"""What the quality checks hand around, in a module that does not import Great Expectations.

GX takes about three seconds to import, and `daam load` never runs it: staging runs the suites'
rules compiled to SQL (`quality_checks/compiled.py`, from the declarations of
`quality_checks/expectations.py`). So the load path imports these types from here, and only the
monitoring job and the tests import the modules that import GX (`suites`, `validate`,
`data_docs`); `tests/quality_checks/test_gx_off_the_load_path.py` holds the line.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from daam.landing.prepare import ROW_ID

ISSUE_COLUMNS = [ROW_ID, "rule", "severity", "column_name", "raw_value"]
DEFAULT_MAX_ROWS = 200_000  # Data Docs: rows validated per record type and school year, above which they are sampled


@dataclass
class SuiteOutcome:
    issues: pd.DataFrame  # ISSUE_COLUMNS
    summary: list[dict]  # one per expectation: rule, column, success, unexpected_count, element_count


@dataclass(frozen=True)
class Batch:
    """Rows of one record type and school year to validate: raw text, as staging reads them."""

    record_type: str
    school_year: str | None
    raw: pd.DataFrame
    rows_in_scope: int  # more than len(raw) when the rows are a sample
    scope: str = "all"  # what was read ("all", "2022-2023_110"...): named in the site's run names
