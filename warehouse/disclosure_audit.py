"""The disclosure auditor: proves that a suppression pattern of mart.indicators holds (contract
levels.md, section 3, "Proof").

For every suppressed pupil count it computes the smallest and the largest value an attacker can
give the cell from everything published and every relation between the cells, by linear
programming (`scipy.optimize.linprog(method="highs")`), and says whether the interval is at least
k wide (`width = upper - lower >= k`).

What the attacker is assumed to know:

- every published value, and which cells are suppressed;
- the relations, each an equality between the cells of one *relation instance*:
  - hierarchy: a parent cell is the sum of its children cells (school -> directorate -> region
    -> nation, same school year, month and indicator; `geo_parent` says who is whose parent);
  - parts (`parts` of configs/suppression.yaml): part + remainder = whole at the same cell, the
    remainder (boys = pupils - girls) is not published but is >= 0;
  - year sums (`year_sums`): the yearly cell is the sum of the monthly cells of the same unit;
- a suppressed cell is >= 1: true zeros are always published, so a missing value is not zero
  (the lower bound 1 is what makes two suppressed cells of 1 and 2 under a total of 3 visible);
- counts are whole numbers: the LP bounds are rounded inward (ceil of the minimum, floor of the
  maximum). The matrices are made of +-1 sums over a tree, so the LP bound is the integer bound
  in practice; where it is not, the LP interval is wider than the integer one (reported).

The LP: variables are the suppressed count cells (bounds [1, inf)) and the hidden remainders
(bounds [0, inf)); one equality per relation instance that holds at least one suppressed cell:
`sum(suppressed children) - (parent, if suppressed) = (parent, if published) - sum(published
children)`. Instances without a suppressed cell say nothing about one. Values that are derived
from a count (amounts in MAD) are suppressed exactly where their count is and are not modelled:
their relations mirror the counts' ones.

Not modelled (left to the people who configure the rules): inequalities between different
programmes' counts (compliant pupils <= beneficiaries, kits distributed <= kits received, ...)
that are not declared as `parts`. The remainder of a part/whole is not audited as a cell of its
own: when it is small (1-4 boys), warehouse/suppression.py suppresses the part as primary, and the
part's audited interval is then the remainder's too.

Method and cost. The variable-constraint graph falls apart into connected components: a suppressed
school is linked to the other suppressed schools of its directorate for the same indicator and
period, to its own girls/pupils cells, and upwards only where a directorate cell is suppressed
too. Each component is solved on its own, which keeps every LP tiny; the components are found
with `scipy.sparse.csgraph`. Per suppressed count one LP maximises it; a minimisation is needed
only when no LP solution seen so far has the cell at its lower bound (that bound is then its
minimum, exactly), which saves about half of the LPs. The cost is scipy's per-call overhead
(~1.5 ms per tiny LP), not HiGHS. Measured with `bench/suppression.py` (2 cores, national size:
12,300 schools, two school years, 10 months): 20,337 suppressed counts in 1,618 components
(largest 62 variables) audited in 37 s, peak RSS 503 MiB; with every school in every programme
(37,407 counts, largest component 100 variables) 74 s, 878 MiB. Solving every component as one
LP per variable and direction took twice as long (80 s on the first case).

Everything works in temporary tables of the caller's connection (`_dsc_<random>_...`, dropped at
the end; temp tables work on a read-only connection too), so the caller's data is never copied
out of DuckDB except for the (small) equations of the suppressed cells.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, Self

import duckdb
import numpy as np
import pandas as pd

from warehouse.publish import swap_in, temporary_beside

KEY = ["geo_level", "geo_code", "school_year", "month", "indicator"]
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")
# Dense constraint matrices below this many variables (HiGHS reads them as fast), sparse above.
_DENSE_MAX = 64


class RelationRules(Protocol):
    """What the auditor needs of `warehouse.suppression.Rules` (structural: no import of it)."""

    k: int
    counts: Sequence[str]
    parts: Sequence[tuple[str, str]]       # (part, whole)
    year_sums: Sequence[tuple[str, str]]   # (yearly indicator, monthly indicator)


class InconsistentRelations(ValueError):
    """The published values and the true values of the suppressed cells break a relation (a parent
    is not the sum of its children, a part exceeds its whole): the LP has no solution."""


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a table name: {name!r}")
    return name


class Workspace:
    """The cells, the parent mapping, the relation instances and a suppressed set, as temporary
    tables of `con` (names from `table()`), for `suppress` and `audit`. A context manager: the
    tables are dropped on exit.

    Tables:
      cells(id, geo_level, geo_code, school_year, month ('' for yearly), indicator, value, is_count)
      gp(geo_level, geo_code, parent_level, parent_code[, school_year])
      member(inst, cell, parent, hidden, value, geo_code, month, indicator): one row per member of
          a relation instance; `parent` for the parent/whole/year cell; `hidden` for a remainder
          (cell id < 0, never published, lower bound 0)
      supp(cell, reason): the suppressed cells
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, cells_table: str, geo_parent: str,
                 rules: RelationRules):
        self.con = con
        self.rules = rules
        self.prefix = f"_dsc_{uuid.uuid4().hex[:10]}_"
        self._tables: list[str] = []
        try:
            self._build(_ident(cells_table), _ident(geo_parent))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def table(self, name: str) -> str:
        return self.prefix + name

    def close(self) -> None:
        for name in reversed(self._tables):
            self.con.execute(f"drop table if exists temp.main.{name}")
        self._tables.clear()

    def _create(self, name: str, sql: str, params: dict | None = None) -> None:
        full = self.table(name)
        self.con.execute(f"create or replace temp table {full} as {sql}", params or {})
        self._tables.append(full)

    def _build(self, cells_table: str, geo_parent: str) -> None:
        t = self.table
        counts = sorted(set(self.rules.counts))
        self._create("cells", f"""
            select (row_number() over (order by geo_level, geo_code, school_year, month, indicator) - 1)::bigint
                       as id,
                   geo_level, geo_code, school_year, month, indicator, value,
                   list_contains($counts, indicator) as is_count
            from (select geo_level::varchar as geo_level, geo_code::varchar as geo_code,
                         school_year::varchar as school_year, coalesce(month::varchar, '') as month,
                         indicator::varchar as indicator, value::double as value
                  from {cells_table} where value is not null)""", {"counts": counts or [""]})
        dup = self.con.execute(f"""select geo_level, geo_code, school_year, month, indicator from {t('cells')}
                                   group by all having count(*) > 1 limit 1""").fetchone()
        if dup:
            raise ValueError(f"{cells_table} has more than one row for the cell {dup}")
        gp_cols = {r[0] for r in self.con.execute(f"describe {geo_parent}").fetchall()}
        by_year = "school_year" in gp_cols
        year_col = ", school_year::varchar as school_year" if by_year else ""
        self._create("gp", f"""select distinct geo_level::varchar as geo_level, geo_code::varchar as geo_code,
                                      parent_level::varchar as parent_level, parent_code::varchar as parent_code
                                      {year_col}
                               from {geo_parent}""")
        dup = self.con.execute(f"""select geo_level, geo_code from {t('gp')}
                                   group by geo_level, geo_code{', school_year' if by_year else ''} having count(*) > 1
                                   limit 1""").fetchone()
        if dup:
            raise ValueError(f"{geo_parent} gives more than one parent to {dup}")
        year_join = "and g.school_year = c.school_year" if by_year else ""
        self._create("hchild", f"""
            select p.id as anchor, c.id as cell, c.value, c.geo_code, c.month, c.indicator
            from {t('cells')} c
            join {t('gp')} g on g.geo_level = c.geo_level and g.geo_code = c.geo_code {year_join}
            join {t('cells')} p on p.geo_level = g.parent_level and p.geo_code = g.parent_code
                               and p.school_year = c.school_year and p.month = c.month
                               and p.indicator = c.indicator
            where c.is_count""")
        cols = "value, geo_code, month, indicator"
        branches = [
            f"select 0 as rtype, 0 as j, anchor, cell, false as parent, false as hidden, {cols} from {t('hchild')}",
            f"""select 0, 0, p.id, p.id, true, false, {cols} from {t('cells')} p
                where p.id in (select anchor from {t('hchild')})""",
        ]
        n_parts = max(len(self.rules.parts), 1)
        same_cell = ("x.geo_level = w.geo_level and x.geo_code = w.geo_code and x.school_year = w.school_year"
                     " and x.month = w.month")
        for j, (part, whole) in enumerate(self.rules.parts):
            pair = f"""from {t('cells')} w join {t('cells')} x on {same_cell}
                       where w.indicator = '{_lit(whole)}' and x.indicator = '{_lit(part)}'"""
            branches += [
                f"select 1, {j}, w.id, x.id, false, false, x.value, x.geo_code, x.month, x.indicator {pair}",
                f"""select 1, {j}, w.id, -(1 + w.id * {n_parts} + {j}), false, true, w.value - x.value,
                           w.geo_code, w.month, 'remainder' {pair}""",
                f"select 1, {j}, w.id, w.id, true, false, w.value, w.geo_code, w.month, w.indicator {pair}",
            ]
        for j, (year, months) in enumerate(self.rules.year_sums):
            pair = f"""from {t('cells')} y join {t('cells')} x
                         on x.geo_level = y.geo_level and x.geo_code = y.geo_code and x.school_year = y.school_year
                       where y.indicator = '{_lit(year)}' and y.month = ''
                         and x.indicator = '{_lit(months)}' and x.month <> ''"""
            branches += [
                f"select 2, {j}, y.id, x.id, false, false, x.value, x.geo_code, x.month, x.indicator {pair}",
                f"""select distinct 2, {j}, y.id, y.id, true, false, y.value, y.geo_code, y.month, y.indicator
                    {pair}""",
            ]
        self._create("member", f"""
            select dense_rank() over (order by rtype, j, anchor)::bigint as inst, cell, parent, hidden,
                   {cols}
            from ({' union all '.join(branches)})""")
        self._create("supp", "select null::bigint as cell, null::varchar as reason where false")

    # -- the suppressed set -------------------------------------------------------------------

    def mark(self, suppressed: pd.DataFrame | str, reason: str = "given") -> int:
        """Add cells named by key (a DataFrame or a table with the KEY columns, `reason` optional)
        to the suppressed set; a key that is not a cell of the table is refused."""
        name = self.table("given")
        if isinstance(suppressed, str):
            source = _ident(suppressed)
        else:
            frame = suppressed.copy()
            if "reason" not in frame.columns:
                frame["reason"] = reason
            frame = frame[[*KEY, "reason"]].astype({"month": object})
            frame["month"] = frame["month"].where(frame["month"].notna(), "")
            self.con.register(name + "_df", frame)
            source = name + "_df"
        try:
            has_reason = "reason" in {r[0] for r in self.con.execute(f"describe {source}").fetchall()}
            rows = self.con.execute(f"""
                select c.id, c.value, c.is_count,
                       {'s.reason' if has_reason else f"'{_lit(reason)}'"} as reason
                from (select geo_level::varchar as geo_level, geo_code::varchar as geo_code,
                             school_year::varchar as school_year, coalesce(month::varchar, '') as month,
                             indicator::varchar as indicator{', reason' if has_reason else ''}
                      from {source}) s
                left join {self.table('cells')} c using (geo_level, geo_code, school_year, month, indicator)
            """).df()
        finally:
            if not isinstance(suppressed, str):
                self.con.unregister(name + "_df")
        if rows["id"].isna().any():
            raise ValueError(f"{int(rows['id'].isna().sum())} suppressed keys are not cells of the table")
        if (rows["is_count"].astype(bool) & (rows["value"] <= 0)).any():
            raise ValueError("a suppressed count holds a true zero: zeros are published (the auditor's "
                             "lower bound 1 would not hold)")
        rows = rows.drop_duplicates("id")
        self.con.register(name + "_ids", rows[["id", "reason"]])
        try:
            return self.con.execute(f"""insert into {self.table('supp')}
                                        select id, reason from {name}_ids
                                        where id not in (select cell from {self.table('supp')})""").fetchone()[0]
        finally:
            self.con.unregister(name + "_ids")

    # -- the LP ---------------------------------------------------------------------------------

    def solve(self, cache: SolvedComponents | None = None) -> pd.DataFrame:
        """Interval of every suppressed count cell: DataFrame(cell, lower, upper, component,
        variables). `cache` (kept by the caller between rounds, and between builds) reuses the
        solution of a component whose linear programme is the same, coefficient for coefficient."""
        # imported here: SciPy takes 0.25 s to import, and the site's page workers import this
        # module (through warehouse.products) without ever solving
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        t = self.table
        m = _numpy(self.con.execute(f"""
            with m as (
                select m.inst, m.cell, m.parent, m.hidden, m.value, s.cell is not null as sup
                from {t('member')} m left join {t('supp')} s on s.cell = m.cell
            ), rel as (select inst from m group by inst having bool_or(sup))
            select inst, cell, parent, hidden or sup as hid, value from m semi join rel using (inst)
            order by inst, cell"""))
        targets = _numpy(self.con.execute(f"""
            select s.cell from {t('supp')} s join {t('cells')} c on c.id = s.cell where c.is_count
            order by s.cell"""))["cell"].astype(np.int64)
        inst, cell = m["inst"].astype(np.int64), m["cell"].astype(np.int64)
        hid, value = m["hid"].astype(bool), m["value"].astype(float)
        coef = np.where(m["parent"].astype(bool), -1.0, 1.0)
        eq_ids, eq_idx = np.unique(inst, return_inverse=True)
        n_e = len(eq_ids)
        rhs = -np.bincount(eq_idx, weights=np.where(hid, 0.0, coef * value), minlength=n_e)
        variables = np.union1d(cell[hid], targets)
        n_v = len(variables)
        e_var = np.searchsorted(variables, cell[hid])
        e_eq, e_coef = eq_idx[hid], coef[hid]
        graph = coo_matrix((np.ones(len(e_var)), (e_var, n_v + e_eq)), shape=(n_v + n_e, n_v + n_e))
        n_comp, labels = connected_components(graph, directed=False)
        var_comp, eq_comp = labels[:n_v], labels[n_v:]
        # entries, variables and targets grouped by component
        e_order = np.argsort(eq_comp[e_eq], kind="stable")
        e_bounds = np.searchsorted(eq_comp[e_eq][e_order], np.arange(n_comp + 1))
        v_order = np.argsort(var_comp, kind="stable")
        v_bounds = np.searchsorted(var_comp[v_order], np.arange(n_comp + 1))
        is_target = np.isin(variables, targets)
        out_cell, out_lo, out_hi, out_comp, out_nvar = [], [], [], [], []
        for comp in range(n_comp):
            vs = v_order[v_bounds[comp]:v_bounds[comp + 1]]
            if not is_target[vs].any():
                continue
            ids = variables[vs]
            es = e_order[e_bounds[comp]:e_bounds[comp + 1]]
            lp = (ids < 0, np.searchsorted(ids, variables[e_var[es]]), e_eq[es], e_coef[es], rhs, is_target[vs])
            key = _lp_key(*lp)
            solved = cache.get(key) if cache is not None else None
            if solved is None:
                solved = _solve_component(*lp)
                if cache is not None:
                    cache.put(key, solved)
            for i, lo, hi in solved:
                out_cell.append(int(ids[i]))
                out_lo.append(lo)
                out_hi.append(hi)
                out_comp.append(comp)
                out_nvar.append(len(ids))
        return pd.DataFrame({"cell": np.asarray(out_cell, dtype=np.int64), "lower": np.asarray(out_lo, float),
                             "upper": np.asarray(out_hi, float), "component": np.asarray(out_comp, np.int64),
                             "variables": np.asarray(out_nvar, np.int64)})

    def report(self, intervals: pd.DataFrame) -> pd.DataFrame:
        """`solve`'s intervals with the cells' keys and true values, width and ok (width >= k)."""
        name = self.table("intervals_df")
        self.con.register(name, intervals)
        try:
            out = self.con.execute(f"""
                select c.geo_level, c.geo_code, c.school_year, nullif(c.month, '') as month, c.indicator,
                       c.value, i.lower, i.upper, i.component, i.variables
                from {name} i join {self.table('cells')} c on c.id = i.cell
                order by c.geo_level, c.geo_code, c.school_year, c.month, c.indicator""").df()
        finally:
            self.con.unregister(name)
        out["width"] = out["upper"] - out["lower"]
        out["ok"] = out["width"] >= self.rules.k
        return out[[*KEY, "value", "lower", "upper", "width", "ok", "component", "variables"]]


