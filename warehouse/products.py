"""The level products: one DuckDB file per directorate, per region and for the nation
(contract levels.md, section 2), each holding what its level may see and nothing more.

| product | path, under the warehouse's folder | holds |
|---|---|---|
| province | `published/province/<province_code>.duckdb` | the models whose registry audience names `province`, rows of that directorate only, personal data included |
| region | `published/region/<region_code>.duckdb` | the models whose audience names `region`, rows of its directorates and schools, suppressed |
| national | `published/national.duckdb` | the models whose audience names `national`, suppressed |

Which tables: the model registry's `audience` (warehouse/sql/*/models.yml), so a new table is
private (engineers only) until its entry names a product. Which rows: a model with
`geo_level`/`geo_code` keeps the units of the product's scope (a directorate: its schools and
itself; a region: its schools, directorates and itself; the nation: all); otherwise a model with
`province_code` keeps its directorates' rows, with `school_code` its schools'. A few pupil-level
models of the province product have their own scope (`SCOPES`). A model with none of these
columns and no key column is reference data (levels, calendar, rules) and is copied whole; any
other is refused, so that nothing is copied whole by mistake.

Values (levels.md section 4, warehouse/approval.py): the region and national products publish, for
a unit (directorate, school year, period) its directorate approved, the signed values, and for an
open unit the live ones; `approval_state` says which (`approved`, `accepted`, `provisional`), and a
region's or the nation's value is the sum of its directorates' published values, provisional
unless all of them are signed. The province product is the directorate's own live data, with its
signatures and their drift (`mart.approval_status`, `ops.approval_drift`).

Suppression (levels.md section 3, warehouse/suppression.py) is computed once, on the national
values to publish at every level, and the same pattern is applied to every region
and national product: publishing one region's cells under another pattern than the nation's would
let a reader difference the two. Suppressed values are published as `value` null, `suppressed`
true, `flag` 'c'. Outlier values and scores follow the count their metric is computed from
(`outlier_bases`). Files, schools, rows with issues and quality scores are not pupil counts and are
not suppressed.

A product whose rows would be exactly those of the file in place (its input fingerprint: each
table's columns, row count and sum of row hashes, recorded in `ops.product`) is not rewritten, only
touched: a rerun with nothing new, or a load that changed one directorate, rewrites only the
products whose rows changed, and of those only the tables whose own fingerprint changed (the rest
are carried over in a copy of the file in place; warehouse/product_fingerprint.py). Each product is written to a temporary file next to its final name and
renamed onto it once complete (a reader opens the old file or the new one, never half of one), then made read-only:
mode 0444 cut by the process umask (never more readable than the umask allows). Views become
tables: a product is self-contained and its reader needs no secret and no other file. Products are
written WRITERS at a time, on cursors of one in-memory database that holds what they share (the
suppressed values, the views computed once).
"""

from __future__ import annotations

import os
import queue
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import duckdb

from daam.config import load_settings
from daam.sqlfiles import quote_text
from warehouse.db import memory_limit
from warehouse.disclosure_audit import SolvedComponents
from warehouse.product_fingerprint import (
    FROM_INPUTS,
    Inputs,
    from_inputs,
    inputs,
    model_part,
    province_fingerprints,
)
from warehouse.product_manifest import Manifest, remember
from warehouse.pseudonyms import bind_secret
from warehouse.publish import swap_in, temporary_beside
from warehouse.registry import Model, registry
from warehouse.schema import SQL
from warehouse.suppression import load_rules
from warehouse.suppression import run as run_suppression

KINDS = ("province", "region", "national")
FOLDER = "published"
WRITERS = 2  # products written at a time (_write_all)
SHARED = "memory.main"  # the build's own tables, read by every writer: the in-memory database's

# Province-product models at the pupil grain whose rows carry no directorate column of their own.
# Each keeps the rows of the product's directorate's pupils, pairs and families ({provinces}: the
# literal list of the product's directorate codes, ScopeLists.provinces).
SCOPES = {
    "core.dim_pupil": "pupil_key in (select pupil_key from core.pupil_identity where province_code in {provinces})",
    "mart.pupil_in_two_schools": "list_has_any(province_codes, (select list(code) from scope_province))",
    "mart.household": "guardian_key in (select guardian_key from mart.household_member "
                      "where province_code in {provinces})",
    "ops.duplicate_candidate": "province_code_a in {provinces} or province_code_b in {provinces}",
}
# Views that every product reads and whose rows do not depend on the product: computed once per
# build into a table every writer reads (`_once`, in SHARED), not once per product. Their filters cannot reach below
# their aggregations, so each of the 95 products of the nation would compute them whole again
# (measured on a nation warehouse: 0.9 s of a directorate product's 4.5 s; ops.row_issue_count and
# core.geo_unit: 0.2 of a region product's 0.5 s of fingerprinting).
ONCE = ("mart.approval_status", "mart.quality_score", "mart.submission_month", "core.school_year_version",
        "core.geo_ancestor", "core.geo_unit", "ops.row_issue_count")
