"""The data dictionary of the level products and the indicator catalogue, in Arabic and French:
what the reports site's dictionary page of a level shows, so that an analyst never needs
warehouse/README.md to read a number.

- `indicator_catalogue()`, `units()`, `programmes()`: configs/indicators.yaml, one entry per
  indicator mart.indicators can hold (label, definition, unit, period, the programme rules used);
- `product_tables(kind, lang)`: every model the registry publishes in a product of `kind`, with its
  title, grain and columns in `lang`, from configs/dictionary.yaml;
- `indicator_rules(con, indicator, lang)`: the values of an indicator's programme rules per school
  year, read from the product's own `core.programme_rule`, so the page shows the rules the
  product's numbers were computed with.

A published model or column without its fr and ar text, or a catalogue entry that names an unknown
unit, programme or rule, is a `DictionaryError` (a ValueError) naming it: a new published column
can not ship undocumented.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb

from daam.config import load_settings, read_yaml
from warehouse.registry import AUDIENCES, Model, registry

LANGS = ("fr", "ar")
PERIODS = ("year", "month")
ARABIC_LETTER = re.compile("[\u0621-\u064a]")
INDICATORS_FILE = "indicators.yaml"
DICTIONARY_FILE = "dictionary.yaml"

# The products that are suppressed, and the columns warehouse/products.py adds to two models in
# them (the suppression mark, and for indicators whether a value is signed): the registry declares
# the working warehouse's tables, which do not have them.
SUPPRESSED_PRODUCTS = ("region", "national")
PUBLISHED_COLUMNS = {
    "mart.indicators": (("suppressed", "boolean"), ("flag", "varchar"), ("approval_state", "varchar")),
    "ops.outlier": (("suppressed", "boolean"), ("flag", "varchar")),
}
# A declared column type without its constraints (`varchar not null default ...` -> `varchar`).
_CONSTRAINT = re.compile(r"\s+(?:not null|default|check|primary key)\b.*$", re.DOTALL)


class DictionaryError(ValueError):
    """configs/indicators.yaml or configs/dictionary.yaml lacks what a page needs; the message names it."""


@dataclass(frozen=True)
class Indicator:
    name: str
    programme: str
    unit: str
    period: str                 # year | month
    label: dict[str, str]       # lang -> short label
    definition: dict[str, str]  # lang -> one or two sentences
    rules: tuple[str, ...]      # `programme.rule` keys of configs/programme_rules.yaml


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    text: str


@dataclass(frozen=True)
class TableDoc:
    name: str
    title: str
    grain: str
    keys: tuple[str, ...]
    columns: tuple[ColumnDoc, ...]


@dataclass(frozen=True)
class RuleValue:
    """One programme rule in one school year, ready to print: `rule` — `school_year`: `text`."""

    school_year: str
    rule: str   # programme.rule
    label: str  # the rule in words, in the page's language
    text: str   # its values, e.g. "1AP 60, 2AP 60, 3AP 80"


def _texts(node: Any, where: str) -> dict[str, str]:
    """{fr, ar} of a node, each non-empty; Arabic text in Arabic letters, French text without any."""
    node = node if isinstance(node, dict) else {}
    out = {}
    for lang in LANGS:
        text = node.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise DictionaryError(f"{where}: no {lang} text")
        if (lang == "ar") != bool(ARABIC_LETTER.search(text)):
            problem = "has no Arabic letter" if lang == "ar" else "contains Arabic letters"
            raise DictionaryError(f"{where}: the {lang} text {problem}: {text!r}")
        out[lang] = text.strip()
    return out


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (use {', '.join(LANGS)})")


@cache
def _dictionary() -> dict[str, Any]:
    doc = read_yaml(DICTIONARY_FILE)
    where = f"configs/{DICTIONARY_FILE}"
    out: dict[str, Any] = {"tables": dict(doc.get("tables") or {})}
    for section in ("columns", "rules", "codes"):
        out[section] = {name: _texts(text, f"{where}: {section}.{name}")
                        for name, text in (doc.get(section) or {}).items()}
    return out


@cache
def _catalogue() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]], dict[str, Indicator]]:
    doc = read_yaml(INDICATORS_FILE)
    where = f"configs/{INDICATORS_FILE}"
    units_ = {k: _texts(v, f"{where}: units.{k}") for k, v in (doc.get("units") or {}).items()}
    programmes_ = {k: _texts(v, f"{where}: programmes.{k}") for k, v in (doc.get("programmes") or {}).items()}
    rule_labels = _dictionary()["rules"]
    settings = load_settings()
    indicators = {}
    for name, spec in (doc.get("indicators") or {}).items():
        at = f"{where}: indicators.{name}"
        if spec.get("programme") not in programmes_:
            raise DictionaryError(f"{at}: programme {spec.get('programme')!r} is not under `programmes`")
        if spec.get("unit") not in units_:
            raise DictionaryError(f"{at}: unit {spec.get('unit')!r} is not under `units`")
        if spec.get("period") not in PERIODS:
            raise DictionaryError(f"{at}: period must be one of {', '.join(PERIODS)}")
        rules = tuple(spec.get("rules") or ())
        for rule in rules:
            if rule not in rule_labels:
                raise DictionaryError(f"{at}: rule {rule!r} has no label under `rules` in "
                                      f"configs/{DICTIONARY_FILE}")
            for year in settings.school_years:
                if _rule_value(settings.programme_rules(year), rule) is None:
                    raise DictionaryError(f"{at}: rule {rule!r} is not in configs/programme_rules.yaml "
                                          f"for {year}")
        indicators[name] = Indicator(name, spec["programme"], spec["unit"], spec["period"],
                                     _texts(spec.get("label"), f"{at}.label"),
                                     _texts(spec.get("definition"), f"{at}.definition"), rules)
    return units_, programmes_, indicators


def _rule_value(rules: dict[str, Any], key: str) -> Any:
    """The value of `programme.rule` in one year's merged rules, None when absent."""
    programme, _, rule = key.partition(".")
    block = rules.get(programme)
    return block.get(rule) if isinstance(block, dict) else None


