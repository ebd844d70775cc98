"""Partitions. The load: school year × provincial directorate (7 × 82 = 574). The monthly Tayssir
cycle: school month × directorate (about 80 months × 82). Never a partition per school (12,300
schools × months would freeze the UI and the scheduler)."""

from __future__ import annotations

from dagster import (
    MonthlyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
)

from daam.config import load_settings
from warehouse.build import Scope

_settings = load_settings()

school_year_partitions = StaticPartitionsDefinition(_settings.school_years)
province_partitions = StaticPartitionsDefinition(sorted(_settings.provinces))
year_province_partitions = MultiPartitionsDefinition(
    {"school_year": school_year_partitions, "province": province_partitions}
)


# Calendar months from the first configured school year's September to the last one's June (July
# and August are partitions too, with nothing to do: a time window has no holes).
school_month_partitions = MonthlyPartitionsDefinition(
    start_date=f"{_settings.school_years[0][:4]}-09", end_date=f"{_settings.school_years[-1][5:]}-07", fmt="%Y-%m")
month_province_partitions = MultiPartitionsDefinition(
    {"month": school_month_partitions, "province": province_partitions}
)


def month_partition_key(month: str, province_code: str) -> MultiPartitionKey:
    return MultiPartitionKey({"month": month, "province": province_code})


def split_month_key(key) -> tuple[str, str]:
    """(month YYYY-MM, province_code) of a month × directorate key."""
    dims = key.keys_by_dimension
    return dims["month"], dims["province"]


def partition_key(school_year: str, province_code: str) -> MultiPartitionKey:
    return MultiPartitionKey({"school_year": school_year, "province": province_code})


def split_key(key) -> tuple[str, str]:
    """(school_year, province_code) of a multi-partition key."""
    dims = key.keys_by_dimension
    return dims["school_year"], dims["province"]


def scope(key) -> Scope:
    """The builders' scope of a partition key (school year × directorate, or month × directorate)."""
    dims = key.keys_by_dimension
    return Scope(school_year=dims.get("school_year"), province=dims["province"], month=dims.get("month"))
