"""The model registry: every table and view of the warehouse, declared once.

Each schema folder of `warehouse/sql/` has a `models.yml` next to its SQL files, and
`warehouse/sql/checks/checks.yml` declares the checks. A model says:

- `grain` — what one row is, in one sentence ("One row per …"), and `keys`;
- `materialized` — how it is written: `seed` (from configs/, `warehouse/seeds.py`), `partition`
  (its SQL file selects one partition's rows, and the builder replaces exactly that partition),
  `table` (selected and replaced whole), `view`, `script` (its SQL file's statements run as
  written) or `python` (a builder writes it);
- `build` — its SQL file; `partition_by` — the columns a partition replace deletes by;
- `built_by` — the builder (`warehouse/build/<name>.py`, one per layer or step) whose asset writes it;
  default: its schema; `none` for the tables several builders write along the way;
- `deps` — the models it reads; `foreign_keys`, `source` and `checks` — what guards it;
- `audience` — the products that may hold it (`province`, `region`, `national`); none means the
  engineers' working warehouse only, so a new table is private until someone says otherwise;
- `description` — the Dagster UI's text; `columns` (name: type, or name: {type, doc}) — the DDL
  (`warehouse/schema.py`) and the data dictionary.

`raw` and `staging` declare one template each, expanded for every record type of
`configs/record_types.yaml`; their columns come from the record type. Builders, checks, the Dagster
assets, the DDL and `warehouse/README.md` all read this registry; `validate()` refuses an entry that
names an unknown model, check, file or audience.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from daam.config import Settings, load_settings, parse_yaml
from daam.sqlfiles import IDENTIFIER

SCHEMAS = ("raw", "staging", "core", "mart", "ops")
AUDIENCES = ("province", "region", "national")
MATERIALIZATIONS = ("seed", "partition", "table", "view", "script", "python")
BUILDERS = ("landing", "raw", "staging", "core", "mart", "cycle", "ops", "approval", "roster_twins", "none")
# The $parameter each partition column is bound to.
PARTITION_PARAMS = {"school_year": "year", "province_code": "province", "month": "month"}

# Lineage carried by every raw and staging row: where it came from, to the spreadsheet row.
LINEAGE = {
    "file_path": "varchar",
    "file_version": "integer",
    "sheet": "varchar",
    "row_number": "integer",
    "school_year": "varchar",
    "province_code": "varchar",
    "school_code": "varchar",
    "period": "varchar",
}
# How staging types a column of each kind (configs/record_types.yaml); other kinds stay text.
STAGING_TYPES = {"int": "bigint", "decimal": "decimal(14, 2)", "date": "date"}


class RegistryError(ValueError):
    """A models.yml or checks.yml entry is inconsistent; the message names it."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str = ""


@dataclass(frozen=True)
class CheckDef:
    name: str
    description: str
    blocking: bool
    sql: str | None = None          # path under warehouse/sql/, None when a builder computes it
    per: str | None = None          # "foreign_key": the query runs once per foreign key
    computed_by: str | None = None


@dataclass(frozen=True)
class CheckUse:
    """A check as a model uses it (with the model's own query when it names one)."""

    check: CheckDef
    sql: str | None

    @property
    def name(self) -> str:
        return self.check.name


@dataclass(frozen=True)
class Model:
    name: str                       # schema.table
    grain: str
    keys: tuple[str, ...]
    materialized: str
    built_by: str
    description: str
    build: str | None = None        # path under warehouse/sql/
    partition_by: tuple[str, ...] = ()
    deps: tuple[str, ...] = ()
    foreign_keys: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    checks: tuple[CheckUse, ...] = ()
    audience: tuple[str, ...] = ()
    primary_key: tuple[str, ...] = ()
    key_index: bool = True          # the primary key enforced by the database; false: by a check
    columns: tuple[Column, ...] = ()
    measures: str = ""
    record_type: str | None = None  # raw and staging: the record type the table holds

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]

    @property
    def table(self) -> str:
        return self.name.split(".")[1]

    @property
    def asset_path(self) -> str:
        """`core.fct_enrolment` → `core/fct_enrolment` (asset keys name storage)."""
        return self.name.replace(".", "/")

    @property
    def is_view(self) -> bool:
        return self.materialized == "view"

    @property
    def is_fact(self) -> bool:
        return self.table.startswith("fct_")

    @property
    def partition_params(self) -> dict[str, str]:
        return {c: PARTITION_PARAMS[c] for c in self.partition_by}

    def check(self, name: str) -> CheckUse:
        return next(c for c in self.checks if c.name == name)


