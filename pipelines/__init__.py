"""Dagster side of daam: definitions, resources, partitions, jobs and the command line."""
