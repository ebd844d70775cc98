"""Partitions: school year × provincial directorate. Never a partition per school: 82
directorates × a few years stays small enough for the UI and the scheduler."""

from __future__ import annotations

from dagster import MultiPartitionKey, MultiPartitionsDefinition, StaticPartitionsDefinition

from daam.config import load_settings

_settings = load_settings()

school_year_partitions = StaticPartitionsDefinition(_settings.school_years)
province_partitions = StaticPartitionsDefinition(sorted(_settings.provinces))
year_province_partitions = MultiPartitionsDefinition(
    {"school_year": school_year_partitions, "province": province_partitions}
)


def partition_key(school_year: str, province_code: str) -> MultiPartitionKey:
    return MultiPartitionKey({"school_year": school_year, "province": province_code})


def split_key(key) -> tuple[str, str]:
    """(school_year, province_code) of a multi-partition key."""
    dims = key.keys_by_dimension
    return dims["school_year"], dims["province"]