@dataclass(frozen=True)
class Registry:
    models: dict[str, Model]
    checks: dict[str, CheckDef]

    def __getitem__(self, name: str) -> Model:
        return self.models[name]

    def built_by(self, builder: str) -> list[Model]:
        """The models a builder writes, in dependency order."""
        return self.ordered(m for m in self.models.values() if m.built_by == builder)

    def in_schema(self, schema: str) -> list[Model]:
        return [m for m in self.models.values() if m.schema == schema]

    def for_record_type(self, schema: str, record_type: str) -> Model:
        return self.models[f"{schema}.{record_type}"]

    def visible_to(self, audience: str) -> list[Model]:
        return [m for m in self.models.values() if audience in m.audience]

    def ordered(self, models: Iterable[Model]) -> list[Model]:
        """`models` with every model after the models of the set it depends on (registry order
        otherwise), so a builder writes a fact after the facts it reads."""
        todo = list(models)
        names = {m.name for m in todo}
        done: set[str] = set()
        out: list[Model] = []
        while todo:
            ready = [m for m in todo if all(d in done or d not in names for d in m.deps if d != m.name)]
            if not ready:
                raise RegistryError("dependency cycle among " + ", ".join(m.name for m in todo))
            first = ready[0]
            out.append(first)
            done.add(first.name)
            todo.remove(first)
        return out


def sql_dir() -> Path:
    """`warehouse/sql/`, where the registry and its SQL live."""
    return Path(str(resources.files("warehouse").joinpath("sql")))


def _columns(spec: dict, groups: dict[str, dict]) -> tuple[Column, ...]:
    out = []
    for name, value in (spec or {}).items():
        if name.startswith("(") and name.endswith(")"):
            out += _columns(groups[name[1:-1]], groups)
        elif isinstance(value, dict):
            out.append(Column(name, str(value["type"]), str(value.get("doc", ""))))
        else:
            out.append(Column(name, str(value)))
    return tuple(out)


def record_columns(schema: str, record_type: str, settings: Settings) -> dict[str, str]:
    """Columns of `raw.<record_type>` or `staging.<record_type>`, from configs/record_types.yaml."""
    spec = settings.record_types[record_type]
    if schema == "raw":
        cols = {**LINEAGE, "content_sha256": "varchar", "load_id": "varchar"}
        cols.update({c: "varchar" for c in spec.columns})
        cols["extra"] = "varchar"
        return cols
    cols = dict(LINEAGE)
    cols.update({c: STAGING_TYPES.get(s.kind, "varchar") for c, s in spec.columns.items()})
    cols.update({"is_quarantined": "boolean", "is_warned": "boolean", "is_duplicate_copy": "boolean"})
    return cols


def _check_uses(entries, checks: dict[str, CheckDef], schema: str, where: str) -> tuple[CheckUse, ...]:
    out = []
    for entry in entries or []:
        name, sql = (next(iter(entry.items())) if isinstance(entry, dict) else (entry, None))
        if name not in checks:
            raise RegistryError(f"{where}: unknown check {name!r} (declare it in warehouse/sql/checks/checks.yml)")
        out.append(CheckUse(checks[name], f"checks/{sql}" if sql else checks[name].sql))
    return tuple(out)


