"""Great Expectations Data Docs of the warehouse's current rows: one HTML site, every suite, every run.

`build_data_docs` re-runs the record types' suites (`quality_checks/suites.py`) on the raw rows it is
given — the warehouse's current file versions, read (and sampled) by the monitoring builder,
`warehouse.build.ops.data_docs_batches` — prepared exactly as staging prepares them, in a
*file-backed* GX context, and publishes the results as a static Data Docs site. Staging runs the
same expectations compiled to SQL (`quality_checks/compiled.py`), without GX; nothing here reads or
changes the warehouse.

Everything GX writes lives under `<root>/gx/` (default root: this folder, so `quality_checks/gx/`;
override with the `root` argument or the `DAAM_GX_ROOT` environment variable) and is generated:
it is git-ignored and may be deleted at any time, the next build recreates it.

**No personal value in the docs (contract, levels.md section 1).** The suites check Massar codes,
guardians' CIN, dates of birth and the presence of names; GX would list a sample of the failing
*values* on the page. Chosen, in three layers (GX 1.x, checked in its source:
`expectations/expectation.py::_format_map_output`, `core/validation_definition.py::run`):

1. GX is handed only the columns the suites check (`_suite_columns`): names, birth places, phones,
   a school's extra columns never reach it.
2. The checkpoints validate with `RESULT_FORMAT`: SUMMARY (element, unexpected and missing counts
   and percentages), `partial_unexpected_count: 0` and `exclude_unexpected_values` (no value, no
   row index), no unexpected rows.
3. What GX returns is scrubbed anyway before it is rendered (`scrub_result`): every key that can
   hold values (`partial_unexpected_list`, `partial_unexpected_counts`, `unexpected_list`,
   `unexpected_index_list`, `unexpected_rows`, `unexpected_index_query`, a non-numeric
   `observed_value`, ...) is dropped, and an expectation that raised keeps `raised_exception` but
   not its message or traceback (a pandas error quotes the value it choked on). GX stores the
   result before `checkpoint.run` returns, so the scrubbed result is written over the stored one
   (same key) before the pages are built.

GX's own log is silenced for the whole process (`quality_checks/validate.py`, imported here): it
logs the message of an exception raised while computing a metric (`validator/validation_graph.py`,
"Caught exception …") and the traceback of a rendering error, both of which can quote a value. In its place this module
logs which expectation could not be evaluated, with the exception's type only.

Counts of failing rows stay; the failing rows themselves are in `ops.row_issue` and the schools'
feedback workbooks. Replacing the personal columns by surrogates before validating was rejected: a
format rule's outcome depends on the value itself, so the surrogate would have to re-implement each
expectation.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

from daam.config import load_settings
from daam.landing.prepare import prepare
from quality_checks.suites import build_suite
from quality_checks.types import Batch
from quality_checks.validate import exception_type

GX_ROOT_ENV = "DAAM_GX_ROOT"
DEFAULT_ROOT = Path(__file__).resolve().parent
DATASOURCE = "daam.prepared"
BATCH_DEFINITION = "whole_frame"
SITE = "local_site"
# Stored results and Data Docs must not show pupils' personal data (layer 2 of the module
# docstring). GX lists a sample of the unexpected *values* of a failing expectation (up to 20 by
# default, in BASIC, SUMMARY and COMPLETE alike) - for `birth_date__check`, `guardian_cin`,
# `massar_code`... that would be dates of birth, national ID numbers and pupil codes on a page. SUMMARY keeps what the docs need
# (element, unexpected and missing counts and percentages per expectation) while
# `partial_unexpected_count: 0` and `exclude_unexpected_values` drop every value and row index.
# BASIC would still list 20 values (checked: the fixture's malformed Massar code then shows up in the
# stored JSON and on the page); BOOLEAN_ONLY would drop the counts too. The failing rows
# themselves are listed in `ops.row_issue`. Besides, only the columns a suite checks are handed to
# GX, so names never reach it at all.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0, "exclude_unexpected_values": True,
                 "include_unexpected_rows": False}
logging.getLogger("great_expectations").setLevel(logging.ERROR)
log = logging.getLogger(__name__)


@dataclass
class SuiteValidation:
    suite: str  # daam.<record type>[.<school year>]
    record_type: str
    school_year: str | None
    rows_in_scope: int
    rows_validated: int  # fewer than rows_in_scope when sampled
    sampled: bool
    success: bool
    failed_expectations: int
    failed_rules: list[str] = field(default_factory=list)  # catalogue rules of the failed expectations


@dataclass
class DataDocsResult:
    index_html: Path  # local path of the site's index page
    suites: list[SuiteValidation]  # those validated by this run, in RECORD_TYPES order
    sampled: bool  # at least one suite was validated on a sample


def gx_root(root: Path | None = None) -> Path:
    """The folder holding `gx/`: `root`, else `$DAAM_GX_ROOT`, else `quality_checks/`."""
    return Path(root or os.environ.get(GX_ROOT_ENV) or DEFAULT_ROOT).resolve()


def file_context(root: Path | None = None):
    """A file-backed GX context at `<root>/gx/` (created on first use), progress bars off."""
    project = gx_root(root)
    project.mkdir(parents=True, exist_ok=True)
    ctx = gx.get_context(mode="file", project_root_dir=str(project))
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    ctx.variables.analytics_enabled = False
    ctx.variables.save()  # into gx/great_expectations.yml, for whoever opens this context later
    return ctx


def _batch_definition(ctx, asset_name: str):
    """The whole-dataframe batch definition of an asset, created on first use (idempotent)."""
    try:
        source = ctx.data_sources.get(DATASOURCE)
    except KeyError:
        source = ctx.data_sources.add_pandas(DATASOURCE)
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(asset_name)
    try:
        return asset.get_batch_definition(BATCH_DEFINITION)
    except KeyError:
        return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)


def _checkpoint(ctx, suite: gx.ExpectationSuite) -> gx.Checkpoint:
    """Register (or refresh) the suite, its validation definition and its checkpoint.

    The checkpoint stores its results (with RESULT_FORMAT) but has no UpdateDataDocsAction: that
    action rebuilds the site's index after every suite, and rendering dominates the run time;
    `build_data_docs` renders this run's pages and the index once, at the end."""
    suite = ctx.suites.add_or_update(suite)
    validation = ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=_batch_definition(ctx, suite.name), suite=suite))
    return ctx.checkpoints.add_or_update(gx.Checkpoint(
        name=suite.name, validation_definitions=[validation], result_format=RESULT_FORMAT, actions=[]))


