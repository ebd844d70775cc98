"""Typed access to `configs/`: record types, vocabularies, levels, programme rules, calendar, limits.

Everything the code needs from the landing-zone contract lives in `configs/` and is read here,
once per process. Nothing reads the shared contract folder at run time.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(os.environ.get("DAAM_CONFIG_DIR", Path(__file__).resolve().parents[1] / "configs"))


# Every rule the warehouse computes with: a year missing one is refused with its name.
REQUIRED_PROGRAMME_RULES = (
    "tayssir.monthly_amount_mad", "tayssir.max_unjustified_absence_days", "tayssir.months_paid",
    "tayssir.instalments", "tayssir.targeting", "schoolbags.eligibility", "boarding.quarterly_rate_mad",
    "canteen.meal_rate_mad",
)


class ConfigError(ValueError):
    """A configuration file is missing a key the code needs; the message names it."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    required: bool
    kind: str
    aliases: tuple[str, ...]

    @property
    def vocabulary(self) -> str | None:
        return self.kind.split(":", 1)[1] if self.kind.startswith("vocab:") else None

    def label(self, lang: str) -> str:
        """The header a school would recognise: the first Arabic alias for `ar`; for `fr` the first
        Latin alias written in words (`Code Massar` rather than `CNE`), else the first Latin one;
        the canonical name when the column has none."""
        arabic = [a for a in self.aliases if any("\u0600" <= ch <= "\u06ff" for ch in a)]
        latin = [a for a in self.aliases if a not in arabic]
        if lang == "ar":
            return arabic[0] if arabic else self.name
        worded = [a for a in latin if any(ch.islower() for ch in a)]
        return (worded or latin or [self.name])[0]


@dataclass(frozen=True)
class RecordTypeSpec:
    name: str
    folder: str
    layout: str  # snapshot | school | monthly_school | province_instalment
    key: tuple[str, ...]
    columns: dict[str, ColumnSpec]
    labels: dict[str, str] = field(default_factory=dict)  # fr / ar: what schools call the record type
    roster: str | None = None  # self | school | directorate: whose accepted roster its pupils must be on

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]

    @property
    def monthly(self) -> bool:
        return self.layout == "monthly_school"


@dataclass(frozen=True)
class Level:
    code: str
    cycle: str
    rank: int
    nominal_age: int
    label_fr: str
    label_ar: str


@dataclass(frozen=True)
class Province:
    code: str
    name_fr: str
    name_ar: str
    region_code: str


@dataclass(frozen=True)
class Region:
    code: str
    name_fr: str
    name_ar: str


