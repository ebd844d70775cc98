"""Time and peak memory of small-cell suppression and its audit on a synthetic national table.

    .venv/bin/python bench/suppression.py [--schools 12300] [--years 2] [--seed 1] [--all-programmes]

Builds mart.indicators-shaped rows for `--schools` schools in 82 directorates and 12 regions,
`--years` school years of 10 months (September to June) plus the yearly cells, with every
indicator name of indicators.sql, rolls them up to directorates, regions and the nation, then
runs `warehouse.suppression.run` (suppress, with its own audit rounds) and, separately, a full
`warehouse.disclosure_audit.audit` of the result. Prints the cells, the primary / complementary /
derived counts, the seconds of each step and the peak resident memory. Nothing is asserted.

Schools: pupils log-normal (median 120, sigma 1.0: about 25 % of schools under 60 pupils);
3 % report nothing; programmes by school as in the demo (Tayssir 55 %, schoolbags 90 %,
boarding 8 %, canteen 40 %; `--all-programmes`: every school in every programme, the upper bound
of the table's size); each school sends each month's attendance with probability 0.95.

Measured 2026-12 (2 cores, 24 GiB, other work running), `--schools 12300 --years 2`, seed 1:

  default:          791,265 cells (330,137 pupil counts); suppressed 19,307 primary, 1,030
                    complementary, 19,547 derived (2 complementary rounds, 2 audit rounds);
                    20,337 audited cells in 1,618 components (largest 62 variables);
                    prepare 1.9 s, primary 0.0 s, complementary 0.3 s, audit rounds 39.5 s,
                    derived 0.1 s: suppress 41.9 s; separate audit from scratch 36.8 s;
                    peak RSS 503 MiB
  --all-programmes: 1,441,159 cells (516,452 pupil counts); 36,153 primary, 1,254
                    complementary, 36,562 derived; 37,407 audited cells in 2,140 components
                    (largest 100 variables); suppress 77.9 s (audit rounds 74.6 s); separate
                    audit 74.1 s; peak RSS 878 MiB
"""

from __future__ import annotations

import argparse
import resource
import time

import duckdb
import numpy as np
import pandas as pd

from warehouse.disclosure_audit import audit
from warehouse.suppression import load_rules, run

MONTHS = ("09", "10", "11", "12", "01", "02", "03", "04", "05", "06")


def school_rows(n_schools: int, years: int, seed: int, all_programmes: bool) -> pd.DataFrame:
    """School-level rows (school index, school_year, month or None, indicator, value), vectorised."""
    rng = np.random.default_rng(seed)
    parts = []

    def add(idx, year, month, indicator, values):
        parts.append(pd.DataFrame({"school": idx, "school_year": year, "month": month,
                                   "indicator": indicator, "value": np.asarray(values, dtype=float)}))

    share = (lambda p: 1.0) if all_programmes else (lambda p: p)
    base_pupils = np.maximum(rng.lognormal(np.log(120), 1.0, n_schools).astype(np.int64), 1)
    for y in range(years):
        first = 2021 + y
        year = f"{first}-{first + 1}"
        months = [f"{first + (m < '09')}-{m}" for m in MONTHS]
        pupils = np.maximum((base_pupils * rng.normal(1.0, 0.05, n_schools)).astype(np.int64), 0)
        reports = rng.random(n_schools) >= 0.03
        s = np.flatnonzero(reports)
        girls = rng.binomial(pupils[s], 0.48)
        add(s, year, None, "enrolled_pupils", pupils[s])
        add(s, year, None, "enrolled_girls", girls)
        expected = rng.integers(8, 14, len(s))
        received = rng.binomial(expected, 0.9)
        add(s, year, None, "files_expected", expected)
        add(s, year, None, "files_received", received)
        add(s, year, None, "files_on_time", rng.binomial(received, 0.8))
        # Tayssir
        t = s[rng.random(len(s)) < share(0.55)]
        beneficiaries = rng.binomial(pupils[t], 0.6)
        add(t, year, None, "tayssir_beneficiaries", beneficiaries)
        add(t, year, None, "tayssir_paid_mad", beneficiaries * 6 * 80.0 * rng.uniform(0.8, 1.0, len(t)))
        for name, trials, p, amount in (("paid_as_due", 3, 0.9, 240.0), ("unpaid_due", 3, 0.03, 240.0),
                                        ("paid_not_due", 1, 0.01, 240.0), ("amount_mismatch", 3, 0.01, 60.0)):
            count = rng.binomial(beneficiaries * trials, p)
            add(t, year, None, f"tayssir_{name}_count", count)
            add(t, year, None, f"tayssir_{name}_mad", count * amount)
        for month in months:
            sent = rng.random(len(t)) < 0.95
            compliant = rng.binomial(beneficiaries[sent], 0.9)
            add(t[sent], year, month, "tayssir_compliant_pupils", compliant)
            add(t[sent], year, month, "tayssir_entitlement_mad", compliant * rng.choice([60.0, 80.0, 100.0]))
        # schoolbags
        b = s[rng.random(len(s)) < share(0.9)]
        eligible = rng.binomial(pupils[b], 0.8)
        requested = eligible + rng.binomial(3, 0.1, len(b))
        kits_received = rng.binomial(requested, 0.95)
        add(b, year, None, "schoolbag_eligible_pupils", eligible)
        add(b, year, None, "schoolbag_kits_requested", requested)
        add(b, year, None, "schoolbag_kits_received", kits_received)
        add(b, year, None, "schoolbag_kits_distributed", rng.binomial(kits_received, 0.97))
        # boarding
        g = s[rng.random(len(s)) < share(0.08)]
        grantees = rng.binomial(pupils[g], 0.2)
        add(g, year, None, "boarding_grantees", grantees)
        add(g, year, None, "boarding_grant_mad", grantees * 1400.0)
        # canteen
        c = s[rng.random(len(s)) < share(0.4)]
        for month in months:
            meals = rng.binomial(pupils[c] * 20, 0.5)
            add(c, year, month, "canteen_meals_served", meals)
            add(c, year, month, "canteen_cost_mad", meals * 4.5)
    return pd.concat(parts, ignore_index=True)