# Columns whose presence makes a model more than reference data (it must then be scoped).
SCOPED_COLUMNS = {"province_code", "school_code", "geo_code", "region_code", "pupil_key", "guardian_key",
                  "pupil_key_a", "commune_code"}


class ProductError(ValueError):
    """A product can not be built as asked (an unknown code); the message says which."""


@dataclass
class Product:
    kind: str
    code: str
    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    fingerprint: str = ""
    reused: bool = False  # the file in place already held exactly these rows: not rewritten
    kept: int = 0  # tables carried over unchanged from the file in place, when it was rewritten
    made_from: dict = field(default_factory=dict, repr=False)  # what the file holds now (product_manifest)

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0


@dataclass
class ProductsReport:
    products: list[Product] = field(default_factory=list)
    suppression: dict = field(default_factory=dict)
    seconds: float = 0.0

    def by_kind(self, kind: str) -> list[Product]:
        return [p for p in self.products if p.kind == kind]


def products_dir(warehouse: str | Path) -> Path:
    return Path(warehouse).resolve().parent / FOLDER


def product_path(warehouse: str | Path, kind: str, code: str | None = None) -> Path:
    """Where the product of `kind` (and `code`, for a directorate or a region) is published."""
    if kind == "national":
        return products_dir(warehouse) / "national.duckdb"
    if kind not in KINDS or not code:
        raise ProductError(f"a {kind} product needs a code")
    return products_dir(warehouse) / kind / f"{code}.duckdb"


def build_products(warehouse: str | Path, provinces: list[str] | None = None,
                   kinds: tuple[str, ...] = KINDS, report: ProductsReport | None = None) -> ProductsReport:
    """Build the products of `kinds` from the working `warehouse` (run when no load is writing it).

    By default: a province product per directorate with schools in the warehouse's referential, a
    region product per region of those, and the national product. `provinces` names directorates
    explicitly (a known directorate without data gets an empty but valid product; an unknown code
    is a ProductError) and their regions.

    The directorates' products are written and recorded first, then the suppression is computed
    and the region and national products written: a failure of the suppression leaves the
    directorates' own data published. `report`, when given, is filled as the build goes, so that a
    caller catching a failure knows what was written."""
    started = time.perf_counter()
    settings = load_settings()
    if provinces is not None:
        unknown = sorted(set(provinces) - set(settings.provinces))
        if unknown:
            raise ProductError(f"unknown directorate code(s) {', '.join(unknown)}: not in "
                               "configs/reference/provinces.csv")
    report = report if report is not None else ProductsReport()
    con = _connect(warehouse)
    try:
        if provinces is None:
            provinces = sorted(r[0] for r in con.execute(
                "select distinct province_code from core.dim_school where province_code is not null").fetchall()
                if r[0] in settings.provinces)
        regions = sorted({settings.provinces[p].region_code for p in provinces})
        columns = _share_once(con)
        folder = products_dir(warehouse)
        manifest = Manifest(folder)
        if "province" in kinds:
            known = _province_fingerprints(con, provinces, settings, columns)
            _write_recorded(report, con, [("province", p) for p in provinces], warehouse, settings, None, columns,
                            known, manifest)
        # the national product first: the longest to fingerprint, it would otherwise end the build alone
        upper = [(kind, code) for kind, code in [("national", None)] + [("region", r) for r in regions]
                 if kind in kinds]
        if upper:
            report.suppression = _suppressed_tables(con, warehouse)
            for name in ("published_indicators", "published_outlier"):
                con.execute(f"create table {SHARED}.{name} as from {name}")
            _write_recorded(report, con, upper, warehouse, settings, report.suppression.get("k"), columns, {},
                            manifest)
    finally:
        con.close()
        report.seconds = round(time.perf_counter() - started, 2)
    return report


