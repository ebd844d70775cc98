"""Small-cell suppression of mart.indicators for the region and national products (contract
levels.md, section 3), with `configs/suppression.yaml` as its rules.

`suppress(con, cells_table, rules, geo_parent)` returns the cells to publish as suppressed (value
null, `suppressed` true, flag `c`); it publishes nothing itself. Its input is the whole table with
true values at every level (schools, directorates, regions, nation), so that totals are computed
from true values and nothing is ever recomputed from published ones.

Decisions:

- **Which values.** Pupil counts (`counts`) are suppressed when 0 < value < k (primary). Values
  computed from the same pupils (`derived`: amounts in MAD) are suppressed wherever one of their
  counts is suppressed in the same cell. Files and meals (`not_suppressed`) are never suppressed:
  they are not pupil counts (the contract: counts of files and schools are not suppressed; a
  meal count mixes pupils and days). An indicator none of these lists names is refused, since it
  might be a pupil count published unprotected.
- **Zeros are published**, never suppressed (not as primary, not as complementary): "nobody" is
  not a small group, and readers need true zeros. The consequence, known to any attacker: every
  suppressed cell is >= 1, and the auditor uses that lower bound.
- **Not reported is not zero**: a school without a row has no cell and is in no relation; the
  parent's total is the sum of the rows that exist (as rollup.sql computes it).

Algorithm (deterministic: candidates ordered by value, then geo_code, month, indicator, id):

1. primary: count cells with 0 < value < k, and the part of a part/whole pair whose unpublished
   remainder is 0 < whole - part < k (a school's 2 boys are as small a count as 2 girls);
2. complementary, set-based in DuckDB (one SQL statement per round, no loop over cells), to a
   fixpoint. A *relation instance* is a parent cell with its children (same school year, month,
   indicator), a part/whole pair at one cell with the hidden remainder (boys), or a year with its
   months. An instance holding a suppressed cell is unsafe when its hidden members (suppressed
   cells and remainders) are exactly one (that one is the published total minus the rest), or
   when the parent is published and the hidden children's values minus their lower bounds (1 for
   a cell, 0 for a remainder) sum to less than k. The latter is the exact width that the
   instance alone leaves each hidden child, `total - sum(lower bounds)`; it is stricter than "the
   suppressed sum to less than k" (3 and 3 under a published 6 are each within [1, 5], 4 wide)
   and implies it. In each unsafe instance the smallest published non-zero child is suppressed,
   or the parent/whole/year if no child qualifies. All unsafe instances of a round are handled
   at once; rounds repeat until none is left (2 rounds at national size);
3. the auditor (`warehouse.disclosure_audit`) computes every suppressed count's interval; for a
   cell narrower than k, the smallest published non-zero member (children first) of any of its
   relation instances is suppressed, step 2 is run again (a new cell may be alone in another
   instance), and the changed components are audited again; at most `max_rounds` rounds, else
   `SuppressionError`;
4. derived values follow their counts' final pattern (last, since the audit rounds of step 3 may
   still add counts).

Returns a pandas DataFrame, one row per suppressed cell: geo_level, geo_code, school_year, month
(None for yearly cells), indicator, reason ('primary' | 'complementary' | 'derived'). Its
`attrs["stats"]` holds the rounds, cell counts and seconds of each step. `run(...)` returns the
same with the final audit (the DataFrame `disclosure_audit.audit` would return, every row ok).

Measured at national size (bench/suppression.py: 12,300 schools, 82 directorates, 12 regions, two
school years, 10 months, 791,265 cells; 2 cores): 19,307 primary, 1,030 complementary, 19,547
derived cells in 42 s, of which the audit rounds take 40 s and everything in SQL 2.3 s; peak RSS
503 MiB. Every school in every programme (1.44 million cells): 78 s, 878 MiB.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from daam.config import CONFIG_DIR, ConfigError, parse_yaml
from warehouse.disclosure_audit import KEY, SolvedComponents, Workspace

CONFIG_FILE = "suppression.yaml"
REASONS = ("primary", "complementary", "derived")


class SuppressionError(RuntimeError):
    """The pattern could not be made safe within the allowed number of audit rounds."""


@dataclass(frozen=True)
class Rules:
    """configs/suppression.yaml, checked."""

    k: int
    counts: tuple[str, ...]
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    not_suppressed: tuple[str, ...] = ()
    parts: tuple[tuple[str, str], ...] = ()        # (part, whole)
    year_sums: tuple[tuple[str, str], ...] = ()    # (yearly indicator, monthly indicator)
    outlier_bases: dict[str, str] = field(default_factory=dict)

    @property
    def classified(self) -> frozenset[str]:
        return frozenset(self.counts) | frozenset(self.derived) | frozenset(self.not_suppressed)


def load_rules(path: str | Path | None = None) -> Rules:
    """Read and check the suppression rules (default `configs/suppression.yaml`)."""
    path = Path(path) if path is not None else CONFIG_DIR / CONFIG_FILE
    if not path.exists():
        raise ConfigError(f"missing configuration file {path}")
    with path.open(encoding="utf-8") as fh:
        doc = parse_yaml(fh) or {}
    where = path.name
    for key in ("k", "counts"):
        if key not in doc:
            raise ConfigError(f"{where}: missing key {key}")
    k = doc["k"]
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ConfigError(f"{where}: k must be a whole number >= 1, not {k!r}")
    try:
        rules = Rules(
            k=k,
            counts=tuple(doc["counts"] or ()),
            derived={d: tuple(bases) for d, bases in (doc.get("derived") or {}).items()},
            not_suppressed=tuple(doc.get("not_suppressed") or ()),
            parts=tuple((p["part"], p["whole"]) for p in doc.get("parts") or ()),
            year_sums=tuple((y["year"], y["months"]) for y in doc.get("year_sums") or ()),
            outlier_bases=dict(doc.get("outlier_bases") or {}),
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{where}: malformed entry ({exc})") from None
    lists = {"counts": rules.counts, "derived": tuple(rules.derived), "not_suppressed": rules.not_suppressed}
    seen: dict[str, str] = {}
    for name, items in lists.items():
        for ind in items:
            if ind in seen:
                raise ConfigError(f"{where}: {ind} is in both {seen[ind]} and {name}")
            seen[ind] = name
    counts = set(rules.counts)
    for derived, bases in rules.derived.items():
        if not bases or set(bases) - counts:
            raise ConfigError(f"{where}: derived {derived} must name counts, not {list(bases)}")
    for rel, pairs in (("parts", rules.parts), ("year_sums", rules.year_sums)):
        for pair in pairs:
            if set(pair) - counts or pair[0] == pair[1]:
                raise ConfigError(f"{where}: {rel} relates two different counts, not {list(pair)}")
    for metric, base in rules.outlier_bases.items():
        if base not in counts:
            raise ConfigError(f"{where}: outlier_bases {metric} -> {base}: not a count")
    return rules


def outlier_bases(path: str | Path | None = None) -> dict[str, str]:
    """metric of ops.outlier -> the count indicator whose cell (same school, same month for a
    monthly count, the yearly cell for a yearly one) decides whether the outlier's value is
    suppressed."""
    return dict(load_rules(path).outlier_bases)


def unclassified(names, rules: Rules | None = None) -> list[str]:
    """The indicator names among `names` that the rules do not classify (sorted)."""
    rules = rules or load_rules()
    return sorted(set(names) - rules.classified)


@dataclass
class Suppression:
    """`run`'s result: the suppressed cells (as `suppress` returns them), the final audit of the
    count cells among them, and the statistics of the run."""

    cells: pd.DataFrame
    audit: pd.DataFrame
    stats: dict


def suppress(con: duckdb.DuckDBPyConnection, cells_table: str, rules: Rules | None = None,
             geo_parent: str = "geo_parent", max_rounds: int = 30) -> pd.DataFrame:
    """The suppression pattern of `cells_table` (see the module docstring): one row per
    suppressed cell (geo_level, geo_code, school_year, month, indicator, reason), statistics in
    `attrs["stats"]`.

    con          DuckDB connection holding both tables (read-only is fine: temp tables only)
    cells_table  table or view with the columns of mart.indicators (geo_level, geo_code,
                 school_year, month, indicator, value; names ignored), true values, every level
    rules        `load_rules()` by default
    geo_parent   table (geo_level, geo_code, parent_level, parent_code), school -> province ->
                 region -> national; with a `school_year` column when the mapping changes by year
    max_rounds   audit rounds allowed before `SuppressionError`
    """
    return run(con, cells_table, rules, geo_parent, max_rounds).cells


def run(con: duckdb.DuckDBPyConnection, cells_table: str, rules: Rules | None = None,
        geo_parent: str = "geo_parent", max_rounds: int = 30, solved: SolvedComponents | None = None) -> Suppression:
    """`suppress` (same arguments), keeping the final audit. `solved`: the audit's solutions of
    earlier builds (`disclosure_audit.SolvedComponents`), reused where a component is unchanged
    and added to as components are solved."""
    rules = rules or load_rules()
    stats: dict = {}
    clock = time.perf_counter()
    with Workspace(con, cells_table, geo_parent, rules) as ws:
        t = ws.table
        names = [r[0] for r in con.execute(f"select distinct indicator from {t('cells')}").fetchall()]
        if bad := unclassified(names, rules):
            raise ValueError(f"indicators not classified in configs/{CONFIG_FILE}: {', '.join(bad)}")
        stats["cells"] = con.execute(f"select count(*) from {t('cells')}").fetchone()[0]
        stats["relation_members"] = con.execute(f"select count(*) from {t('member')}").fetchone()[0]
        stats["seconds_prepare"] = _lap(clock)
        clock = time.perf_counter()
        con.execute(f"""insert into {t('supp')} select id, 'primary' from {t('cells')}
                        where is_count and value > 0 and value < $k""", {"k": rules.k})
        for part, whole in rules.parts:
            # the unpublished remainder (boys = pupils - girls) is a pupil count too: when it is
            # small, the part is suppressed as primary, so the remainder is no longer a difference
            # of two published numbers (the complementary steps then protect the part)
            con.execute(f"""
                insert into {t('supp')}
                select x.id, 'primary' from {t('cells')} w
                join {t('cells')} x on x.geo_level = w.geo_level and x.geo_code = w.geo_code
                                   and x.school_year = w.school_year and x.month = w.month
                where w.indicator = $whole and x.indicator = $part and x.value > 0
                  and w.value - x.value > 0 and w.value - x.value < $k
                  and x.id not in (select cell from {t('supp')})""", {"k": rules.k, "part": part, "whole": whole})
        stats["seconds_primary"] = _lap(clock)
        clock = time.perf_counter()
        stats["complementary_rounds"] = _complementary_fixpoint(ws, rules.k)
        stats["seconds_complementary"] = _lap(clock)
        clock = time.perf_counter()
        cache = solved if solved is not None else SolvedComponents()
        audit_rounds = 0
        while True:
            intervals = ws.solve(cache)
            audit_rounds += 1
            failing = intervals.loc[intervals["upper"] - intervals["lower"] < rules.k, "cell"]
            if failing.empty:
                break
            if audit_rounds > max_rounds:
                raise SuppressionError(f"{len(failing)} suppressed cells are still narrower than k={rules.k} "
                                       f"after {max_rounds} audit rounds")
            if not _widen(ws, failing.tolist()):
                raise SuppressionError(f"{len(failing)} suppressed cells are narrower than k={rules.k} and none "
                                       "of their relations has a published non-zero cell left to suppress")
            stats["complementary_rounds"] += _complementary_fixpoint(ws, rules.k)
        stats["audit_rounds"] = audit_rounds
        stats["audit_components_reused"] = cache.reused
        stats["seconds_audit"] = _lap(clock)
        clock = time.perf_counter()
        _derive(ws, rules)
        stats["seconds_derived"] = _lap(clock)
        out = con.execute(f"""
            select c.geo_level, c.geo_code, c.school_year, nullif(c.month, '') as month, c.indicator, s.reason
            from {t('supp')} s join {t('cells')} c on c.id = s.cell
            order by c.geo_level, c.geo_code, c.school_year, c.month, c.indicator""").df()
        audit = ws.report(intervals)
    for reason in REASONS:
        stats[reason] = int((out["reason"] == reason).sum())
    out.attrs["stats"] = stats
    return Suppression(out, audit, stats)


def _lap(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def _complementary_fixpoint(ws: Workspace, k: int) -> int:
    """Step 2 to a fixpoint; the number of rounds that added cells."""
    t = ws.table
    sql = f"""
        insert into {t('supp')}
        with m as (
            select m.*, s.cell is not null as sup, m.hidden or s.cell is not null as hid
            from {t('member')} m left join {t('supp')} s on s.cell = m.cell
        ), unsafe as (
            select inst from m group by inst
            having bool_or(sup)
               and (count(*) filter (hid) = 1
                    or (not bool_or(parent and hid)
                        and coalesce(sum(value - case when hidden then 0 else 1 end) filter (hid), 0) < $k))
        ), candidate as (
            select m.cell, row_number() over (partition by m.inst
                                              order by m.parent, m.value, m.geo_code, m.month, m.indicator, m.cell) as rn
            from m semi join unsafe using (inst)
            where not m.hid and m.value > 0
        )
        select distinct cell, 'complementary' from candidate where rn = 1"""
    rounds = 0
    while ws.con.execute(sql, {"k": k}).fetchone()[0]:
        rounds += 1
    return rounds


def _widen(ws: Workspace, failing: list[int]) -> int:
    """Step 3's repair: for each failing cell, suppress the smallest published non-zero member of
    one of its relation instances (children before parents); the number of cells added."""
    t = ws.table
    return ws.con.execute(f"""
        insert into {t('supp')}
        with f as (select unnest($ids::bigint[]) as cell),
        candidate as (
            select m2.cell, row_number() over (partition by f.cell
                                               order by m2.parent, m2.value, m2.geo_code, m2.month, m2.indicator,
                                                        m2.cell) as rn
            from f join {t('member')} m1 on m1.cell = f.cell join {t('member')} m2 on m2.inst = m1.inst
            where not m2.hidden and m2.value > 0 and m2.cell not in (select cell from {t('supp')})
        )
        select distinct cell, 'complementary' from candidate where rn = 1""", {"ids": failing}).fetchone()[0]


def _derive(ws: Workspace, rules: Rules) -> None:
    """Step 4: a derived value is suppressed where one of its counts is suppressed in the same
    cell (a monthly value of a yearly count: the unit's yearly cell)."""
    pairs = [(d, b) for d, bases in rules.derived.items() for b in bases]
    if not pairs:
        return
    t = ws.table
    ws.con.execute(f"""
        insert into {t('supp')}
        with rel as (select unnest($derived::varchar[]) as derived, unnest($base::varchar[]) as base)
        select distinct d.id, 'derived'
        from {t('supp')} s
        join {t('cells')} b on b.id = s.cell
        join rel on rel.base = b.indicator
        join {t('cells')} d on d.indicator = rel.derived and d.geo_level = b.geo_level
                           and d.geo_code = b.geo_code and d.school_year = b.school_year
        where (d.month = b.month or b.month = '')
          and d.id not in (select cell from {t('supp')})""",
                   {"derived": [d for d, _ in pairs], "base": [b for _, b in pairs]})


__all__ = ["KEY", "REASONS", "Rules", "Suppression", "SuppressionError", "load_rules", "outlier_bases", "run",
           "suppress", "unclassified"]
