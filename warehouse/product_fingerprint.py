"""The input fingerprint of a level product (warehouse/products.py): what the product would hold,
as one SHA-256, so that a product whose rows have not changed is kept instead of rewritten.

For each model of the product, in registry order: its columns and types, its row count and the
sum of its rows' hashes (order-free; a duplicated row counts twice); then the product's kind,
code, names and suppression threshold. `fingerprint` assembles it from those parts.

A region or national product reads its models' rows one query each (`products._fingerprint`).
The 82 directorate products are fingerprinted together, one query per model grouped by
directorate (`province_fingerprints`): the rows of a model that belong to each directorate's
product are its `province_code`, its school's directorate, its pupil's or guardian's
directorates, as the product's scope (`products._select`) keeps them. Measured on a nation
warehouse with nothing to rewrite: 82 products one query per model each took 31 s of every
publish; grouped, the same fingerprints take 15 s, 7 of them hashing the view core.pupil_listing
(which keys the roster with the HMAC). `tests/reports/test_products_reuse.py` proves both ways give
every directorate the same fingerprint, model by model.

A view of FROM_INPUTS is fingerprinted from what it is made of, not from its rows (`from_inputs`):
its definition in the warehouse, the secret (the keys it computes), and, within the directorate,
the parts of the models it reads that the product holds anyway and a digest of the whole rows of
the others. core.pupil_listing repeats every attendance row and keys every roster row with the
HMAC: hashing its rows took 8 of the 23 s of fingerprinting the 82 directorates of a nation (a
republish after one corrected file); from its inputs, 1.4 s.

The facts and marts partitioned by (school year, directorate) are not hashed here at all: their sums
per directorate are added up from the digests taken as each partition was written
(warehouse/partition_digest.py), the same numbers, whenever those digests account for the table.
With both, the 82 directorates of a nation are fingerprinted in about 5 s (was 23 s; 9.5 s with
core.pupil_listing from its inputs alone).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import NamedTuple

import duckdb

from warehouse.partition_digest import digested, stored
from warehouse.registry import Model, registry

# A province-product model's rows -> the directorates whose product holds them: (a relation of
# (key..., code) pairs, the join condition with the model's row `t`). The directorates asked for
# are the table `codes(code)`; every relation is restricted to them.
_SCHOOLS = "select distinct school_code, province_code as code from core.dim_school"
MEMBERS = {
    "core.dim_pupil": ("select distinct pupil_key, province_code as code from core.pupil_identity",
                       "m.pupil_key = t.pupil_key"),
    "mart.pupil_in_two_schools": ("select code from codes", "list_contains(t.province_codes, m.code)"),
    "mart.household": ("select distinct guardian_key, province_code as code from mart.household_member",
                       "m.guardian_key = t.guardian_key"),
    "ops.duplicate_candidate": ("select code from codes", "m.code in (t.province_code_a, t.province_code_b)"),
}
# Views whose rows of a directorate are made only from the rows of that directorate (`province_code`)
# of the models the registry lists as their deps: fingerprinted by `from_inputs`.
FROM_INPUTS = {"core.pupil_listing"}
_GEO = ((f"select 'school' as geo_level, school_code as geo_code, code from ({_SCHOOLS}) "
         "union all select 'province', code, code from codes"),
        "m.geo_level = t.geo_level and m.geo_code = t.geo_code")
_BY_SCHOOL = (_SCHOOLS, "m.school_code = t.school_code")


class Inputs(NamedTuple):
    """What a product would hold: its fingerprint, its rows per model, and each model's own
    fingerprint (`tables`, the SHA-256 of its part), which says which tables a rewrite can keep."""

    fingerprint: str
    rows: dict[str, int]
    tables: dict[str, str]


def inputs(kind: str, code: str, names: tuple[str, str], k: int | None, parts: dict[str, str],
           rows: dict[str, int]) -> Inputs:
    """The product's Inputs from its models' parts (in registry order)."""
    return Inputs(fingerprint(kind, code, names, k, list(parts.values())), rows,
                  {name: hashlib.sha256(part.encode()).hexdigest() for name, part in parts.items()})


def model_part(name: str, described: list[tuple], rows: int, digest) -> str:
    """One model's line of a fingerprint (`described`: DuckDB's `describe` rows of its query)."""
    return f"{name}|{[(c[0], c[1]) for c in described]}|{rows}|{digest}"


def fingerprint(kind: str, code: str, names: tuple[str, str], k: int | None, parts: list[str]) -> str:
    return hashlib.sha256("\n".join([f"{kind}|{code}|{names}|{k}", *parts]).encode()).hexdigest()


def province_fingerprints(con: duckdb.DuckDBPyConnection, codes: list[str], models: list[Model],
                          sources: Mapping[str, str], columns: Mapping[str, list[str]],
                          names: Mapping[str, tuple[str, str]], scoped_columns: set[str],
                          ) -> dict[str, Inputs]:
    """directorate code -> Inputs of its province product, for every code of `codes`, one query per
    model of `models` (`sources`: the relation each model is read from during the build). The same
    value as `products._fingerprint` of each product alone."""
    con.execute("create or replace temp table codes as select unnest($c::varchar[]) as code", {"c": codes})
    parts: dict[str, dict[str, str]] = {code: {} for code in codes}
    counts: dict[str, dict[str, int]] = {code: {} for code in codes}
    for model in sorted(models, key=lambda m: m.name in FROM_INPUTS):  # their inputs' parts first
        source = sources[model.name]
        described = con.execute(f"describe select * from {source}").fetchall()
        if model.name in FROM_INPUTS:
            by_code = from_inputs(con, model, codes, source, parts)
        elif digested(model) and source == model.name and (kept := stored(con, model, codes, described)) is not None:
            by_code = kept  # the same sums, added up from the partitions' digests
        else:
            by_code = {code: (rows, digest) for code, rows, digest in con.execute(
                _grouped(model, source, set(columns[model.name]), scoped_columns)).fetchall()}
        for code in codes:
            rows, digest = by_code.get(code, by_code.get(None, (0, None)))
            parts[code][model.name] = model_part(model.name, described, rows, digest)
            counts[code][model.name] = rows
    return {code: inputs("province", code, names[code], None, {m.name: parts[code][m.name] for m in models},
                         counts[code]) for code in codes}


def from_inputs(con: duckdb.DuckDBPyConnection, model: Model, codes: list[str], source: str,
                parts: Mapping[str, Mapping[str, str]]) -> dict[str, tuple[int, str]]:
    """directorate code -> (rows, digest) of the view `model` (one of FROM_INPUTS, read from
    `source`) for each of `codes`: its row count, and a digest of its definition, the secret, and
    its deps' rows of that directorate: their `parts` (code -> model -> part) where the product
    holds them, else the count and sum of hashes of their whole rows (added up from the partition
    digests when they account for the table, as they do for the staged rows)."""
    in_codes = "province_code in (select unnest($codes::varchar[]))"
    rows = dict(con.execute(f"select province_code, count(*) from {source} where {in_codes} group by all",
                            {"codes": codes}).fetchall())
    schema, name = model.name.split(".")
    made_of = [con.execute("select sql from duckdb_views() where database_name = current_database() "
                           "and schema_name = $s and view_name = $n", {"s": schema, "n": name}).fetchone()[0],
               con.execute("select core.hmac_hex('daam-product-fingerprint')").fetchone()[0]]
    deps: dict[str, list[str]] = {code: [] for code in codes}
    for dep in model.deps:
        if all(dep in parts.get(code, {}) for code in codes):
            for code in codes:
                deps[code].append(parts[code][dep])
            continue
        whole = stored(con, registry()[dep], codes)  # the staged rows are digested as they are written
        if whole is None:
            whole = {code: (n, digest) for code, n, digest in con.execute(
                f"select t.province_code, count(*), sum(hash(t)::hugeint) from (select * from {dep}) t "
                f"where t.{in_codes} group by all", {"codes": codes}).fetchall()}
        for code in codes:
            deps[code].append(f"{dep}|{whole.get(code, (0, None))}")
    return {code: (rows.get(code, 0), hashlib.sha256("\n".join([*made_of, *deps[code]]).encode()).hexdigest())
            for code in codes}


def _grouped(model: Model, source: str, cols: set[str], scoped_columns: set[str]) -> str:
    """(code, rows, sum of row hashes) of `model` for each directorate of `codes`; one row with a
    null code for reference data, which every product holds whole."""
    aggregate = "count(*), sum(hash(t)::hugeint)"
    if model.name in MEMBERS:
        members, on = MEMBERS[model.name]
    elif {"geo_level", "geo_code"} <= cols:
        members, on = _GEO
    elif "province_code" in cols:
        return (f"select t.province_code, {aggregate} from (select * from {source}) t "
                "where t.province_code in (select code from codes) group by all")
    elif "school_code" in cols:
        members, on = _BY_SCHOOL
    elif cols & scoped_columns:
        raise ValueError(f"{model.name}: no rule for which directorate's product holds its rows "
                         "(add it to warehouse.product_fingerprint.MEMBERS as to products.SCOPES)")
    else:
        return f"select null::varchar, {aggregate} from (select * from {source}) t"
    return (f"select m.code, {aggregate} from (select * from {source}) t "
            f"join (select * from ({members}) where code in (select code from codes)) m on {on} group by all")
