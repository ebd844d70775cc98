"""Great Expectations Data Docs of the warehouse's current rows: one HTML site, every suite, every run.

`build_data_docs` re-runs the record types' suites (`quality_checks/suites.py`) on the raw rows of
the current loaded file versions, prepared exactly as staging prepares them, in a *file-backed* GX
context, and publishes the results as a static Data Docs site. Staging itself validates in an
ephemeral context (`quality_checks/validate.py`); nothing here changes the warehouse.

Everything GX writes lives under `<root>/gx/` (default root: this folder, so `quality_checks/gx/`;
override with the `root` argument or the `DAAM_GX_ROOT` environment variable) and is generated:
it is git-ignored and may be deleted at any time, the next build recreates it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import duckdb
import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

from daam.config import PERIOD_RECORD_TYPES, RECORD_TYPES, load_settings
from daam.staging import prepare
from quality_checks.suites import build_suite
from warehouse.stage import current_raw

GX_ROOT_ENV = "DAAM_GX_ROOT"
DEFAULT_ROOT = Path(__file__).resolve().parent
DATASOURCE = "daam.prepared"
BATCH_DEFINITION = "whole_frame"
SITE = "local_site"
DEFAULT_MAX_ROWS = 200_000
# Stored results and Data Docs must not show pupils' personal data. GX lists a sample of the
# unexpected *values* of a failing expectation (up to 20 by default, in BASIC, SUMMARY and
# COMPLETE alike) - for `birth_date__check`, `guardian_cin`, `massar_code`... that would be dates
# of birth, national ID numbers and pupil codes on an HTML page. SUMMARY keeps what the docs need
# (element, unexpected and missing counts and percentages per expectation) while
# `partial_unexpected_count: 0` and `exclude_unexpected_values` drop every value and row index.
# BASIC would still list 20 values (checked: the fixture's malformed Massar code then shows up in the
# stored JSON and on the page); BOOLEAN_ONLY would drop the counts too. The failing rows
# themselves are listed in `ops.row_issue`. Besides, only the columns a suite checks are handed to
# GX, so names never reach it at all.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0, "exclude_unexpected_values": True,
                 "include_unexpected_rows": False}
logging.getLogger("great_expectations").setLevel(logging.ERROR)


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
    sampled: bool  # at least one suite was validated on a sample of max_rows rows
    max_rows: int


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


def _scope(record_type: str, school_year: str | None, province: str | None, alias: str = "r") -> tuple[str, dict]:
    """Condition (on raw rows aliased `alias`) and parameters of the scope. The referential
    (`schools`) has no school year: it is in every year's scope, filtered by directorate only."""
    conds, params = ["true"], {}
    if province:
        conds.append(f"{alias}.province_code = $province")
        params["province"] = province
    if record_type in PERIOD_RECORD_TYPES:
        conds.append(f"{alias}.school_year is not null")
        if school_year:
            conds.append(f"{alias}.school_year = $year")
            params["year"] = school_year
    return " and ".join(conds), params


def _counts(con: duckdb.DuckDBPyConnection, record_type: str, where: str, params: dict) -> list[tuple]:
    """(school year, rows) of the current loaded file versions in scope."""
    return con.execute(f"""
        select r.school_year, count(*) from raw.{record_type} r
        join ops.file_manifest m on m.file_path = r.file_path and m.version = r.file_version
        where m.status = 'loaded' and {where} group by all order by 1 nulls first
    """, params).fetchall()


def _rows(con: duckdb.DuckDBPyConnection, record_type: str, school_year: str | None, province: str | None,
          rows: int, max_rows: int) -> pd.DataFrame:
    """Raw rows of one record type and school year in scope, read by staging's own query. Above
    `max_rows`, a deterministic sample: the rows with the smallest hash of (file, sheet, row
    number), so that every run - and a corrected file's next version - samples the same rows."""
    where, params = _scope(record_type, school_year, province)
    if rows <= max_rows:
        return current_raw(con, record_type, where, params)
    inner, _ = _scope(record_type, school_year, province, alias="s")
    cutoff = f"""(select max(h) from (
        select hash(s.file_path, s.sheet, s.row_number) as h from raw.{record_type} s
        join ops.file_manifest sm on sm.file_path = s.file_path and sm.version = s.file_version
        where sm.status = 'loaded' and {inner} order by h limit {int(max_rows)}))"""
    sample = current_raw(con, record_type, f"{where} and hash(r.file_path, r.sheet, r.row_number) <= {cutoff}", params)
    return sample.head(max_rows)  # a hash tie at the cutoff could add a row