def _model(name: str, spec: dict, folder: str, checks: dict[str, CheckDef], groups: dict,
           record_type: str | None = None, columns: dict[str, str] | None = None) -> Model:
    schema = name.split(".")[0]
    where = f"warehouse/sql/{folder}/models.yml: {name}"
    unknown = set(spec) - {"grain", "keys", "materialized", "built_by", "description", "build", "partition_by",
                           "deps", "foreign_keys", "source", "checks", "audience", "primary_key", "key_index",
                           "columns", "measures"}
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    cols = tuple(Column(c, t) for c, t in columns.items()) if columns is not None else _columns(spec.get("columns"),
                                                                                               groups)
    return Model(
        name=name, grain=str(spec["grain"]), keys=tuple(spec.get("keys", ())), materialized=spec["materialized"],
        built_by=spec.get("built_by", "none" if spec["materialized"] == "view" else schema), description=" ".join(str(spec["description"]).split()),
        build=f"{folder}/{spec['build']}" if spec.get("build") else None,
        partition_by=tuple(spec.get("partition_by", ())), deps=tuple(spec.get("deps", ())),
        foreign_keys=dict(spec.get("foreign_keys", {})), source=spec.get("source"),
        checks=_check_uses(spec.get("checks"), checks, schema, where), audience=tuple(spec.get("audience", ())),
        primary_key=tuple(spec.get("primary_key", ())), key_index=bool(spec.get("key_index", True)),
        columns=cols, measures=str(spec.get("measures", "")),
        record_type=record_type,
    )


def _expand(template: dict, overrides: dict, folder: str, checks: dict, settings: Settings) -> dict[str, Model]:
    out = {}
    for rt in settings.record_types:
        name = template["name"].format(record_type=rt)
        spec = {k: v for k, v in template.items() if k != "name"}
        spec.update(overrides.get(name, {}))
        spec = {k: _fill(v, rt) for k, v in spec.items()}
        if folder == "staging" and settings.record_types[rt].roster in ("school", "directorate"):
            spec["deps"] = [*spec["deps"], "staging.students"]
        out[name] = _model(name, spec, folder, checks, {}, record_type=rt,
                           columns=record_columns(folder, rt, settings))
    return out


def _fill(value, record_type: str):
    if isinstance(value, str):
        return value.format(record_type=record_type)
    if isinstance(value, list):
        return [_fill(v, record_type) for v in value]
    return value


def _load_checks(root: Path) -> dict[str, CheckDef]:
    doc = parse_yaml((root / "checks" / "checks.yml").read_text(encoding="utf-8"))["checks"]
    return {name: CheckDef(name, " ".join(str(c["description"]).split()), bool(c["blocking"]),
                           f"checks/{c['sql']}" if c.get("sql") else None, c.get("per"), c.get("computed_by"))
            for name, c in doc.items()}


@cache
def registry() -> Registry:
    """Every model of warehouse/sql/*/models.yml, validated (read once per process)."""
    settings = load_settings()
    root = sql_dir()
    checks = _load_checks(root)
    models: dict[str, Model] = {}
    for schema in SCHEMAS:
        doc = parse_yaml((root / schema / "models.yml").read_text(encoding="utf-8")) or {}
        if "template" in doc:
            models.update(_expand(doc["template"], doc.get("overrides", {}), schema, checks, settings))
        groups = doc.get("column_groups", {})
        for name, spec in (doc.get("models") or {}).items():
            if name.split(".")[0] != schema:
                raise RegistryError(f"warehouse/sql/{schema}/models.yml declares {name}, of another schema")
            models[name] = _model(name, spec, schema, checks, groups)
    reg = Registry(models, checks)
    validate(reg, root)
    return reg