def _write_recorded(report: ProductsReport, con: duckdb.DuckDBPyConnection, units: list[tuple[str, str | None]],
                    warehouse: str | Path, settings, k: int | None, columns: dict[str, list[str]],
                    known: dict[str, Inputs], manifest: Manifest) -> None:
    """Write `units` (`_write_all`), add them to `report` and record what they were made from."""
    written = _write_all(con, units, warehouse, settings, k, columns, known, manifest)
    report.products = sorted(report.products + written, key=lambda p: (KINDS.index(p.kind), p.code))
    remember(manifest.folder, {p.path: p.made_from for p in written if p.made_from})


def _connect(warehouse: str | Path) -> duckdb.DuckDBPyConnection:
    """The build's connection: an in-memory database that attaches the warehouse read-only (the
    products are attached next to it read-write: a connection opened read-only could attach
    nothing writable). Bounded like the warehouse's own connections, and spilling next to the
    warehouse (its own folder: DuckDB removes a spill folder it made when it closes), not in the
    working folder's .tmp an in-memory database would use."""
    con = duckdb.connect(config={"memory_limit": memory_limit(),
                                 "temp_directory": f"{Path(warehouse).resolve()}.products.tmp"})
    try:
        con.execute(f"attach '{Path(warehouse).resolve()}' as warehouse (read_only)")
        con.execute("use warehouse")
        bind_secret(con)  # views such as core.pupil_listing compute pupil keys
    except BaseException:
        con.close()
        raise
    return con


