"""Dagster assets of daam, one module per warehouse layer: raw, staging, core, mart (+ the
landing inventory and referential that place every file in its partition)."""
