"""The checks the registry declares (`warehouse/sql/checks/checks.yml`), run as their SQL files.

A check's query returns one row: `failing` (the check passes when it is 0) and metadata columns
(counts, a few examples; never a pupil). A check with `per: foreign_key` runs once per foreign key of
its model and passes when every run passes; the examples of an orphan key of a person (a pupil key)
are the schools holding the orphan rows, never the keys. Checks a builder computes itself (the Great
Expectations suites, new outliers) are made into the same `CheckResult` by that builder.

Examples name schools, files, months and counts, never a pupil key, Massar code, CIN, name or birth
date: the metadata is shown in the Dagster UI and sent in alerts (`pipelines/alerts.py`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb

from daam.progress import emit
from warehouse.registry import CheckUse, Model, registry
from warehouse.schema import SQL


@dataclass
class CheckOutcome:
    passed: bool
    metadata: dict = field(default_factory=dict)


@dataclass
class CheckResult:
    model: str          # the model the check guards, e.g. core.fct_enrolment
    name: str           # the check, e.g. referential_integrity
    blocking: bool
    outcome: CheckOutcome

    @property
    def passed(self) -> bool:
        return self.outcome.passed


# Keys of a person: orphans of these are shown by school, never by key.
PERSON_DIMENSIONS = ("core.dim_pupil",)
PERSON_KEY_WORDS = ("pupil", "guardian", "household", "member", "person", "massar", "cin")


def is_person_key(column: str, dimension: str) -> bool:
    """Whether a foreign key identifies a person (a pupil, a guardian...): pseudonymous or not, its
    values are not shown in check metadata."""
    return dimension in PERSON_DIMENSIONS or any(w in column.split("_") for w in PERSON_KEY_WORDS)


def _row(con: duckdb.DuckDBPyConnection, sql: str, params: dict, **identifiers: str) -> CheckOutcome:
    values = SQL.row(con, sql, params, **identifiers)
    failing = values.pop("failing")
    return CheckOutcome(failing == 0, {k: (int(v) if isinstance(v, int) else v)
                                       for k, v in values.items() if v is not None})


def run_check(con: duckdb.DuckDBPyConnection, model: Model, use: CheckUse, params: dict) -> CheckOutcome:
    """One check of one model, with the partition's parameters."""
    if use.sql is None:
        raise ValueError(f"{use.name} is computed by the {use.check.computed_by} builder, not by a query")
    if use.check.per == "foreign_key":
        passed, meta = True, {}
        for column, dimension in model.foreign_keys.items():
            person = is_person_key(column, dimension)
            out = _row(con, use.sql, params, table=model.name, column=column, dimension=dimension,
                       dimension_key=registry()[dimension].primary_key[0],
                       example="f.school_code" if person else f"f.{column}",
                       examples="schools" if person else "examples")
            passed &= out.passed
            meta.update(out.metadata)
        return CheckOutcome(passed, meta)
    identifiers = {"table": model.name, **({"source": model.source} if model.source else {})}
    return _row(con, use.sql, params, **identifiers)


def run_checks(con: duckdb.DuckDBPyConnection, models: list[Model], params: dict) -> list[CheckResult]:
    """Every query check of `models`, in registry order; their time is a progress event (the
    checks run after a step's own work, outside its line of ops.load_log)."""
    started, results, slowest = time.monotonic(), [], ("", 0.0)
    for m in models:
        for use in m.checks:
            if use.sql is None:
                continue
            t = time.monotonic()
            results.append(CheckResult(m.name, use.name, use.check.blocking, run_check(con, m, use, params)))
            if time.monotonic() - t > slowest[1]:
                slowest = (f"{m.name}.{use.name}", time.monotonic() - t)
    if results:
        where = " ".join(str(v) for v in params.values() if v)
        emit("checks", f"{len(results)} check(s) {where}: {time.monotonic() - started:.1f} s "
                       f"(slowest {slowest[0]}, {slowest[1]:.1f} s)", seconds=time.monotonic() - started)
    return results