def build(con: duckdb.DuckDBPyConnection, n_schools: int, years: int, seed: int, all_programmes: bool) -> None:
    """Tables `cells` (every level) and `geo_parent` in `con`."""
    rng = np.random.default_rng(seed + 1000)
    province_of_region = np.array_split(np.arange(82), 12)
    region = np.empty(82, dtype=np.int64)
    for r, provinces in enumerate(province_of_region):
        region[provinces] = r
    province = np.sort(rng.integers(0, 82, n_schools))
    school_code = np.array([f"{i:05d}S" for i in range(n_schools)])
    province_code = np.array([f"{100 + p}" for p in range(82)])
    region_code = np.array([f"{r + 1:02d}" for r in range(12)])
    geo_parent = pd.concat([
        pd.DataFrame({"geo_level": "school", "geo_code": school_code, "parent_level": "province",
                      "parent_code": province_code[province]}),
        pd.DataFrame({"geo_level": "province", "geo_code": province_code, "parent_level": "region",
                      "parent_code": region_code[region]}),
        pd.DataFrame({"geo_level": "region", "geo_code": region_code, "parent_level": "national",
                      "parent_code": "MA"}),
    ], ignore_index=True)
    rows = school_rows(n_schools, years, seed, all_programmes)
    rows["geo_code"] = school_code[rows.pop("school").to_numpy()]
    rows["geo_level"] = "school"
    con.register("rows_df", rows)
    con.register("geo_parent_df", geo_parent)
    con.execute("create or replace table geo_parent as select * from geo_parent_df")
    con.execute("""create or replace table cells as
                   select geo_level, geo_code, null::varchar as geo_name_fr, null::varchar as geo_name_ar,
                          school_year, month::varchar as month, indicator, value from rows_df""")
    con.unregister("rows_df")
    con.unregister("geo_parent_df")
    for level in ("province", "region", "national"):
        con.execute("""insert into cells
                       select g.parent_level, g.parent_code, null, null, c.school_year, c.month, c.indicator,
                              sum(c.value)
                       from cells c join geo_parent g on g.geo_level = c.geo_level and g.geo_code = c.geo_code
                       where g.parent_level = $level group by all""", {"level": level})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=12300)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--all-programmes", action="store_true")
    parser.add_argument("--no-full-audit", action="store_true", help="skip the separate audit from scratch")
    args = parser.parse_args(argv)
    rules = load_rules()
    con = duckdb.connect()
    start = time.perf_counter()
    build(con, args.schools, args.years, args.seed, args.all_programmes)
    built = time.perf_counter() - start
    cells, schools = con.execute("select count(*), count(distinct geo_code) filter (geo_level = 'school') "
                                 "from cells").fetchone()
    counts = con.execute("select count(*) from cells where list_contains($c, indicator)",
                         {"c": list(rules.counts)}).fetchone()[0]
    small = con.execute("""select avg((value < 60)::int) from cells
                           where indicator = 'enrolled_pupils' and geo_level = 'school'""").fetchone()[0]
    print(f"cells {cells:,} ({counts:,} pupil counts), schools {schools:,}, years {args.years}, "
          f"schools under 60 pupils {small:.1%}; built in {built:.1f} s")
    start = time.perf_counter()
    result = run(con, "cells", rules, "geo_parent")
    total = time.perf_counter() - start
    s = result.stats
    print(f"suppressed: primary {s['primary']:,}, complementary {s['complementary']:,}, derived {s['derived']:,}"
          f" ({s['complementary_rounds']} complementary rounds, {s['audit_rounds']} audit rounds)")
    print(f"relation members {s['relation_members']:,}; audited count cells {len(result.audit):,} in "
          f"{result.audit['component'].nunique():,} components (largest {result.audit['variables'].max()} variables)")
    print("seconds: " + ", ".join(f"{k.removeprefix('seconds_')} {v:.1f}" for k, v in s.items()
                                  if k.startswith("seconds_")) + f"; suppress total {total:.1f}")
    print(f"all intervals >= k: {bool(result.audit['ok'].all())}")
    if not args.no_full_audit:
        start = time.perf_counter()
        report = audit(con, "cells", result.cells, rules, "geo_parent")
        print(f"separate audit from scratch: {time.perf_counter() - start:.1f} s, "
              f"{len(report):,} cells, all ok: {bool(report['ok'].all())}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