def indicator_catalogue() -> dict[str, Indicator]:
    """Every indicator of configs/indicators.yaml by name, in the file's order."""
    return dict(_catalogue()[2])


def units() -> dict[str, dict[str, str]]:
    """unit -> {lang: text}, e.g. units()['pupils']['fr'] == 'élèves'."""
    return {k: dict(v) for k, v in _catalogue()[0].items()}


def programmes() -> dict[str, dict[str, str]]:
    """programme -> {lang: text}."""
    return {k: dict(v) for k, v in _catalogue()[1].items()}


@cache
def _view_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """The columns of the registry's views, which declare none: their SQL run as the DDL runs it, in
    an empty in-memory warehouse (a product holds a view's rows as a table of those columns)."""
    from warehouse.schema import ensure_schema  # the DDL machinery, only when a view is documented

    con = duckdb.connect()
    try:
        ensure_schema(con, keys=False)
        return {m.name: tuple((r[0], r[1].lower()) for r in con.execute(f"describe {m.name}").fetchall())
                for m in registry().models.values() if m.is_view and not m.columns}
    finally:
        con.close()


def published_columns(model: Model, kind: str) -> tuple[tuple[str, str], ...]:
    """(name, type) of `model`'s table in a product of `kind`."""
    if model.columns:
        cols = tuple((c.name, _CONSTRAINT.sub("", c.type)) for c in model.columns)
    else:
        cols = _view_columns()[model.name]
    if kind in SUPPRESSED_PRODUCTS:
        cols += PUBLISHED_COLUMNS.get(model.name, ())
    return cols