def validate(reg: Registry, root: Path) -> None:
    """Every name an entry uses exists: deps, foreign keys, checks' queries, build files, audiences."""
    for m in reg.models.values():
        where = f"{m.name} (warehouse/sql/{m.schema}/models.yml)"
        bad_names = [n for n in (m.name, *(c.name for c in m.columns)) if not IDENTIFIER.fullmatch(n)]
        if bad_names:
            raise RegistryError(f"{where}: {', '.join(bad_names)} is not a plain lower-case name")
        if not m.grain.startswith("One row per "):
            raise RegistryError(f"{where}: the grain must be one sentence starting 'One row per'")
        if m.materialized not in MATERIALIZATIONS:
            raise RegistryError(f"{where}: materialized must be one of {', '.join(MATERIALIZATIONS)}")
        if m.built_by not in BUILDERS:
            raise RegistryError(f"{where}: built_by must be one of {', '.join(BUILDERS)}")
        if m.materialized in ("partition", "table", "view", "script") and not m.build:
            raise RegistryError(f"{where}: a {m.materialized} model needs `build`, its SQL file")
        if m.build and not (root / m.build).is_file():
            raise RegistryError(f"{where}: build file warehouse/sql/{m.build} does not exist")
        if not m.is_view and not m.columns:
            raise RegistryError(f"{where}: a table needs its columns")
        names = {c.name for c in m.columns}
        if m.materialized == "partition" and (not m.partition_by or not set(m.partition_by) <= names
                                              or not set(m.partition_by) <= set(PARTITION_PARAMS)):
            raise RegistryError(f"{where}: partition_by must name columns among {', '.join(PARTITION_PARAMS)}")
        for dep in (*m.deps, *m.foreign_keys.values(), *([m.source] if m.source else [])):
            if dep not in reg.models:
                raise RegistryError(f"{where}: unknown model {dep!r}")
        for dim in m.foreign_keys.values():
            if len(reg.models[dim].primary_key) != 1:
                raise RegistryError(f"{where}: foreign key to {dim}, which has no one-column primary key")
        if bad := set(m.audience) - set(AUDIENCES):
            raise RegistryError(f"{where}: unknown audience {', '.join(sorted(bad))} (use {', '.join(AUDIENCES)})")
        for use in m.checks:
            if use.sql and not (root / use.sql).is_file():
                raise RegistryError(f"{where}: check query warehouse/sql/{use.sql} does not exist")
            if use.check.per == "foreign_key" and not m.foreign_keys:
                raise RegistryError(f"{where}: {use.name} needs foreign_keys")
            if use.name == "reconciles_with_staging" and not m.source:
                raise RegistryError(f"{where}: reconciles_with_staging needs `source`")


README = "warehouse/README.md"
BEGIN, END = "<!-- registry: begin -->", "<!-- registry: end -->"


def readme_tables(reg: Registry | None = None) -> str:
    """The tables of warehouse/README.md made from the registry: the facts' grains, then every model."""
    reg = reg or registry()
    cell = lambda text: str(text).replace("|", "\\|")
    facts = ["| fact | grain | measures | guarded by |", "|---|---|---|---|"]
    facts += [f"| `{m.table}` | {cell(m.grain)} | {cell(m.measures)} | {', '.join(c.name for c in m.checks)} |"
              for m in reg.in_schema("core") if m.is_fact]
    models = ["| table | materialized | built by | grain | keys | audience |", "|---|---|---|---|---|---|"]
    models += [f"| `{m.name}` | {m.materialized} | {m.built_by} | {cell(m.grain)} | {', '.join(m.keys)} | "
               f"{', '.join(m.audience) or 'engineers only'} |"
               for m in reg.models.values() if not (m.record_type and m.record_type != "students")]
    return "\n".join([BEGIN, "", "### Facts and their grain", "", *facts, "", "### Every table and view", "",
                      "(`raw.*` and `staging.*` have one table per record type, shown here by `students`.)", "",
                      *models, "", END])


def readme_block(text: str) -> str:
    return text[text.index(BEGIN):text.index(END) + len(END)]


if __name__ == "__main__":  # python -m warehouse.registry: rewrite warehouse/README.md's tables
    path = Path(__file__).resolve().parents[1] / README
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(readme_block(text), readme_tables()), encoding="utf-8")
    print(f"{README}: tables written from the registry")
