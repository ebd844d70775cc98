"""Asset keys name storage: `<schema>/<table>`, the prefix equal to the DuckDB schema."""

from __future__ import annotations

from dagster import AssetKey


def key(path: str) -> AssetKey:
    """`"core/dim_school"` → AssetKey(["core", "dim_school"])."""
    return AssetKey(path.split("/"))