@dataclass(frozen=True)
class Settings:
    record_types: dict[str, RecordTypeSpec]
    vocabularies: dict[str, dict[str, list[str]]]
    levels: dict[str, Level]
    age_below: int
    age_above: int
    class_name_patterns: list[dict[str, str]]
    preamble_school_code_labels: list[str]
    school_years: list[str]
    limits: dict[str, int]
    calendar: dict[str, Any]
    provinces: dict[str, Province]
    regions: dict[str, Region]
    deadlines: dict[str, dict[str, Any]] = field(default_factory=dict)
    quality_score_weights: dict[str, float] = field(default_factory=dict)
    _rules: dict[str, Any] = field(repr=False, default_factory=dict)

    def programme_rules(self, school_year: str) -> dict[str, Any]:
        """The programme rules in force for a school year; a year with no rules is a ConfigError."""
        if school_year not in self.school_years:
            raise ConfigError(
                f"configs/programme_rules.yaml has no rules for school year {school_year!r} "
                f"(add it to `school_years`; known: {', '.join(self.school_years)})"
            )
        merged = _deep_merge(self._rules.get("defaults", {}), self._rules.get(school_year, {}) or {})
        for path in REQUIRED_PROGRAMME_RULES:
            node: Any = merged
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    raise ConfigError(f"configs/programme_rules.yaml: school year {school_year} has no "
                                      f"`{path}` (set it under `defaults` or under {school_year!r})")
                node = node[part]
        return merged

    def school_days(self, school_year: str, month: int) -> int:
        """School days in a month of a school year, from configs/calendar.yaml."""
        override = (self.calendar.get("years") or {}).get(school_year) or {}
        return int(override.get(month, self.calendar["default_school_days"][month]))

    def deadline(self, record_type: str, school_year: str, period: str | None) -> date | None:
        """The last day a submission is on time (configs/completeness.yaml `deadlines`), or None
        when the record type has no deadline."""
        rule = self.deadlines.get(record_type)
        if not rule:
            return None
        if "days_after_month" in rule:
            if not period:
                return None
            year, month = int(period[:4]), int(period[5:7])
            first_next = date(year + month // 12, month % 12 + 1, 1)
            return first_next + timedelta(days=int(rule["days_after_month"]) - 1)
        month, day = (int(x) for x in str(rule["date"]).split("-"))
        start = int(school_year[:4])
        return date(start if month >= 9 else start + 1, month, day)

    def months_of(self, school_year: str) -> list[str]:
        """`YYYY-MM` of each school month of a school year, September to June."""
        start = int(school_year[:4])
        return [f"{start if m >= 9 else start + 1}-{m:02d}" for m in self.calendar["months"]]


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_yaml(name: str) -> dict[str, Any]:
    """configs/<name>, parsed; a missing file is a ConfigError naming it."""
    path = CONFIG_DIR / name
    if not path.exists():
        raise ConfigError(f"missing configuration file {path}")
    with path.open(encoding="utf-8") as fh:
        return parse_yaml(fh) or {}


# libyaml's parser where the installed PyYAML has it (its wheels do): the same documents as
# `yaml.safe_load`, 9x faster (the project's 23 YAML files: 0.35 s with the pure-Python parser, 0.04
# s with it). Every process that needs the configs parses them: the load, each site and feedback worker.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(stream):
    """A YAML document (text or an open file) parsed as `yaml.safe_load` would (plain data only)."""
    return yaml.load(stream, Loader=_YAML_LOADER)


def _csv(name: str) -> list[dict[str, str]]:
    with (CONFIG_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def load_settings() -> Settings:
    """Read every file of `configs/` once and return the typed settings."""
    rt_doc = read_yaml("record_types.yaml")
    record_types = {}
    for name, spec in rt_doc["record_types"].items():
        cols = {
            c: ColumnSpec(c, bool(v.get("required")), str(v["kind"]), tuple(str(a) for a in v.get("aliases", [])))
            for c, v in spec["columns"].items()
        }
        record_types[name] = RecordTypeSpec(name, spec["folder"], spec["layout"], tuple(spec["key"]), cols,
                                             dict(spec.get("label", {})), spec.get("roster"))
    vocab = {
        name: {str(canon): [str(a) for a in accepted] for canon, accepted in values.items()}
        for name, values in read_yaml("vocabularies.yaml")["vocabularies"].items()
    }
    lv_doc = read_yaml("levels.yaml")
    levels = {str(code): Level(str(code), **v) for code, v in lv_doc["levels"].items()}
    rules = read_yaml("programme_rules.yaml")
    settings_doc = read_yaml("settings.yaml")
    return Settings(
        record_types=record_types,
        vocabularies=vocab,
        levels=levels,
        age_below=int(lv_doc["age_below"]),
        age_above=int(lv_doc["age_above"]),
        class_name_patterns=lv_doc["class_name_patterns"],
        preamble_school_code_labels=list(rt_doc.get("preamble_school_code_labels", [])),
        school_years=[str(y) for y in rules["school_years"]],
        limits=settings_doc["limits"],
        calendar=read_yaml("calendar.yaml"),
        provinces={r["province_code"]: Province(r["province_code"], r["name_fr"], r["name_ar"], r["region_code"])
                   for r in _csv("reference/provinces.csv")},
        regions={r["region_code"]: Region(r["region_code"], r["name_fr"], r["name_ar"])
                 for r in _csv("reference/regions.csv")},
        deadlines=read_yaml("completeness.yaml").get("deadlines", {}),
        quality_score_weights={k: float(v) for k, v in settings_doc["quality_score"]["weights"].items()},
        _rules={str(k): v for k, v in rules.items()},
    )



OUTLIER_METHODS = ("modified_z", "zscore", "minmax")
# What a school can be compared on: its metric row's directorate and its referential version's attributes.
OUTLIER_PEER_ATTRIBUTES = ("province_code", "region_code", "commune_code", "milieu", "cycle", "nature", "sector")


@dataclass(frozen=True)
class OutlierConfig:
    """configs/outliers.yaml: how school aggregates are scored against their peers."""

    method: str
    thresholds: dict[str, float]
    peer_group: tuple[str, ...]
    min_peers: int
    metrics: dict[str, dict]

    def method_of(self, metric: str) -> str:
        return self.metrics[metric].get("method", self.method)

    def threshold_of(self, metric: str) -> float | None:
        method = self.method_of(metric)
        return None if method == "minmax" else float(self.metrics[metric].get("threshold", self.thresholds[method]))


@cache
def outlier_config() -> OutlierConfig:
    """Read and check configs/outliers.yaml once."""
    doc = read_yaml("outliers.yaml")
    cfg = OutlierConfig(doc["method"], {k: float(v) for k, v in doc["thresholds"].items()},
                        tuple(doc["peer_group"]), int(doc["min_peers"]), doc["metrics"])
    for metric in cfg.metrics:
        if cfg.method_of(metric) not in OUTLIER_METHODS:
            raise ConfigError(f"configs/outliers.yaml: metric {metric} has unknown method {cfg.method_of(metric)!r}"
                              f" (use one of {', '.join(OUTLIER_METHODS)})")
    if bad := set(cfg.peer_group) - set(OUTLIER_PEER_ATTRIBUTES):
        raise ConfigError(f"configs/outliers.yaml: peer_group can not use {', '.join(sorted(bad))} "
                          f"(use {', '.join(OUTLIER_PEER_ATTRIBUTES)})")
    return cfg

# Record types in load order (configs/record_types.yaml lists them in that order), and those that
# belong to one school year and one directorate (the partitioned ones: all but the referential).
RECORD_TYPES = tuple(read_yaml("record_types.yaml")["record_types"])
PERIOD_RECORD_TYPES = tuple(rt for rt, spec in read_yaml("record_types.yaml")["record_types"].items()
                            if spec["layout"] != "snapshot")