def _suite_columns(suite: gx.ExpectationSuite) -> list[str]:
    cols: list[str] = []
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        cols += [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k) and kwargs[k] not in cols]
    return cols


# Keys of an expectation's `result` that can hold values of the rows (GX 1.x map and aggregate
# expectations); the counts and percentages stay.
VALUE_KEYS = ("partial_unexpected_list", "partial_unexpected_counts", "partial_unexpected_index_list",
              "unexpected_list", "unexpected_index_list", "unexpected_index_query", "unexpected_rows",
              "unexpected_index_column_names", "details")
WITHHELD = "the expectation could not be evaluated (the error is not shown: it may quote the data)"


def scrub_result(outcome) -> list[str]:
    """Drop from a suite's validation result, in place, everything that can hold a row's value:
    the value-bearing keys of every expectation result, a non-numeric observed value, and the
    message and traceback of an expectation that raised (kept: that it raised). Returns, for each
    expectation that raised, a line naming it and the exception's type (never its message)."""
    raised_lines: list[str] = []
    for r in outcome.results:
        result = r.result or {}
        for key in VALUE_KEYS:
            result.pop(key, None)
        observed = result.get("observed_value")
        if observed is not None and (isinstance(observed, bool) or not isinstance(observed, (int, float))):
            result.pop("observed_value")
        r.result = result
        info = r.exception_info or {}
        raised = bool(info.get("raised_exception")) if "raised_exception" in info else bool(info)
        if raised:
            config = r.expectation_config
            meta = (config.meta or {}) if config is not None else {}
            raised_lines.append(f"{config.type if config is not None else 'an expectation'} (rule "
                                f"{meta.get('rule')}, column {meta.get('column')}) raised {exception_type(info)}")
        # the renderer formats the traceback as text: a raised one gets the notice in both fields
        r.exception_info = {"raised_exception": raised, "exception_traceback": WITHHELD if raised else None,
                            "exception_message": WITHHELD if raised else None}
    return raised_lines