def _lit(text: str) -> str:
    return str(text).replace("'", "''")


def _numpy(rel: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in rel.fetchnumpy().items()}


class SolvedComponents:
    """Solutions of components' linear programmes by their content (`_lp_key`): within a run,
    between the audit rounds; between builds, through a file (`load`, `save`), so that a publish
    whose counts did not change, or changed in one directorate, solves only the components that
    changed (nation: the audit was 5.7 to 10.7 s of a region and national build). A solution depends on
    nothing but its programme, so a reused one is exactly the one solving would give. The file
    holds programme hashes and interval bounds, which anyone can compute from the published
    values; no cell key, value or identifier."""

    VERSION = 1

    def __init__(self, known: dict[str, list] | None = None):
        self.known = known or {}
        self.used: dict[str, list] = {}  # what this build read or solved: all that `save` keeps

    def get(self, key: str) -> list | None:
        found = self.used.get(key, self.known.get(key))
        if found is not None:
            self.used[key] = found
        return found

    def put(self, key: str, solved: list) -> None:
        self.used[key] = solved

    @property
    def reused(self) -> int:
        return sum(key in self.known for key in self.used)

    @classmethod
    def load(cls, path: Path) -> SolvedComponents:
        """The solutions saved at `path`; none when the file is missing, unreadable or of another version."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") == cls.VERSION and isinstance(data.get("components"), dict):
                return cls(data["components"])
        except (OSError, ValueError, AttributeError):
            pass
        return cls()

    def save(self, path: Path) -> None:
        """Write this build's solutions to `path` (atomically, private: mode 0600)."""
        tmp = temporary_beside(path)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": self.VERSION, "components": self.used}, fh)
            swap_in(tmp, path, 0o600)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _lp_key(hidden: np.ndarray, e_var: np.ndarray, e_eq: np.ndarray, e_coef: np.ndarray, rhs: np.ndarray,
            targets: np.ndarray) -> str:
    """SHA-256 of one component's programme: its variables' kinds, constraint entries, right-hand
    sides and targets, in the component's own numbering (the same programme in a warehouse whose
    cell ids moved has the same key)."""
    eqs, row = np.unique(e_eq, return_inverse=True)
    h = hashlib.sha256()
    for part in (hidden.astype(np.int8), targets.astype(np.int8), row.astype(np.int64), e_var.astype(np.int64),
                 e_coef.astype(np.float64), rhs[eqs].astype(np.float64)):
        h.update(len(part).to_bytes(8, "little"))
        h.update(part.tobytes())
    return h.hexdigest()


