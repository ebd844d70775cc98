"""The DuckDB warehouse of daam: DDL, SQL transforms, loaders and checks (no Dagster here)."""
