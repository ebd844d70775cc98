"""Run a record type's Great Expectations suite on a prepared staging DataFrame.

Returns the failing rows as issue records (row id, rule, severity, column, raw value) and a
summary per expectation for the Dagster asset check. GX runs in an ephemeral context here; the
file-backed context that builds Data Docs is the monitoring job's business.
"""

from __future__ import annotations

import logging
import os
import re
from functools import cache

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig

from daam.config import RecordTypeSpec, Settings, load_settings
from daam.landing.prepare import ROW_ID
from quality_checks.suites import build_suite
from quality_checks.types import ISSUE_COLUMNS, SuiteOutcome

# GX logs nothing in daam's processes: it logs "Caught exception <text>" at ERROR and rendering
# tracebacks, and the text can quote a value of the batch. What failed is reported by daam itself,
# with the expectation and the exception's type (`exception_type`).
logging.getLogger("great_expectations").setLevel(logging.CRITICAL + 1)


_EXCEPTION_TYPE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt))\b")


def exception_type(info: dict) -> str:
    """The class name of an exception GX caught, from the last line of its traceback (flat or per
    metric), never its message: the message can quote a value of the batch."""
    infos = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for one in infos:
        lines = [ln.strip() for ln in str(one.get("exception_traceback") or "").splitlines() if ln.strip()]
        match = _EXCEPTION_TYPE.match(lines[-1]) if lines else None
        if match:
            return match.group(1).rsplit(".", 1)[-1]
    return "an exception"


@cache
def _context():
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


@cache
def _validation(record_type: str, school_year: str | None):
    settings = load_settings()
    ctx = _context()
    name = f"{record_type}.{school_year}"
    ds = ctx.data_sources.add_pandas(f"staging.{name}")
    batch = ds.add_dataframe_asset(name).add_batch_definition_whole_dataframe("partition")
    suite = ctx.suites.add(build_suite(settings.record_types[record_type], settings, school_year))
    return ctx.validation_definitions.add(gx.ValidationDefinition(name=f"validate.{name}", data=batch, suite=suite))


def run_suite(frame: pd.DataFrame, spec: RecordTypeSpec, settings: Settings, school_year: str | None) -> SuiteOutcome:
    """Validate `frame` (must carry `_row_id`) and list every failing row with its rule."""
    if frame.empty:
        return SuiteOutcome(pd.DataFrame(columns=ISSUE_COLUMNS), [])
    result = _validation(spec.name, school_year).run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID],
                       "return_unexpected_index_query": False},
    )
    parts, summary = [], []
    for r in result.results:
        meta = r.expectation_config.meta
        if r.exception_info and r.exception_info.get("raised_exception"):
            # the exception's text can quote a value of the batch: name the expectation, never the data
            raise RuntimeError(f"expectation {r.expectation_config.type} (rule {meta.get('rule')}, column "
                               f"{meta.get('column')}) failed to run: {exception_type(r.exception_info)}")
        failing = [d[ROW_ID] for d in (r.result.get("unexpected_index_list") or [])]
        summary.append({"rule": meta["rule"], "column": meta["column"], "success": bool(r.success),
                        "unexpected_count": len(failing), "element_count": r.result.get("element_count")})
        if failing:
            ids = pd.Index(failing, dtype="int64")
            raw = frame.loc[ids, meta["value_column"]] if meta["value_column"] in frame else None
            parts.append(pd.DataFrame({
                ROW_ID: ids, "rule": meta["rule"], "severity": meta["severity"], "column_name": meta["column"],
                "raw_value": raw.astype("string").to_numpy() if raw is not None else None,
            }))
    issues = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ISSUE_COLUMNS)
    return SuiteOutcome(issues, summary)
