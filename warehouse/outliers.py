"""Outliers on school-level aggregates: warnings a quality monitor follows up, never rejections.

Metrics (`configs/outliers.yaml`, computed in `sql/monitoring/metrics.sql`): absence rate per
school-month, kits requested per eligible pupil, meals per canteen beneficiary, Tayssir
entitlement per active beneficiary. Each school is scored against its peers (same school year and
month, same directorate and cycle by default) with the modified z-score (median and MAD), the
z-score, or configured bounds. Results go to `ops.outlier`, one row per school × metric × period
ever flagged: a new outlier is `open`; a monitor may set `confirmed` (the value is real),
`explained` or `corrected`; when a later run no longer finds it, an `open` one becomes
`resolved`. Statuses set by people are kept across runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb
import yaml

from daam.config import CONFIG_DIR
from warehouse.schema import run_sql

METHODS = ("modified_z", "zscore", "minmax")


@dataclass(frozen=True)
class OutlierConfig:
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
    with (CONFIG_DIR / "outliers.yaml").open(encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    cfg = OutlierConfig(doc["method"], {k: float(v) for k, v in doc["thresholds"].items()},
                        tuple(doc["peer_group"]), int(doc["min_peers"]), doc["metrics"])
    for metric in cfg.metrics:
        if cfg.method_of(metric) not in METHODS:
            raise ValueError(f"configs/outliers.yaml: metric {metric} has unknown method {cfg.method_of(metric)!r}"
                             f" (use one of {', '.join(METHODS)})")
    return cfg


def score_sql(cfg: OutlierConfig) -> str:
    """Every assessed school value with its score, method, threshold and verdict."""
    # Peer attributes: the directorate is the metric row's own; the rest come from the school's
    # referential version for that year.
    select_peers = ", ".join(
        f"m.province_code as g_{c}" if c == "province_code" else f"s.{c} as g_{c}" for c in cfg.peer_group)
    window = ", ".join(["school_year", "month", "metric"] + [f"g_{c}" for c in cfg.peer_group])
    metrics = ", ".join(f"'{m}'" for m in cfg.metrics)
    cases_method = " ".join(f"when '{m}' then '{cfg.method_of(m)}'" for m in cfg.metrics)
    cases_threshold = " ".join(f"when '{m}' then {cfg.threshold_of(m) or 'null'}" for m in cfg.metrics)
    cases_min = " ".join(f"when '{m}' then '{float(v.get('min', '-inf'))!r}'" for m, v in cfg.metrics.items())
    cases_max = " ".join(f"when '{m}' then '{float(v.get('max', 'inf'))!r}'" for m, v in cfg.metrics.items())
    return f"""
        with valued as (
            select m.*, {select_peers},
                   case m.metric {cases_method} end as method,
                   case m.metric {cases_threshold} end as threshold,
                   case m.metric {cases_min} end::double as lo,
                   case m.metric {cases_max} end::double as hi
            from outlier_metrics m
            join core.school_year_version s on s.school_year = m.school_year and s.school_code = m.school_code
            where m.value is not null and m.metric in ({metrics})
        ), centred as (
            select v.*, count(*) over w as peers, median(value) over w as med, avg(value) over w as mean,
                   stddev_samp(value) over w as sd, mad(value) over w as mad
            from valued v window w as (partition by {window})
        ), spread as (
            select c.*, avg(abs(value - med)) over (partition by {window}) as mean_ad
            from centred c
        ), scored as (
            select *,
                   case method
                     when 'modified_z' then case when mad > 0 then 0.6745 * (value - med) / mad
                                                 when mean_ad > 0 then (value - med) / (1.253314 * mean_ad)
                                                 else 0 end
                     when 'zscore' then case when sd > 0 then (value - mean) / sd else 0 end
                     else value end as score
            from spread
        )
        select school_year, province_code, school_code, month, metric, value, method, threshold, lo, hi,
               score, med as peer_median, peers,
               case when method = 'minmax' then value < lo or value > hi
                    else peers >= {cfg.min_peers} and abs(score) > threshold end as is_outlier
        from scored
        where method = 'minmax' or peers >= {cfg.min_peers}
    """


def detect_outliers(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Score every school value, then merge into `ops.outlier` keeping follow-up statuses."""
    cfg = outlier_config()
    run_sql(con, "monitoring/metrics.sql")
    con.execute(f"create or replace temp table outlier_scores as {score_sql(cfg)}")
    con.execute("""
        update ops.outlier o set value = s.value, score = s.score, peer_median = s.peer_median, peers = s.peers,
               last_seen_at = now(), last_run_id = $run
        from outlier_scores s
        where s.is_outlier and o.school_year = s.school_year and o.month = s.month
          and o.school_code = s.school_code and o.metric = s.metric
    """, {"run": run_id}).fetchall()
    # An outlier seen again after it was resolved is open again.
    con.execute("""
        update ops.outlier o set status = 'open', resolved_at = null
        from outlier_scores s
        where s.is_outlier and o.status = 'resolved' and o.school_year = s.school_year and o.month = s.month
          and o.school_code = s.school_code and o.metric = s.metric
    """).fetchall()
    new = con.execute("""
        insert into ops.outlier
        select s.school_year, s.month, s.province_code, s.school_code, s.metric, s.value, s.method, s.threshold,
               s.lo, s.hi, s.score, s.peer_median, s.peers, 'open', now(), now(), null, $run, null
        from outlier_scores s
        where s.is_outlier and not exists (
            select 1 from ops.outlier o where o.school_year = s.school_year and o.month = s.month
              and o.school_code = s.school_code and o.metric = s.metric)
    """, {"run": run_id}).fetchone()[0]
    resolved = con.execute("""
        update ops.outlier o set status = 'resolved', resolved_at = now()
        where o.status = 'open' and not exists (
            select 1 from outlier_scores s where s.is_outlier and o.school_year = s.school_year
              and o.month = s.month and o.school_code = s.school_code and o.metric = s.metric)
    """).fetchone()[0]
    assessed = con.execute("select count(*), count(*) filter (is_outlier) from outlier_scores").fetchone()
    return {"assessed": int(assessed[0]), "outliers": int(assessed[1]), "new": int(new), "resolved": int(resolved)}