def product_tables(kind: str, lang: str) -> list[TableDoc]:
    """Every model of a `kind` product (province | region | national), in registry order, with its
    title, grain, keys and columns in `lang` (fr | ar)."""
    if kind not in AUDIENCES:
        raise ValueError(f"unknown product kind {kind!r} (use {', '.join(AUDIENCES)})")
    _check_lang(lang)
    doc = _dictionary()
    where = f"configs/{DICTIONARY_FILE}"
    out = []
    for model in registry().visible_to(kind):
        entry = doc["tables"].get(model.name)
        if not isinstance(entry, dict):
            raise DictionaryError(f"{where} has no entry for {model.name}, which the {kind} product "
                                  f"publishes: add its title and grain in fr and ar under `tables`")
        overrides = entry.get("columns") or {}
        columns = []
        for name, type_ in published_columns(model, kind):
            if name in overrides:
                text = _texts(overrides[name], f"{where}: tables.{model.name}.columns.{name}")
            elif name in doc["columns"]:
                text = doc["columns"][name]
            else:
                raise DictionaryError(f"{where}: column {name} of {model.name}, which the {kind} product "
                                      f"publishes, has no text: add it under `columns` (fr and ar)")
            columns.append(ColumnDoc(name, type_, text[lang]))
        title = _texts(entry.get("title"), f"{where}: tables.{model.name}.title")
        grain = _texts(entry.get("grain"), f"{where}: tables.{model.name}.grain")
        out.append(TableDoc(model.name, title[lang], grain[lang], model.keys, tuple(columns)))
    return out


def indicator_rules(con: duckdb.DuckDBPyConnection, indicator: Indicator, lang: str) -> list[RuleValue]:
    """The values of `indicator`'s programme rules in each school year of the product `con` is
    connected to (its `core.programme_rule`), rule by rule, school year by school year."""
    _check_lang(lang)
    labels = _dictionary()["rules"]
    out = []
    for rule in indicator.rules:
        programme, _, name = rule.partition(".")
        # rowid: the seed's rows are in the order of configs/programme_rules.yaml (1AP before 2AP,
        # September before January), which products keep when they copy the table
        rows = con.execute("""select school_year, rule_key, value_num, value_text from core.programme_rule
                              where programme = $programme and rule = $rule order by school_year, rowid""",
                           {"programme": programme, "rule": name}).fetchall()
        if not rows:
            raise DictionaryError(f"core.programme_rule of this product has no values for {rule} "
                                  f"(indicator {indicator.name})")
        by_year: dict[str, list[tuple]] = defaultdict(list)
        for year, key, number, text in rows:
            by_year[year].append((key, number, text))
        out += [RuleValue(year, rule, labels[rule][lang], _rule_text(values, lang))
                for year, values in by_year.items()]
    return out


def _rule_text(values: list[tuple], lang: str) -> str:
    """One year's values of a rule, in the order of configs/programme_rules.yaml: `1AP 60, 2AP 60`
    (one number per key), `1: 9, 10, 11; 2: 12, 1` (several values per key), `2` (a scalar),
    `rural — 1AP: kit complet, …; urbain — …` (nested keys); codes (cycles, milieus, kits, grant
    types) in `lang`."""
    paths = [(tuple(key.split("|")) if key else (), number, text) for key, number, text in values]
    return _entries_text(paths, lang)


def _entries_text(entries: list[tuple], lang: str) -> str:
    comma, semicolon = (", ", "; ") if lang == "fr" else ("، ", "؛ ")
    groups: list[tuple[str | None, list[tuple]]] = []  # consecutive entries by their first key
    for path, number, text in entries:
        head = path[0] if path else None
        if groups and groups[-1][0] == head:
            groups[-1][1].append((path[1:], number, text))
        else:
            groups.append((head, [(path[1:], number, text)]))
    parts, several = [], False
    for head, items in groups:
        if head is None:
            parts.append(comma.join(_value_text(n, t, lang) for _, n, t in items))
            several = several or len(items) > 1
        elif any(path for path, _, _ in items):
            parts.append(f"{_code(head, lang)} — {_entries_text(items, lang)}")
            several = True
        elif len(items) == 1:
            _, number, text = items[0]
            sep = " " if number is not None else ": "
            parts.append(f"{_code(head, lang)}{sep}{_value_text(number, text, lang)}")
        else:
            parts.append(f"{_code(head, lang)}: {comma.join(_value_text(n, t, lang) for _, n, t in items)}")
            several = True
    return (semicolon if several and len(parts) > 1 else comma).join(parts)


def _value_text(number: float | None, text: str | None, lang: str) -> str:
    if number is None:
        return _code(text or "", lang)
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _code(key: str, lang: str) -> str:
    """A rule key or text value in words (`primaire` -> `الابتدائي`); level codes, months and
    instalment numbers stay as they are."""
    codes = _dictionary()["codes"]
    return codes[key][lang] if key in codes else key
