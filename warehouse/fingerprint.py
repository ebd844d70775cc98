"""What a partition's load depends on, as one hash, so that unchanged partitions can be skipped.

A partition's staged rows, facts and indicators depend on: its own current files; every roster of
the school year (a pupil on two rosters is flagged across directorates); the directorate's
operator files of the next year (payments are counted by the school year of their period); the
establishments referential of the directorate; and `configs/` and the code. All of them go into
the fingerprint; any change re-loads the partition.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import duckdb

PROJECT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("configs", "daam", "quality_checks", "warehouse", "assets")


@cache
def code_fingerprint() -> str:
    """Hash of configs/ and the Python and SQL sources that shape the warehouse's content."""
    h = hashlib.sha256()
    for folder in CODE_DIRS:
        for path in sorted((PROJECT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".sql", ".yaml", ".csv"):
                h.update(path.relative_to(PROJECT).as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def partition_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """(school_year, province_code) -> fingerprint of its inputs, for every placed partition."""
    rows = con.execute("""
        with placed as (
            select * from ops.landing_inventory where refusal is null and record_type <> 'schools'
        ), own as (
            select school_year, province_code,
                   md5(string_agg(file_path || '=' || content_sha256, ',' order by file_path)) as h
            from placed group by all
        ), rosters as (
            select school_year, md5(string_agg(file_path || '=' || content_sha256, ',' order by file_path)) as h
            from placed where record_type = 'students' group by all
        ), next_payments as (
            select province_code, school_year,
                   md5(string_agg(file_path || '=' || content_sha256, ',' order by file_path)) as h
            from placed where record_type = 'tayssir_payments' group by all
        ), referential as (
            select province_code,
                   md5(string_agg(school_key::varchar || coalesce(valid_to::varchar, ''), ',' order by school_key)) as h
            from core.dim_school group by all
        )
        select o.school_year, o.province_code,
               md5(concat_ws('|', o.h, coalesce(r.h, ''), coalesce(n.h, ''), coalesce(s.h, ''))) as fingerprint
        from own o
        left join rosters r using (school_year)
        left join next_payments n on n.province_code = o.province_code
             and n.school_year = (left(o.school_year, 4)::integer + 1) || '-' || (left(o.school_year, 4)::integer + 2)
        left join referential s on s.province_code = o.province_code
    """).fetchall()
    code = code_fingerprint()
    return {(y, p): hashlib.sha256(f"{f}|{code}".encode()).hexdigest() for y, p, f in rows}


def unchanged(con: duckdb.DuckDBPyConnection, fingerprints: dict[tuple[str, str], str]) -> set[tuple[str, str]]:
    """Partitions whose last successful load had exactly these inputs."""
    done = con.execute("select school_year, province_code, input_fingerprint from ops.partition_load").fetchall()
    return {(y, p) for y, p, f in done if fingerprints.get((y, p)) == f}


def record_loaded(con: duckdb.DuckDBPyConnection, school_year: str, province: str, fingerprint: str,
                  run_id: str) -> None:
    con.execute("""
        insert or replace into ops.partition_load values ($y, $p, $f, $r, now())
    """, {"y": school_year, "p": province, "f": fingerprint, "r": run_id})
