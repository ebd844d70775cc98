"""Dagster specs and results made from the model registry (warehouse/registry.py).

Asset keys name storage: `<schema>/<table>`, the prefix equal to the DuckDB schema, which is also
the asset's group. Each model a builder writes is an asset of that builder's multi-asset; its
description is the registry's, its deps the models it reads (through the views, which are created
with the schema and are not assets), its checks the registry's. Which job runs an asset is a tag
(`daam/job`), so the jobs select by tag rather than by listing assets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetSpec,
    MaterializeResult,
)

from warehouse.build import Built
from warehouse.registry import Model, registry

JOB_TAG = "daam/job"
# Runs of these jobs write the warehouse (job tag): a snapshot is never taken while one runs.
WRITES_TAG = "daam/writes_warehouse"


def key(path: str) -> AssetKey:
    """`"core/dim_school"` or `"core.dim_school"` → AssetKey(["core", "dim_school"])."""
    return AssetKey(path.replace(".", "/").split("/"))


def asset_deps(model: Model) -> list[AssetKey]:
    """The assets a model reads: its deps, a view replaced by what it reads, tables no single
    builder owns (ops.file_manifest...) left out."""
    reg = registry()
    out: list[str] = []

    def add(name: str) -> None:
        dep = reg[name]
        if dep.is_view:
            for inner in dep.deps:
                add(inner)
        elif dep.built_by != "none" and name != model.name and name not in out:
            out.append(name)

    for name in model.deps:
        add(name)
    return [key(n) for n in out]


def assets_of(builder: str) -> list[Model]:
    """The models a builder writes that are assets (tables, not views)."""
    return [m for m in registry().built_by(builder) if not m.is_view]


def specs(builder: str, job: str, kinds: Iterable[str] = ("duckdb",)) -> list[AssetSpec]:
    return [AssetSpec(key(m.name), deps=asset_deps(m), group_name=m.schema, kinds=set(kinds),
                      description=m.description, tags={JOB_TAG: job}) for m in assets_of(builder)]


def check_specs(builder: str) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(use.name, asset=key(m.name), blocking=use.check.blocking,
                           description=use.check.description.replace("<record type>", m.record_type or "")
                           if m.record_type else use.check.description)
            for m in assets_of(builder) for use in m.checks]


def results(built: Built, builder: str) -> Iterator[MaterializeResult | AssetCheckResult]:
    """A builder's outcome as Dagster results: every asset it writes, every check it ran."""
    for model in assets_of(builder):
        yield MaterializeResult(asset_key=key(model.name), metadata=built.metadata.get(model.name, {}))
    for check in built.checks:
        yield AssetCheckResult(asset_key=key(check.model), check_name=check.name, passed=check.passed,
                               severity=AssetCheckSeverity.ERROR if check.blocking else AssetCheckSeverity.WARN,
                               metadata=check.outcome.metadata)
