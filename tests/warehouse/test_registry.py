"""The model registry: consistent, complete, the one source of the DDL, the docs and the builders."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from daam.config import RECORD_TYPES
from warehouse import registry as reg_module
from warehouse.registry import (
    README,
    Registry,
    RegistryError,
    readme_block,
    readme_tables,
    registry,
    validate,
)
from warehouse.schema import ensure_schema
from warehouse.seeds import SEEDS

ROOT = Path(__file__).resolve().parents[2]


def test_readme_tables_are_the_registry():
    text = (ROOT / README).read_text(encoding="utf-8")
    assert readme_block(text) == readme_tables(), "run `python -m warehouse.registry` to rewrite them"


def test_every_table_and_view_of_the_warehouse_is_in_the_registry():
    con = duckdb.connect()
    ensure_schema(con)
    found = {f"{s}.{t}" for s, t in con.execute("""
        select table_schema, table_name from information_schema.tables
        where table_schema in ('raw', 'staging', 'core', 'mart', 'ops')""").fetchall()}
    assert found == set(registry().models)
    for rt in RECORD_TYPES:
        assert f"raw.{rt}" in found and f"staging.{rt}" in found


def test_a_key_index_an_older_daam_made_is_dropped_and_the_rows_kept(tmp_path):
    """core.dim_pupil had a primary key index; a warehouse made then loses it, keeps its pupils."""
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_schema(con)
        con.execute("drop table core.dim_pupil")
        con.execute("create table core.dim_pupil (pupil_key bigint, gender varchar, birth_year integer, "
                    "last_school_year varchar, primary key (pupil_key))")
        con.execute("insert into core.dim_pupil values (1, 'F', 2012, '2022-2023'), (2, 'M', 2013, '2021-2022')")
        con.execute("update ops.schema_version set fingerprint = 'an older daam'")
    with duckdb.connect(str(db)) as con:
        ensure_schema(con)
        assert con.execute("select count(*) from duckdb_constraints() where table_name = 'dim_pupil' "
                           "and constraint_type = 'PRIMARY KEY'").fetchone()[0] == 0
        assert con.execute("select * from core.dim_pupil order by pupil_key").fetchall() == [
            (1, "F", 2012, "2022-2023"), (2, "M", 2013, "2021-2022")]
        assert con.execute("select count(*) from duckdb_tables() where table_name like '%with_key_index'"
                           ).fetchone()[0] == 0
        con.execute("insert into core.dim_pupil values (1, 'F', 2012, '2023-2024')")  # no index refuses it now
        # the other primary keys keep their index
        assert con.execute("select count(*) from duckdb_constraints() where table_name = 'dim_school' "
                           "and constraint_type = 'PRIMARY KEY'").fetchone()[0] == 1


def test_seeds_builders_and_checks_are_all_known():
    reg = registry()
    assert {m.name for m in reg.models.values() if m.materialized == "seed"} == set(SEEDS)
    used = {u.name for m in reg.models.values() for u in m.checks}
    assert used == set(reg.checks)  # every declared check guards some model
    grains = [m.grain for m in reg.models.values()]
    assert all(g.startswith("One row per ") and g.endswith(".") for g in grains)


def test_every_sql_file_is_used():
    """A .sql file is named by the registry (build, check query) or by the code that runs it."""
    reg = registry()
    named = {m.build for m in reg.models.values() if m.build} | {u.sql for m in reg.models.values()
                                                                 for u in m.checks if u.sql}
    code = "\n".join(p.read_text(encoding="utf-8") for p in ROOT.glob("*/**/*.py") if ".venv" not in p.parts)
    for path in (ROOT / "warehouse" / "sql").rglob("*.sql"):
        rel = path.relative_to(ROOT / "warehouse" / "sql").as_posix()
        assert rel in named or f'"{rel}"' in code, f"warehouse/sql/{rel} is used by nothing"
    for path in (ROOT / "quality_checks" / "sql").glob("*.sql"):
        assert f'"{path.name}"' in code, f"quality_checks/sql/{path.name} is used by nothing"


def test_validation_names_what_is_wrong():
    reg = registry()
    fact = reg["core.fct_enrolment"]
    broken = {**reg.models, fact.name: dataclasses.replace(fact, deps=(*fact.deps, "core.fct_nothing"))}
    with pytest.raises(RegistryError, match="core.fct_enrolment.*unknown model 'core.fct_nothing'"):
        validate(Registry(broken, reg.checks), reg_module.sql_dir())
    broken = {**reg.models, fact.name: dataclasses.replace(fact, audience=("everybody",))}
    with pytest.raises(RegistryError, match="unknown audience everybody"):
        validate(Registry(broken, reg.checks), reg_module.sql_dir())
    broken = {**reg.models, fact.name: dataclasses.replace(fact, grain="pupils")}
    with pytest.raises(RegistryError, match="One row per"):
        validate(Registry(broken, reg.checks), reg_module.sql_dir())


def test_builders_write_in_dependency_order():
    order = [m.name for m in registry().built_by("core")]
    assert order.index("core.fct_enrolment") < order.index("core.fct_tayssir_month")
    assert order.index("core.fct_attendance") < order.index("core.fct_tayssir_month")
    assert order.index("core.fct_enrolment") < order.index("core.fct_tayssir_payment")
    mart = [m.name for m in registry().built_by("mart")]
    assert mart.index("mart.tayssir_reconciliation") < mart.index("mart.indicators")


def test_personal_data_stays_private_or_in_the_province_product():
    """Tables holding names, Massar codes, CINs or birth dates are never given to a region or the centre."""
    personal = {"massar_code", "last_name_ar", "first_name_ar", "birth_date", "guardian_cin", "pupil_key",
                "guardian_key", "raw_value", "extra"}
    for model in registry().models.values():
        if {c.name for c in model.columns} & personal:
            assert not set(model.audience) & {"region", "national"}, model.name