def _solve_component(hidden: np.ndarray, e_var: np.ndarray, e_eq: np.ndarray, e_coef: np.ndarray,
                     rhs: np.ndarray, targets: np.ndarray) -> list[tuple[int, float, float]]:
    """Min and max of each target variable of one component, as (its index in the component,
    min, max). `hidden` marks the component's hidden remainders (lower bound 0, the others 1), the
    entries `e_*` its constraint coefficients.

    One LP per maximum. A minimum is solved only when no solution found so far already has the
    variable at its lower bound (then that bound is its minimum, exactly): HiGHS returns vertices,
    which hold most variables at their bounds, so this saves most of the minimisations."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    n = len(hidden)
    lower = np.where(hidden, 0.0, 1.0)
    if len(e_eq) == 0:  # a suppressed cell in no relation: nothing bounds it above
        return [(i, 1.0, math.inf) for i in range(n) if targets[i]]
    eqs, row = np.unique(e_eq, return_inverse=True)
    a = coo_matrix((e_coef, (row, e_var)), shape=(len(eqs), n))
    problem = {"A_eq": a.toarray() if n <= _DENSE_MAX else a.tocsr(), "b_eq": rhs[eqs],
               "bounds": [(lo, None) for lo in lower], "method": "highs"}
    minimum = np.full(n, np.nan)
    upper = {}

    def solved(res, i: int, what: str):
        if res.status == 2:
            raise InconsistentRelations(f"the {n} suppressed cells and remainders of a component can not satisfy "
                                        f"its {len(eqs)} relations (published values inconsistent?)")
        if res.status not in (0, 3):
            raise RuntimeError(f"linprog failed to {what} a variable of a component of {n}: {res.message}")
        if res.status == 0:
            at_bound = np.isnan(minimum) & (res.x <= lower + 1e-7)
            minimum[at_bound] = lower[at_bound]
        return res

    for i in np.flatnonzero(targets):
        c = np.zeros(n)
        c[i] = -1.0
        res = solved(linprog(c, **problem), i, "maximise")
        upper[i] = math.inf if res.status == 3 else float(math.floor(-res.fun + 1e-6))
    for i in np.flatnonzero(targets & np.isnan(minimum)):
        c = np.zeros(n)
        c[i] = 1.0
        res = solved(linprog(c, **problem), i, "minimise")
        minimum[i] = res.fun
    return [(int(i), float(math.ceil(minimum[i] - 1e-6)), upper[i]) for i in np.flatnonzero(targets)]


def audit(con: duckdb.DuckDBPyConnection, cells_table: str, suppressed: pd.DataFrame | str,
          rules: RelationRules, geo_parent: str = "geo_parent") -> pd.DataFrame:
    """Audit a suppression pattern.

    con          a DuckDB connection holding the two tables (read-only is fine)
    cells_table  table or view with the columns of mart.indicators, true values (every level)
    suppressed   the suppressed cells by key (geo_level, geo_code, school_year, month,
                 indicator; more columns are ignored): `suppression.suppress`'s DataFrame, any
                 such DataFrame, or the name of such a table
    rules        `suppression.load_rules()` (k, counts, parts, year_sums are used)
    geo_parent   table (geo_level, geo_code, parent_level, parent_code[, school_year])

    Returns one row per suppressed COUNT cell: its key (month None for yearly), true `value`,
    `lower`, `upper` (inf when unbounded), `width` = upper - lower, `ok` = width >= k, and the
    `component` (id within this audit) and its number of LP `variables`.
    """
    with Workspace(con, cells_table, geo_parent, rules) as ws:
        ws.mark(suppressed)
        return ws.report(ws.solve())
