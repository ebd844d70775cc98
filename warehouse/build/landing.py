"""The landing inventory, the establishments referential and the conformed dimensions.

Order matters and is what `ops/landing_inventory` runs: scan the landing root, load the
referential snapshots (raw → staging → `core.dim_school`, SCD type 2), then place every school
file in its (school year, directorate) partition through the referential. A file whose school is
unknown is rejected; it is re-examined on the next scan, so a late referential entry lets it in.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from daam.config import Settings
from daam.landing.inventory import scan
from warehouse.raw_load import REEXAMINED_REFUSAL as UNKNOWN_SCHOOL
from warehouse.raw_load import RawLoadSummary, load_files
from warehouse.schema import sql_text
from warehouse.stage import (
    current_raw,
    evaluate,
    issue_records,
    merge_issues,
    update_manifest_counts,
    write_staging,
)

INVENTORY_COLUMNS = ["file_path", "record_type", "school_year", "period", "school_code", "province_code",
                     "size_bytes", "content_sha256", "refusal", "modified_at"]


def load_conformed_dimensions(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """dim_geography, dim_level, dim_date, dim_programme and the school calendar from `configs/`
    (replaced whole)."""
    geo = pd.DataFrame([
        {"province_code": p.code, "province_name_fr": p.name_fr, "province_name_ar": p.name_ar,
         "region_code": p.region_code, "region_name_fr": settings.regions[p.region_code].name_fr,
         "region_name_ar": settings.regions[p.region_code].name_ar, "country_code": "MA"}
        for p in settings.provinces.values()])
    levels = pd.DataFrame([{"level_code": lv.code, "cycle": lv.cycle, "rank": lv.rank, "nominal_age": lv.nominal_age,
                            "label_fr": lv.label_fr, "label_ar": lv.label_ar} for lv in settings.levels.values()])
    calendar = pd.DataFrame([{"school_year": y, "month": m, "school_days": settings.school_days(y, int(m[5:]))}
                             for y in settings.school_years for m in settings.months_of(y)])
    con.register("calendar_frame", calendar)
    con.execute("delete from core.school_calendar; insert into core.school_calendar by name select * from calendar_frame")
    con.unregister("calendar_frame")
    years = pd.DataFrame({"school_year": settings.school_years})
    for table, frame in (("dim_geography", geo), ("dim_level", levels)):
        con.register("dim_frame", frame)
        con.execute(f"delete from core.{table}; insert into core.{table} by name select * from dim_frame")
        con.unregister("dim_frame")
    rules = pd.DataFrame(programme_rule_rows(settings),
                         columns=["school_year", "programme", "rule", "rule_key", "value_num", "value_text"])
    con.register("rules_frame", rules)
    con.execute("delete from core.programme_rule; insert into core.programme_rule by name select * from rules_frame")
    con.unregister("rules_frame")
    con.register("years", years)
    con.execute(sql_text("core/dim_date.sql"))
    con.unregister("years")
    con.execute("""
        delete from core.dim_programme;
        insert into core.dim_programme values
          ('tayssir', 'Tayssir (transferts monétaires conditionnels)', 'تيسير'),
          ('schoolbags', 'Initiative royale « un million de cartables »', 'المبادرة الملكية مليون محفظة'),
          ('boarding', 'Bourses d''internat et de demi-pension', 'منح الداخليات'),
          ('canteen', 'Cantines scolaires (complément alimentaire)', 'المطاعم المدرسية')
    """)


def programme_rule_rows(settings: Settings) -> list[tuple]:
    """configs/programme_rules.yaml flattened: (year, programme, rule, key, number, text) rows.
    A mapping gives one row per key (nested mappings join their keys with `|`); a list gives one
    row per item, the item as the value."""
    rows = []

    def emit(year, programme, rule, rule_key, value):
        if isinstance(value, dict):
            for k, v in value.items():
                emit(year, programme, rule, f"{rule_key}|{k}" if rule_key else str(k), v)
        elif isinstance(value, list):
            for item in value:
                emit(year, programme, rule, rule_key, item)
        else:
            number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            rows.append((year, programme, rule, rule_key, number, None if number is not None else str(value)))

    for year in settings.school_years:
        for programme, block in settings.programme_rules(year).items():
            for rule, value in block.items():
                emit(year, programme, rule, None, value)
    return rows


def load_referential(con: duckdb.DuckDBPyConnection, root: Path, entries: pd.DataFrame, settings: Settings,
                     load_id: str) -> RawLoadSummary:
    """Referential snapshots → raw, staging (whole table), `core.dim_school` (SCD type 2)."""
    summary = load_files(con, root, entries[entries["record_type"] == "schools"], settings, load_id)
    raw = current_raw(con, "schools", "true", {})
    prepared, issues, _ = evaluate(con, "schools", raw, settings, None, None)
    con.execute("delete from staging.schools")
    write_staging(con, "schools", prepared, settings)
    merge_issues(con, issue_records(prepared, issues, "schools"), "i.record_type = 'schools'", {})
    update_manifest_counts(con, "schools", "true", {})
    con.execute(sql_text("core/dim_school.sql"))
    return summary


def place_files(con: duckdb.DuckDBPyConnection, entries: pd.DataFrame) -> pd.DataFrame:
    """Give each school file its directorate through the referential; unknown schools are refused."""
    con.register("entries", entries)
    try:
        placed = con.execute(f"""
            select e.* replace (
                coalesce(e.province_code, s.province_code) as province_code,
                case when e.refusal is not null then e.refusal
                     when e.school_code is not null and s.school_code is null then
                       '{UNKNOWN_SCHOOL} ' || e.school_code || ': it is not in the establishments referential '
                       || '(check the file name, or send the school''s referential entry first)'
                end as refusal)
            from entries e
            left join (select school_code, province_code from core.dim_school where is_current) s
              using (school_code)
            order by e.file_path
        """).df()
    finally:
        con.unregister("entries")
    return placed


def scan_landing(con: duckdb.DuckDBPyConnection, root: Path, settings: Settings, load_id: str) -> dict:
    """Scan, load the referential, place every file, record the inventory and file-level refusals."""
    entries = pd.DataFrame([asdict(e) for e in scan(root, settings)], columns=[*INVENTORY_COLUMNS, "instalment"])
    entries = entries.drop(columns=["instalment"]).astype({"size_bytes": "Int64"})
    load_conformed_dimensions(con, settings)
    ref = load_referential(con, root, entries, settings, load_id)
    placed = place_files(con, entries[entries["record_type"] != "schools"].reset_index(drop=True))
    con.execute("delete from ops.landing_inventory")
    inventory = pd.concat([entries[entries["record_type"] == "schools"], placed], ignore_index=True)
    inventory["scanned_at"] = datetime.now()
    con.register("inventory", inventory)
    con.execute("insert into ops.landing_inventory by name select * from inventory")
    con.unregister("inventory")
    # Versions recorded before arrival times were kept get the time of the bytes still in place.
    con.execute("""
        update ops.file_manifest m set received_at = i.modified_at
        from ops.landing_inventory i
        where m.received_at is null and i.modified_at is not null
          and m.file_path = i.file_path and m.content_sha256 = i.content_sha256
    """)
    refused = load_files(con, root, placed[placed["refusal"].notna()], settings, load_id)
    return {"files_found": len(entries), "referential_files_new": ref.files_new,
            "files_refused_new": refused.files_new,
            "files_refused": int(inventory["refusal"].notna().sum())}


def partitions_in_inventory(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(school year, directorate) pairs that have at least one placeable file."""
    return [tuple(r) for r in con.execute("""
        select distinct school_year, province_code from ops.landing_inventory
        where refusal is null and record_type <> 'schools' order by 1, 2
    """).fetchall()]