def _index_path(ctx) -> Path:
    url = ctx.get_docs_sites_urls(site_name=SITE, only_if_exists=False)[0]["site_url"]
    return Path(url2pathname(unquote(urlparse(url).path)))


def build_data_docs(con: duckdb.DuckDBPyConnection, root: Path | None = None, school_year: str | None = None,
                    province: str | None = None, max_rows: int = DEFAULT_MAX_ROWS) -> DataDocsResult:
    """Great Expectations Data Docs: the quality suites run on the warehouse's current rows.

    For every record type with rows in scope - the raw rows of the latest loaded version of each
    file, all of them or those of one school year and/or one directorate (`province`) - the rows
    are prepared exactly as staging prepares them and validated against the record type's suite
    for their school year (`daam.<record type>.<school year>`; the school referential,
    `daam.schools`, belongs to no school year and is always in scope). The results are stored and
    the static HTML site is updated: open `index_html` in a browser.

    What the site shows, per suite and run: each rule (expectation) with its element count and
    its unexpected count and percentage. It never shows values: no names, dates of birth, CIN or
    Massar codes (stored results use result format SUMMARY without unexpected values); the rows
    themselves are listed in `ops.row_issue` and the schools' feedback workbooks.

    Scale: at most `max_rows` rows are validated per record type and school year; above that, a
    deterministic sample (the same spreadsheet rows every run) is validated and the result says
    so (`sampled`, and per suite rows in scope vs rows validated). Counts on a sampled suite are
    counts in the sample.

    Rerunning is safe: suites, validation definitions and checkpoints are added or updated, and
    each run adds one validation result per suite to the site's history. Files live under
    `<root>/gx/` (root: argument, else `$DAAM_GX_ROOT`, else `quality_checks/`), all generated.
    The warehouse connection is only read.
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, not {max_rows}")
    settings = load_settings()
    ctx = file_context(root)
    scope = "daam-" + ("_".join(p for p in (school_year, province) if p) or "all")
    run_time = dt.datetime.now(dt.UTC)
    validated: list[SuiteValidation] = []
    rendered: list = []  # this run's suites and validation results: the pages to (re)render
    for record_type in RECORD_TYPES:
        spec = settings.record_types[record_type]
        for year, rows in _counts(con, record_type, *_scope(record_type, school_year, province)):
            raw = _rows(con, record_type, year, province, rows, max_rows)
            suite = build_suite(spec, settings, year)
            checkpoint = _checkpoint(ctx, suite)
            # Only the columns the suite checks go to GX (names and other columns never leave the frame).
            frame = prepare(raw, spec, settings, year)[_suite_columns(suite)]
            # The run name says, on the site, what was validated: the scope and any sampling.
            run_name = scope + (f"-sample-{len(frame)}-of-{rows}" if len(frame) < rows else "")
            result = checkpoint.run(batch_parameters={"dataframe": frame},
                                    run_id=RunIdentifier(run_name=run_name, run_time=run_time))
            key, outcome = next(iter(result.run_results.items()))
            rendered += [ExpectationSuiteIdentifier(name=suite.name), key]
            failed = [r for r in outcome.results if not r.success]
            validated.append(SuiteValidation(
                suite=suite.name, record_type=record_type, school_year=year, rows_in_scope=int(rows),
                rows_validated=len(frame), sampled=len(frame) < rows, success=bool(outcome.success),
                failed_expectations=len(failed),
                failed_rules=sorted({r.expectation_config.meta.get("rule", r.expectation_config.type) for r in failed})))
    if not rendered:  # nothing in scope: still publish the site (its suites and earlier runs)
        rendered = [ExpectationSuiteIdentifier(name=s.name) for s in ctx.suites.all()]
    # Incremental: renders the pages of `rendered` and the index (which links every stored run).
    ctx.build_data_docs(site_names=[SITE], resource_identifiers=rendered or None)
    return DataDocsResult(index_html=_index_path(ctx), suites=validated, sampled=any(v.sampled for v in validated),
                          max_rows=max_rows)