def _index_path(ctx) -> Path:
    url = ctx.get_docs_sites_urls(site_name=SITE, only_if_exists=False)[0]["site_url"]
    return Path(url2pathname(unquote(urlparse(url).path)))


def build_data_docs(batches: Iterable[Batch], root: Path | None = None) -> DataDocsResult:
    """Great Expectations Data Docs: the quality suites run on the warehouse's current rows.

    Each batch — the raw rows of the latest loaded version of each file of one record type and
    school year (the school referential, `daam.schools`, belongs to no school year) — is prepared
    exactly as staging prepares it and validated against the record type's suite for its school
    year (`daam.<record type>.<school year>`). The results are stored and the static HTML site is
    updated: open `index_html` in a browser.

    What the site shows, per suite and run: each rule (expectation) with its element count and
    its unexpected count and percentage. It never shows values: no names, dates of birth, CIN or
    Massar codes (stored results use result format SUMMARY without unexpected values, and are
    scrubbed by `scrub_result` before they are rendered); the rows themselves are listed in
    `ops.row_issue` and the schools' feedback workbooks.

    Scale: the reader samples above DEFAULT_MAX_ROWS (quality_checks/types.py) rows per record type
    and school year (the same spreadsheet rows every run); the result says so (`sampled`, and per
    suite rows in scope vs rows validated). Counts on a sampled suite are counts in the sample.

    Rerunning is safe: suites, validation definitions and checkpoints are added or updated, and
    each run adds one validation result per suite to the site's history. Files live under
    `<root>/gx/` (root: argument, else `$DAAM_GX_ROOT`, else `quality_checks/`), all generated.
    """
    settings = load_settings()
    ctx = file_context(root)
    run_time = dt.datetime.now(dt.UTC)
    validated: list[SuiteValidation] = []
    rendered: list = []  # this run's suites and validation results: the pages to (re)render
    for batch in batches:
        spec = settings.record_types[batch.record_type]
        suite = build_suite(spec, settings, batch.school_year)
        checkpoint = _checkpoint(ctx, suite)
        # Only the columns the suite checks go to GX (names and other columns never leave the frame).
        frame = prepare(batch.raw, spec, settings, batch.school_year)[_suite_columns(suite)]
        rows = batch.rows_in_scope
        # The run name says, on the site, what was validated: the scope and any sampling.
        run_name = f"daam-{batch.scope}" + (f"-sample-{len(frame)}-of-{rows}" if len(frame) < rows else "")
        result = checkpoint.run(batch_parameters={"dataframe": frame},
                                run_id=RunIdentifier(run_name=run_name, run_time=run_time))
        key, outcome = next(iter(result.run_results.items()))
        # GX has stored the result already: scrub it, and store it again over the same key.
        for line in scrub_result(outcome):
            log.warning("Data Docs, suite %s: %s; its message is not shown (it may quote the data)", suite.name, line)
        ctx.validation_results_store.set(key, outcome)
        rendered += [ExpectationSuiteIdentifier(name=suite.name), key]
        failed = [r for r in outcome.results if not r.success]
        validated.append(SuiteValidation(
            suite=suite.name, record_type=batch.record_type, school_year=batch.school_year, rows_in_scope=int(rows),
            rows_validated=len(frame), sampled=len(frame) < rows, success=bool(outcome.success),
            failed_expectations=len(failed),
            failed_rules=sorted({r.expectation_config.meta.get("rule", r.expectation_config.type) for r in failed})))
    if not rendered:  # nothing in scope: still publish the site (its suites and earlier runs)
        rendered = [ExpectationSuiteIdentifier(name=s.name) for s in ctx.suites.all()]
    # Incremental: renders the pages of `rendered` and the index (which links every stored run).
    ctx.build_data_docs(site_names=[SITE], resource_identifiers=rendered or None)
    return DataDocsResult(index_html=_index_path(ctx), suites=validated, sampled=any(v.sampled for v in validated))
