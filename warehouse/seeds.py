"""Seeds: the tables made from `configs/` (materialized `seed` in the registry), so that SQL joins
the configuration instead of pasting it into its text.

Each seed is replaced whole by the builder that owns it (`built_by`): the landing scan loads the
conformed dimensions and the load's rules, the monitoring loads its own (outlier rules, quality rules,
score weights), so an edit of `configs/` takes effect at the next run of the job that uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import duckdb
import pandas as pd

from daam.config import RECORD_TYPES, ConfigError, Settings, outlier_config, read_yaml
from daam.sqlfiles import registered
from quality_checks.catalogue import rules
from quality_checks.expectations import declarations_for
from quality_checks.sql_rules import sql_rules_for
from warehouse.registry import Model, registry
from warehouse.schema import SQL


def geography(settings: Settings) -> pd.DataFrame:
    return pd.DataFrame([
        {"province_code": p.code, "province_name_fr": p.name_fr, "province_name_ar": p.name_ar,
         "region_code": p.region_code, "region_name_fr": settings.regions[p.region_code].name_fr,
         "region_name_ar": settings.regions[p.region_code].name_ar, "country_code": "MA"}
        for p in settings.provinces.values()])


def levels(settings: Settings) -> pd.DataFrame:
    return pd.DataFrame([{"level_code": lv.code, "cycle": lv.cycle, "rank": lv.rank, "nominal_age": lv.nominal_age,
                          "label_fr": lv.label_fr, "label_ar": lv.label_ar} for lv in settings.levels.values()])


def calendar(settings: Settings) -> pd.DataFrame:
    return pd.DataFrame([{"school_year": y, "month": m, "school_days": settings.school_days(y, int(m[5:]))}
                         for y in settings.school_years for m in settings.months_of(y)])


def programme_rules(settings: Settings) -> pd.DataFrame:
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
    return pd.DataFrame(rows, columns=["school_year", "programme", "rule", "rule_key", "value_num", "value_text"])


def _text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def submission_rules(settings: Settings) -> pd.DataFrame:
    """configs/completeness.yaml expected_submissions: one row per accepted value of each condition
    (one row without condition for a record type every open school owes)."""
    doc = read_yaml("completeness.yaml")["expected_submissions"]
    # a condition names a column of the school's referential version (core/fct_submission.sql)
    columns = {c.name for c in registry()["core.dim_school"].columns}
    rows = []
    for record_type, rule in doc.items():
        conditions = rule.get("where") or {}
        if bad := set(conditions) - columns:
            raise ConfigError(f"configs/completeness.yaml: {record_type} can not be conditioned on "
                              f"{', '.join(sorted(bad))}: not a column of core.dim_school")
        rows += [(record_type, rule["frequency"], attribute, _text(v))
                 for attribute, values in conditions.items() for v in values]
        if not conditions:
            rows.append((record_type, rule["frequency"], None, None))
    return pd.DataFrame(rows, columns=["record_type", "frequency", "attribute", "value"])


def submission_deadlines(settings: Settings) -> pd.DataFrame:
    """Every deadline of configs/completeness.yaml, per school year and period, by the one
    computation of it (`Settings.deadline`, which the demo generator uses too)."""
    rows = []
    for year in settings.school_years:
        start = int(year[:4])
        # every calendar month of the school year's span, so that a file of July still gets one
        months = [f"{start + (m < 9)}-{m:02d}" for m in (*range(9, 13), *range(1, 9))]
        for record_type, rule in settings.deadlines.items():
            periods = months if "days_after_month" in rule else [None]
            rows += [(year, record_type, p, settings.deadline(record_type, year, p)) for p in periods]
    return pd.DataFrame(rows, columns=["school_year", "record_type", "period", "deadline"])


def quality_rules(settings: Settings) -> pd.DataFrame:
    """The catalogue rules that check each record type's rows: its suite's and its SQL rules."""
    catalogue = rules()
    rows = set()
    for rt in RECORD_TYPES:
        spec = settings.record_types[rt]
        gx_rules = {e.meta["rule"] for e in declarations_for(spec, settings, settings.school_years[-1])}
        rows |= {(rt, r, catalogue[r].severity, catalogue[r].title_fr, catalogue[r].title_ar)
                 for r in gx_rules | set(sql_rules_for(spec))}
    return pd.DataFrame(sorted(rows), columns=["record_type", "rule", "severity", "title_fr", "title_ar"])


def outlier_rules(settings: Settings) -> pd.DataFrame:
    cfg = outlier_config()
    return pd.DataFrame([
        {"metric": m, "grain": v.get("grain"), "method": cfg.method_of(m), "threshold": cfg.threshold_of(m),
         "lower_bound": float(v.get("min", "-inf")), "upper_bound": float(v.get("max", "inf")),
         "label_fr": v.get("label_fr"), "label_ar": v.get("label_ar")}
        for m, v in cfg.metrics.items()], columns=["metric", "grain", "method", "threshold", "lower_bound",
                                                "upper_bound", "label_fr", "label_ar"])


def quality_score_weights(settings: Settings) -> pd.DataFrame:
    return pd.DataFrame(list(settings.quality_score_weights.items()), columns=["component", "weight"])


SEEDS: dict[str, Callable[[Settings], pd.DataFrame]] = {
    "core.dim_geography": geography,
    "core.dim_level": levels,
    "core.school_calendar": calendar,
    "core.programme_rule": programme_rules,
    "core.submission_rule": submission_rules,
    "core.submission_deadline": submission_deadlines,
    "core.quality_rule": quality_rules,
    "core.outlier_rule": outlier_rules,
    "core.quality_score_weight": quality_score_weights,
}


def load_seeds(con: duckdb.DuckDBPyConnection, settings: Settings, models: Iterable[Model]) -> dict[str, int]:
    """Replace every seed among `models` from configs/, in the caller's transaction; rows per seed."""
    out = {}
    for model in models:
        if model.materialized != "seed":
            continue
        frame = SEEDS[model.name](settings)
        with registered(con, seed_frame=frame):
            SQL.run(con, "seed.sql", table=model.name)
        out[model.name] = len(frame)
    return out
