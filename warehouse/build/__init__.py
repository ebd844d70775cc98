"""Builders: one per layer of the warehouse, each with the same shape.

    landing   the landing scan: configuration seeds, the referential (raw → staging → dim_school),
              every file placed in its partition or refused            (warehouse/build/landing.py)
    raw       a partition's new file versions read into raw rows        (raw.py)
    staging   a partition's raw rows normalised, validated, flagged     (staging.py)
    core      a partition's facts, then their checks                    (core.py)
    mart      a partition's programme marts and indicators, gated by levels_add_up   (mart.py)
    cycle     one school month of Tayssir closed for a directorate      (cycle.py)
    ops       the quality monitoring over the whole warehouse           (ops.py)
    approval  the drift of the signed units from the live values        (approval.py)

Each exposes `build(con, scope, run_id, ...) -> Built`: it writes the models the registry says it
builds (`built_by`) in one transaction (or one per school year, for the monitoring's
de-duplication), appends its line to `ops.load_log`, runs the checks of those models and returns
their outcomes with each model's metadata. The Dagster assets only wire builders to partitions,
resources and checks; the CLI and tests can call a builder directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from warehouse.checks import CheckResult
from warehouse.partition_digest import digested, record
from warehouse.registry import Model
from warehouse.schema import SQL


@dataclass(frozen=True)
class Scope:
    """What a builder works on: a (school year, directorate) partition, a (month, directorate) of
    the Tayssir cycle, or the whole warehouse (all None)."""

    school_year: str | None = None
    province: str | None = None
    month: str | None = None

    @property
    def params(self) -> dict[str, str]:
        """The $parameters of the scope's SQL."""
        return {k: v for k, v in (("year", self.school_year), ("province", self.province),
                                  ("month", self.month)) if v is not None}

    @property
    def key(self) -> str | None:
        """The partition key as Dagster writes it (dimensions by name: month|province,
        province|school_year), which ops.load_log keeps."""
        if self.month:
            return f"{self.month}|{self.province}"
        return f"{self.province}|{self.school_year}" if self.school_year else None


@dataclass
class Built:
    """What a builder did: metadata per model it wrote, the checks it ran, a line for the load log."""

    step: str
    scope: Scope
    metadata: dict[str, dict] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)
    detail: str = ""
    committed: bool = True  # False when a gate (levels_add_up) rolled the build back


def materialize(con: duckdb.DuckDBPyConnection, model: Model, params: dict) -> None:
    """Write one model from its SQL file, as the registry says: `partition` deletes the partition's
    rows (its `partition_by` columns = the bound parameters) and inserts the file's select;
    `table` replaces the whole table with it; `script` runs the file's statements as written. A
    partition of (school year, directorate) is digested as it is written (warehouse/partition_digest.py)."""
    if model.materialized in ("partition", "table"):
        # the statements are made from registry names only (checked identifiers); values are bound
        where = " and ".join(f"{c} = ${p}" for c, p in model.partition_params.items()) or "true"
        SQL.execute(con, f"delete from {model.name} where {where}", params)
        SQL.execute(con, f"insert into {model.name} by name\n{SQL.text(model.build)}", params)
        if digested(model):  # in the same transaction as the rows (warehouse/partition_digest.py)
            record(con, model, params["year"], params["province"])
    elif model.materialized == "script":
        SQL.run(con, model.build, params)
    else:
        raise ValueError(f"{model.name} is materialized as {model.materialized}: its builder writes it")