def _share_once(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Compute the views of ONCE into the build's shared tables; return every published model's
    columns (looked up once per build, not per product)."""
    for name in ONCE:
        con.execute(f"create table {_once(name)} as select * from {name}")
    return _columns(con, [m for m in registry().models.values() if m.audience])


def _province_fingerprints(con: duckdb.DuckDBPyConnection, provinces: list[str], settings,
                           columns: dict[str, list[str]]) -> dict[str, Inputs]:
    """The input fingerprints of the directorates' products, all in one pass per model."""
    models = registry().visible_to("province")
    return province_fingerprints(con, provinces, models, {m.name: _source(m, "province") for m in models},
                                 columns, {p: _names("province", p, settings) for p in provinces}, SCOPED_COLUMNS)


def _write_all(con: duckdb.DuckDBPyConnection, units: list[tuple[str, str | None]], warehouse: str | Path,
               settings, k: int | None, columns: dict[str, list[str]],
               known: dict[str, Inputs], manifest: Manifest | None = None) -> list[Product]:
    """Write the products of `units` (kind, code), WRITERS at a time, each writer on its own cursor
    of `con` (its own temp scope tables and secret; the shared tables and the attached warehouse
    are the database's). A product is many small statements, most of them on one core: two at a
    time keep both cores busy (nation, 95 products: 318 s one at a time). `known`: the directorate
    products' fingerprints, computed together (`province_fingerprints`); `manifest`: what the files
    in place were made from, as the last build recorded it."""
    cursors: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(WRITERS):
        cursor = con.cursor()
        cursor.execute("use warehouse")
        bind_secret(cursor)
        cursors.put(cursor)

    def write(unit: tuple[str, str | None]) -> Product:
        kind, code = unit
        cursor = cursors.get()
        try:
            return _write(cursor, kind, code or "MA", product_path(warehouse, kind, code), settings,
                          k if kind != "province" else None, columns,
                          known.get(code) if kind == "province" else None, manifest)
        finally:
            cursors.put(cursor)

    try:
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            return list(pool.map(write, units))
    finally:
        while not cursors.empty():
            cursors.get().close()


def solved_components_path(warehouse: str | Path) -> Path:
    """The disclosure audit's solutions kept between builds (`disclosure_audit.SolvedComponents`),
    beside the warehouse."""
    return Path(f"{Path(warehouse).resolve()}.audit-solutions.json")


def _suppressed_tables(con: duckdb.DuckDBPyConnection, warehouse: str | Path) -> dict:
    """The values to publish (signed where a unit is signed, ops/publishable_indicators.sql), their
    national suppression pattern, and the suppressed forms of mart.indicators and ops.outlier, as
    temp tables `published_indicators` and `published_outlier`. The audit reuses the solutions of
    the previous build's unchanged components."""
    rules = load_rules()
    solved = SolvedComponents.load(solved_components_path(warehouse))
    SQL.run(con, "ops/publishable_indicators.sql")
    con.execute("""create or replace temp table geo_parent as
                   select distinct geo_level, geo_code, ancestor_level as parent_level,
                          ancestor_code as parent_code
                   from core.geo_ancestor where depth = 1""")
    result = run_suppression(con, "publishable_indicators", rules, "geo_parent", solved=solved)
    solved.save(solved_components_path(warehouse))
    con.register("suppressed_cell_frame", result.cells)
    con.execute("create or replace temp table suppressed_cell as select * from suppressed_cell_frame")
    con.unregister("suppressed_cell_frame")
    con.execute("""
        create or replace temp table published_indicators as
        select i.* exclude (value, approval_state),
               case when s.indicator is null then i.value end as value,
               s.indicator is not null as suppressed,
               case when s.indicator is not null then 'c' end as flag,
               i.approval_state
        from publishable_indicators i
        left join suppressed_cell s
          on s.geo_level = i.geo_level and s.geo_code = i.geo_code and s.school_year = i.school_year
         and s.month is not distinct from i.month and s.indicator = i.indicator""")
    con.execute("""
        create or replace temp table published_outlier as
        with base as (select unnest(map_keys(m)) as metric, unnest(map_values(m)) as indicator
                      from (select $bases::map(varchar, varchar) as m)),
        hidden as (
            select distinct o.school_year, o.month, o.school_code, o.metric
            from ops.outlier o
            join base b using (metric)
            join suppressed_cell s
              on s.geo_level = 'school' and s.geo_code = o.school_code and s.school_year = o.school_year
             and s.indicator = b.indicator and (s.month is null or s.month = nullif(o.month, ''))
        )
        select o.* exclude (value, score),
               case when h.metric is null then o.value end as value,
               case when h.metric is null then o.score end as score,
               h.metric is not null as suppressed,
               case when h.metric is not null then 'c' end as flag
        from ops.outlier o
        left join hidden h using (school_year, month, school_code, metric)""", {"bases": rules.outlier_bases})
    stats = {"k": rules.k, **result.stats}
    stats["audited"] = len(result.audit)
    stats["audit_min_width"] = float(result.audit["width"].min()) if len(result.audit) else None
    stats["outliers_suppressed"] = con.execute(
        "select count(*) from published_outlier where suppressed").fetchone()[0]
    return stats


@dataclass(frozen=True)
class ScopeLists:
    """One product's scope as SQL literal lists: filters on constants reach below a view's
    aggregation and prune the row groups of its tables, where the same filter as a subquery is
    applied to the finished view (a directorate's product read the whole ops.row_issue 82 times
    over at national scale: 0.9 s a table, against 0.01 s)."""

    provinces: str  # ('101', '102')
    geo_codes: str  # every geo_code of scope_geo, schools included
    schools: str  # the school codes of scope_geo


def _literal_list(values: list[str]) -> str:
    return "(" + ", ".join(map(quote_text, values)) + ")" if values else "(null)"


def _scope(con: duckdb.DuckDBPyConnection, kind: str, code: str, settings) -> ScopeLists:
    """Temp tables scope_province(code) and scope_geo(geo_level, geo_code) of one product, and the
    same as literal lists."""
    if kind == "province":
        provinces = [code]
    elif kind == "region":
        provinces = [p for p, v in settings.provinces.items() if v.region_code == code]
    else:
        provinces = list(settings.provinces)
    con.execute("create or replace temp table scope_province as select unnest($p::varchar[]) as code",
                {"p": provinces})
    con.execute("""
        create or replace temp table scope_geo as
        select distinct 'school' as geo_level, school_code as geo_code from core.dim_school
        where province_code in (select code from scope_province)
        union all select 'province', code from scope_province
        union all select 'region', $code where $kind = 'region'
        union all select distinct 'region', region_code from core.dim_geography where $kind = 'national'
        union all select 'national', 'MA' where $kind = 'national'""", {"code": code, "kind": kind})
    geo = con.execute("select geo_level, geo_code from scope_geo order by all").fetchall()
    return ScopeLists(_literal_list(sorted(provinces)), _literal_list(sorted({c for _, c in geo})),
                      _literal_list([c for level, c in geo if level == "school"]))


def _columns(con: duckdb.DuckDBPyConnection, models: list[Model]) -> dict[str, list[str]]:
    """Each model's columns in the warehouse, in order: one catalogue query per build (one per model
    through information_schema was a tenth of publishing a small warehouse)."""
    found: dict[str, list[str]] = {}
    for schema, table, column in con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where database_name = 'warehouse' order by schema_name, table_name, column_index").fetchall():
        found.setdefault(f"{schema}.{table}", []).append(column)
    return {m.name: found.get(f"{m.schema}.{m.table}", []) for m in models}


def _once(name: str) -> str:
    """The table holding the view `name` of ONCE during a build."""
    return f"{SHARED}.once_" + name.replace(".", "_")


def _source(model: Model, kind: str) -> str:
    """The relation a product of `kind` reads `model` from during a build."""
    if kind != "province" and model.name == "mart.indicators":
        return f"{SHARED}.published_indicators"
    if kind != "province" and model.name == "ops.outlier":
        return f"{SHARED}.published_outlier"
    return _once(model.name) if model.name in ONCE else model.name


def _select(model: Model, kind: str, lists: ScopeLists, columns: list[str]) -> str:
    """The query that fills `model` (of `columns`) in a product of `kind` (scope tables in place,
    `lists` the same scope as literals)."""
    cols = set(columns)
    source = _source(model, kind)
    if model.name in SCOPES:
        where = SCOPES[model.name].format(provinces=lists.provinces)
    elif {"geo_level", "geo_code"} <= cols:
        # the literal list prunes; the pair keeps a school and a directorate of one code apart
        where = (f"geo_code in {lists.geo_codes} "
                 "and (geo_level, geo_code) in (select geo_level, geo_code from scope_geo)")
    elif "province_code" in cols:
        where = f"province_code in {lists.provinces}"
    elif "school_code" in cols:
        where = f"school_code in {lists.schools}"
    elif cols & SCOPED_COLUMNS:
        raise ProductError(f"{model.name} is in the {kind} product's audience but has no rule for its rows "
                           f"(columns {sorted(cols & SCOPED_COLUMNS)}): add it to warehouse.products.SCOPES")
    else:
        where = "true"  # reference data: levels, calendar, rules
    return f"select * from {source} where {where}"


def _fingerprint(con: duckdb.DuckDBPyConnection, kind: str, code: str, models: list[Model],
                 names: tuple[str, str], k: int | None, lists: ScopeLists,
                 columns: dict[str, list[str]]) -> Inputs:
    """The input fingerprint of one product (warehouse/product_fingerprint.py), one query per
    model. Reading the rows costs a fraction of writing them (2 M rows in 0.1 s)."""
    parts, counts = {}, {}
    for model in sorted(models, key=lambda m: kind == "province" and m.name in FROM_INPUTS):
        select = _select(model, kind, lists, columns[model.name])
        described = con.execute(f"describe {select}").fetchall()
        if kind == "province" and model.name in FROM_INPUTS:  # the same value as province_fingerprints
            rows, digest = from_inputs(con, model, [code], _source(model, kind), {code: parts})[code]
        else:
            rows, digest = con.execute(f"select count(*), sum(hash(t)::hugeint) from ({select}) t").fetchall()[0]
        parts[model.name] = model_part(model.name, described, rows, digest)
        counts[model.name] = rows
    return inputs(kind, code, names, k, {m.name: parts[m.name] for m in models}, counts)


class InPlace(NamedTuple):
    """What the product file in place says it was made from (ops.product)."""

    fingerprint: str
    tables: dict[str, str]  # model -> its own fingerprint; empty for a file of an older daam
    held: frozenset[str]  # its tables


def in_place(target: Path, models: list[Model], manifest: Manifest | None = None) -> InPlace | None:
    """What the product file at `target` was made from, None when it does not say (missing,
    unreadable, written by a daam that did not record it, or a table of `models` is missing).
    `manifest`: what the last build recorded (warehouse/product_manifest.py), used for a file it
    recorded exactly as it is now; others are opened."""
    entry = manifest.recall(target) if manifest else None
    found = (InPlace(entry["fingerprint"], dict(entry["tables"] or {}), frozenset(entry["held"])) if entry
             else _read_in_place(target))
    return found if found and {m.name for m in models} <= found.held else None


def _read_in_place(target: Path) -> InPlace | None:
    try:
        with duckdb.connect(str(target), read_only=True) as con:
            held = frozenset(f"{s}.{t}" for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables").fetchall())
            has_tables = con.execute("select count(*) from information_schema.columns where table_schema = 'ops' "
                                     "and table_name = 'product' and column_name = 'table_fingerprints'").fetchone()[0]
            fingerprint, tables = con.execute(
                f"select input_fingerprint, {'table_fingerprints' if has_tables else 'null'} from ops.product"
            ).fetchall()[0]
            return InPlace(fingerprint, dict(tables or {}), held)
    except (duckdb.Error, IndexError):
        return None


def fingerprint_in_place(target: Path, models: list[Model], manifest: Manifest | None = None) -> str | None:
    """The input fingerprint of the product file at `target` (`in_place`), None when there is none."""
    found = in_place(target, models, manifest)
    return found.fingerprint if found else None


def _write(con: duckdb.DuckDBPyConnection, kind: str, code: str, target: Path, settings, k: int | None,
           columns: dict[str, list[str]], known: Inputs | None = None, manifest: Manifest | None = None) -> Product:
    """Write one product next to `target`, then swap it in atomically (`k`: its suppression
    threshold, None for a province product, which is not suppressed). When the file in place was
    made from exactly the same rows (its input fingerprint, `known` when computed beforehand), it
    is kept and only touched: its modification time then says when it was last found current.
    When only some of its tables changed, the new file starts as a copy of the one in place and
    only those tables are written again (`Product.kept`: the others): after a monitoring run, a
    directorate's product differs in its quality history and issues, not in its attendance."""
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    product = Product(kind, code, target)
    models = registry().visible_to(kind)
    names = _names(kind, code, settings)
    lists = None
    if known is None:
        lists = _scope(con, kind, code, settings)
        known = _fingerprint(con, kind, code, models, names, k, lists, columns)
    product.fingerprint = known.fingerprint
    found = in_place(target, models, manifest) if target.exists() else None
    if found and found.fingerprint == known.fingerprint:
        os.utime(target)
        product.reused, product.tables = True, dict(known.rows)
        product.made_from = {"fingerprint": found.fingerprint, "tables": found.tables, "held": sorted(found.held)}
        product.seconds = round(time.perf_counter() - started, 2)
        return product
    lists = lists or _scope(con, kind, code, settings)
    # tables kept from the file in place: only when it holds exactly this product's tables (a model
    # that left the audience must not stay behind in a copy)
    whole = found is not None and found.held == {m.name for m in models} | {"ops.product"}
    keep = {m.name for m in models if whole and found.tables.get(m.name) == known.tables[m.name]}
    tmp = temporary_beside(target)
    alias = f"product_{kind}_{code}"  # products are written side by side (_write_all)
    try:
        if keep:
            shutil.copyfile(target, tmp)
            os.chmod(tmp, 0o600)
        con.execute(f"attach '{tmp}' as {alias}")
        try:
            for schema in sorted({m.schema for m in models}):
                con.execute(f"create schema if not exists {alias}.{schema}")
            for model in models:
                if model.name not in keep:
                    con.execute(f"create or replace table {alias}.{model.name} as "
                                f"{_select(model, kind, lists, columns[model.name])}")
            con.execute(f"create or replace table {alias}.ops.product (kind varchar, code varchar, name_fr varchar, "
                        "name_ar varchar, built_at timestamp, suppression_k integer, tables integer, "
                        "input_fingerprint varchar, table_fingerprints map(varchar, varchar))")
            con.execute(f"insert into {alias}.ops.product values ($kind, $code, $fr, $ar, $at, $k, $n, $fp, "
                        "map($models, $fingerprints))",
                        {"kind": kind, "code": code, "fr": names[0], "ar": names[1], "at": datetime.now(),
                         "k": k, "n": len(models), "fp": known.fingerprint, "models": list(known.tables),
                         "fingerprints": list(known.tables.values())})
        finally:
            con.execute(f"detach {alias}")
        swap_in(tmp, target, 0o444 & ~_umask())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    product.kept, product.tables = len(keep), dict(known.rows)  # the fingerprint counted the same selects
    product.made_from = {"fingerprint": known.fingerprint, "tables": dict(known.tables),
                         "held": sorted({m.name for m in models} | {"ops.product"})}
    product.seconds = round(time.perf_counter() - started, 2)
    return product


def _names(kind: str, code: str, settings) -> tuple[str, str]:
    if kind == "province":
        p = settings.provinces[code]
        return p.name_fr, p.name_ar
    if kind == "region":
        r = settings.regions.get(code)
        return (r.name_fr, r.name_ar) if r else (code, code)
    return "Maroc", "المغرب"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

