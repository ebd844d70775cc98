"""Small-cell suppression and its LP auditor on hand-made tables whose every suppressed cell and
interval is worked out here by hand (k = 5), plus one generated hierarchy at scale."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from daam.config import CONFIG_DIR, ConfigError
from tests.indicator_names import indicator_names_in_sql
from warehouse import disclosure_audit
from warehouse.disclosure_audit import SolvedComponents, audit
from warehouse.suppression import Rules, load_rules, outlier_bases, run, suppress, unclassified

YEAR = "2022-2023"


# -- helpers -------------------------------------------------------------------------------------

def build(con, rows, school_province, province_region=None):
    """School rows (school, month or None, indicator, value) -> table `cells` with the rows of every
    level (each the sum of the level below, as rollup.sql does) and table `geo_parent`."""
    province_region = province_region or {p: "R1" for p in school_province.values()}
    con.execute("""create or replace table geo_parent (geo_level varchar, geo_code varchar, parent_level varchar,
                   parent_code varchar)""")
    con.executemany("insert into geo_parent values (?, ?, ?, ?)",
                    [("school", s, "province", p) for s, p in school_province.items()]
                    + [("province", p, "region", r) for p, r in province_region.items()]
                    + [("region", r, "national", "MA") for r in sorted(set(province_region.values()))])
    con.execute("""create or replace table cells (geo_level varchar, geo_code varchar, geo_name_fr varchar,
                   geo_name_ar varchar, school_year varchar, month varchar, indicator varchar, value double)""")
    school_rows = pd.DataFrame(rows, columns=["geo_code", "month", "indicator", "value"]).astype(
        {"geo_code": object, "month": object, "indicator": object, "value": float})
    con.register("school_rows", school_rows)
    con.execute("""insert into cells select 'school', geo_code, null, null, $year, month, indicator, value
                   from school_rows""", {"year": YEAR})
    con.unregister("school_rows")
    for level in ("province", "region", "national"):
        con.execute("""insert into cells
                       select g.parent_level, g.parent_code, null, null, c.school_year, c.month, c.indicator,
                              sum(c.value)
                       from cells c join geo_parent g on g.geo_level = c.geo_level and g.geo_code = c.geo_code
                       where g.parent_level = $level group by all""", {"level": level})


def cells_of(frame, reason=None):
    """{(geo_code, month, indicator)} of a suppression or audit frame (month None for yearly)."""
    if reason is not None:
        frame = frame[frame["reason"] == reason]
    return {(r.geo_code, None if pd.isna(r.month) else r.month, r.indicator) for r in frame.itertuples()}


def pattern(cells):
    """A hand pattern: (geo_level, geo_code, month, indicator) -> the suppression frame's shape."""
    return pd.DataFrame([(lvl, code, YEAR, month, ind) for lvl, code, month, ind in cells],
                        columns=["geo_level", "geo_code", "school_year", "month", "indicator"])


def intervals(report):
    """{(geo_code, month, indicator): (lower, upper)} of an audit frame."""
    return {(r.geo_code, None if pd.isna(r.month) else r.month, r.indicator): (r.lower, r.upper)
            for r in report.itertuples()}


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def check_safe(con, result, rules, again=True):
    """The pattern returned by suppress is clean for the auditor, run again from scratch, and
    (`again`) a second run gives the same pattern and ends with that same audit."""
    report = audit(con, "cells", result, rules, "geo_parent")
    assert report["ok"].all(), report[~report["ok"]]
    if not again:
        return report
    final = run(con, "cells", rules, "geo_parent")
    pd.testing.assert_frame_equal(final.cells, result)
    pd.testing.assert_frame_equal(final.audit.drop(columns="component"), report.drop(columns="component"))
    return report


# -- configuration -------------------------------------------------------------------------------

def test_every_indicator_of_indicators_sql_is_classified(rules):
    names = indicator_names_in_sql()
    # the parser must see the first and the last branches, or this test proves nothing
    assert {"enrolled_pupils", "tayssir_amount_mismatch_count", "canteen_cost_mad", "files_on_time"} <= names
    assert len(names) >= 25
    assert unclassified(names, rules) == []
    assert unclassified([*names, "tayssir_new_pupils"], rules) == ["tayssir_new_pupils"]
    # and nothing classified that indicators.sql does not produce (a renamed indicator)
    assert rules.classified == names


def test_rules_are_consistent(rules):
    assert rules.k == 5
    assert rules.parts == (("enrolled_girls", "enrolled_pupils"),
                           ("tayssir_exclusion_candidates", "tayssir_eligible_pupils"))
    assert rules.year_sums == ()
    assert rules.derived["tayssir_entitlement_mad"] == ("tayssir_compliant_pupils",)
    assert {"files_expected", "files_received", "files_on_time", "canteen_meals_served"} <= set(rules.not_suppressed)
    metrics = yaml.safe_load((CONFIG_DIR / "outliers.yaml").read_text(encoding="utf-8"))["metrics"]
    assert set(outlier_bases()) == set(metrics)
    assert outlier_bases()["entitlement_per_beneficiary"] == "tayssir_compliant_pupils"


def test_load_rules_refuses_a_derived_value_of_an_unknown_count(tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text("k: 5\ncounts: [a]\nderived: {a_mad: [b]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="a_mad"):
        load_rules(bad)
    bad.write_text("k: 5\ncounts: [a]\nnot_suppressed: [a]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="both"):
        load_rules(bad)


def test_an_unclassified_indicator_in_the_table_is_refused(con, rules):
    build(con, [("S1", None, "enrolled_pupils", 3), ("S2", None, "pupils_of_a_new_kind", 3)], {"S1": "P1", "S2": "P1"})
    with pytest.raises(ValueError, match="pupils_of_a_new_kind"):
        suppress(con, "cells", rules, "geo_parent")


# -- (a) one small school in a directorate -------------------------------------------------------

def test_a_lone_small_school_gets_the_next_smallest_school_as_complement(con, rules):
    values = {"S1": 3, "S2": 40, "S3": 25, "S4": 60, "S5": 0, "S6": 25}  # S5 a true zero, S3/S6 tie
    build(con, [(s, None, "enrolled_pupils", v) for s, v in values.items()], {s: "P1" for s in values})
    result = suppress(con, "cells", rules, "geo_parent")
    assert cells_of(result, "primary") == {("S1", None, "enrolled_pupils")}
    # S5 (0) is smaller but zeros are published; S3 and S6 tie at 25: the smaller geo_code wins
    assert cells_of(result, "complementary") == {("S3", None, "enrolled_pupils")}
    assert set(result["reason"]) == {"primary", "complementary"}
    report = check_safe(con, result, rules)
    # S1 + S3 = 153 - 40 - 60 - 0 - 25 = 28, each >= 1
    assert intervals(report) == {("S1", None, "enrolled_pupils"): (1, 27), ("S3", None, "enrolled_pupils"): (1, 27)}
    assert set(report["width"]) == {26}


# -- (b) girls within pupils ---------------------------------------------------------------------

GIRLS = {"S1": (5, 2), "S2": (40, 20), "S3": (50, 25)}  # school: (pupils, girls)


def girls_rows():
    return [r for s, (p, g) in GIRLS.items()
            for r in ((s, None, "enrolled_pupils", p), (s, None, "enrolled_girls", g))]


def test_girls_pinned_by_their_school_pupils_make_the_pupils_suppressed_too(con, rules):
    build(con, girls_rows(), {s: "P1" for s in GIRLS})
    result = suppress(con, "cells", rules, "geo_parent")
    assert cells_of(result, "primary") == {("S1", None, "enrolled_girls")}
    # S2's girls (20 < 25) complement S1's in the directorate; S1's 2 girls + 3 boys under 5 published
    # pupils leave the girls within [1, 5] (4 wide): S1's pupils go, then S2's pupils complement them
    assert cells_of(result, "complementary") == {("S2", None, "enrolled_girls"), ("S1", None, "enrolled_pupils"),
                                                 ("S2", None, "enrolled_pupils")}
    report = check_safe(con, result, rules)
    # girls S1 + S2 = 22, pupils S1 + S2 = 45, girls <= pupils at each school
    assert intervals(report) == {("S1", None, "enrolled_girls"): (1, 21), ("S2", None, "enrolled_girls"): (1, 21),
                                 ("S1", None, "enrolled_pupils"): (1, 44), ("S2", None, "enrolled_pupils"): (1, 44)}


def test_a_small_number_of_boys_hides_the_girls(con, rules):
    """Boys are never published, but pupils - girls would give them: 3 boys among 30 pupils make
    the school's girls a primary cell, protected like any other."""
    schools = {"S1": (30, 27), "S2": (40, 20), "S3": (50, 25), "S4": (45, 20)}
    rows = [r for s, (p, g) in schools.items()
            for r in ((s, None, "enrolled_pupils", p), (s, None, "enrolled_girls", g))]
    build(con, rows, {s: "P1" for s in schools})
    result = suppress(con, "cells", rules, "geo_parent")
    assert cells_of(result, "primary") == {("S1", None, "enrolled_girls")}
    # the smallest other girls: S2 and S4 tie at 20, the smaller code wins
    assert cells_of(result, "complementary") == {("S2", None, "enrolled_girls")}
    report = check_safe(con, result, rules)
    lower, upper = intervals(report)[("S1", None, "enrolled_girls")]
    assert upper - lower >= rules.k  # so S1's boys (30 - girls) are at least k wide too


def test_auditor_bounds_girls_by_the_published_pupils_of_their_school(con, rules):
    build(con, girls_rows(), {s: "P1" for s in GIRLS})
    girls = [("school", "S1", None, "enrolled_girls"), ("school", "S2", None, "enrolled_girls")]
    # the directorate relation alone is covered (S1 + S2 = 22), but S1's 5 published pupils cap its
    # girls at 5: [1, 5], 4 wide; S2's girls = 22 - S1's: [17, 21]
    report = audit(con, "cells", pattern(girls), rules, "geo_parent")
    assert intervals(report) == {("S1", None, "enrolled_girls"): (1, 5), ("S2", None, "enrolled_girls"): (17, 21)}
    assert not report["ok"].any()
    # primary only: the directorate's 47 girls minus 20 and 25 published
    report = audit(con, "cells", pattern(girls[:1]), rules, "geo_parent")
    assert intervals(report) == {("S1", None, "enrolled_girls"): (2, 2)}


def test_what_the_relations_leave_narrow_together_the_audit_widens(con, rules):
    # S2 is a girls' school (20 pupils, 20 girls). S1's 3 girls get S2's 20 as complement, and each
    # relation alone leaves them wide: S1's girls within [1, 7] (7 pupils), S1 + S2 = 23 girls. But
    # together S2's girls <= 20 pupils forces S1's >= 3: [3, 7], 4 wide. Only the LP sees it; the
    # audit round adds the next smallest girls' cell of the directorate, S3's 25.
    schools = {"S1": (7, 3), "S2": (20, 20), "S3": (50, 25), "S4": (60, 30)}
    rows = [r for s, (p, g) in schools.items()
            for r in ((s, None, "enrolled_pupils", p), (s, None, "enrolled_girls", g))]
    build(con, rows, {s: "P1" for s in schools})
    two = pattern([("school", "S1", None, "enrolled_girls"), ("school", "S2", None, "enrolled_girls")])
    assert intervals(audit(con, "cells", two, rules, "geo_parent")) == {
        ("S1", None, "enrolled_girls"): (3, 7), ("S2", None, "enrolled_girls"): (16, 20)}
    result = suppress(con, "cells", rules, "geo_parent")
    assert result.attrs["stats"]["audit_rounds"] == 2
    assert cells_of(result, "primary") == {("S1", None, "enrolled_girls")}
    assert cells_of(result, "complementary") == {("S2", None, "enrolled_girls"), ("S3", None, "enrolled_girls")}
    report = check_safe(con, result, rules)
    # S1 + S2 + S3 = 48 girls, S1 <= 7, S2 <= 20, S3 <= 50
    assert intervals(report) == {("S1", None, "enrolled_girls"): (1, 7), ("S2", None, "enrolled_girls"): (1, 20),
                                 ("S3", None, "enrolled_girls"): (21, 46)}


# -- (c) a month recoverable from its year -------------------------------------------------------

def test_a_month_recoverable_from_the_year_is_protected(con, tmp_path):
    config = tmp_path / "suppression.yaml"
    config.write_text("k: 5\ncounts: [pupils_month, pupils_year]\n"
                      "year_sums: [{year: pupils_year, months: pupils_month}]\n", encoding="utf-8")
    rules = load_rules(config)
    months = {("S1", "2022-10"): 3, ("S1", "2022-11"): 20, ("S2", "2022-10"): 30, ("S2", "2022-11"): 30}
    rows = [(s, m, "pupils_month", v) for (s, m), v in months.items()]
    rows += [("S1", None, "pupils_year", 23), ("S2", None, "pupils_year", 60)]
    build(con, rows, {"S1": "P1", "S2": "P1"})
    # without complementary cells in the months, S1's October = its year - November
    oct_only = pattern([("school", "S1", "2022-10", "pupils_month"), ("school", "S2", "2022-10", "pupils_month")])
    naive = audit(con, "cells", oct_only, rules, "geo_parent")
    assert intervals(naive)[("S1", "2022-10", "pupils_month")] == (3, 3)
    result = suppress(con, "cells", rules, "geo_parent")
    assert cells_of(result, "primary") == {("S1", "2022-10", "pupils_month")}
    assert cells_of(result, "complementary") == {("S2", "2022-10", "pupils_month"), ("S1", "2022-11", "pupils_month"),
                                                 ("S2", "2022-11", "pupils_month")}
    report = check_safe(con, result, rules)
    # a + b = 23, c + d = 60, a + c = 33, b + d = 50, all >= 1: a in [1, 22], c = 33 - a, d = 27 + a
    assert intervals(report) == {("S1", "2022-10", "pupils_month"): (1, 22), ("S1", "2022-11", "pupils_month"): (1, 22),
                                 ("S2", "2022-10", "pupils_month"): (11, 32), ("S2", "2022-11", "pupils_month"): (28, 49)}


# -- (d) suppressed cells whose sum is too small --------------------------------------------------

@pytest.mark.parametrize("small, naive_upper", [((1, 2), 2), ((3, 3), 5)])
def test_suppressed_cells_summing_to_little_are_widened(con, rules, small, naive_upper):
    # (1, 2): 3 < k. (3, 3): 6 >= k, but each is within [1, 5], 4 wide: the width rule catches it
    values = {"S1": small[0], "S2": small[1], "S3": 40, "S4": 50}
    build(con, [(s, None, "enrolled_pupils", v) for s, v in values.items()], {s: "P1" for s in values})
    naive = audit(con, "cells", pattern([("school", "S1", None, "enrolled_pupils"),
                                         ("school", "S2", None, "enrolled_pupils")]), rules, "geo_parent")
    assert set(intervals(naive).values()) == {(1, naive_upper)}
    assert not naive["ok"].any()
    result = suppress(con, "cells", rules, "geo_parent")
    assert cells_of(result, "primary") == {("S1", None, "enrolled_pupils"), ("S2", None, "enrolled_pupils")}
    assert cells_of(result, "complementary") == {("S3", None, "enrolled_pupils")}
    report = check_safe(con, result, rules)
    total = sum(small) + 40
    assert intervals(report)[("S1", None, "enrolled_pupils")] == (1, total - 2)


# -- (e) zeros, files, derived values ------------------------------------------------------------

def test_zeros_and_files_stay_published_and_amounts_follow_their_counts(con, rules):
    schools = {"S1": (2, 3), "S2": (0, 0), "S3": (30, 32), "S4": (45, 47)}  # (compliant Oct, beneficiaries)
    rows = []
    for s, (compliant, beneficiaries) in schools.items():
        rows += [(s, "2022-10", "tayssir_compliant_pupils", compliant),
                 (s, "2022-10", "tayssir_entitlement_mad", compliant * 60.0),
                 (s, None, "tayssir_beneficiaries", beneficiaries),
                 (s, None, "tayssir_paid_mad", 0.0 if s == "S1" else beneficiaries * 180.0),  # S1 unpaid
                 (s, None, "files_expected", 2), (s, None, "files_received", 1), (s, None, "files_on_time", 1),
                 (s, "2022-10", "canteen_meals_served", 3), (s, "2022-10", "canteen_cost_mad", 4.5)]
    build(con, rows, {s: "P1" for s in schools})
    result = suppress(con, "cells", rules, "geo_parent")
    counts = {("S1", "2022-10", "tayssir_compliant_pupils"), ("S3", "2022-10", "tayssir_compliant_pupils"),
              ("S1", None, "tayssir_beneficiaries"), ("S3", None, "tayssir_beneficiaries")}
    assert cells_of(result, "primary") | cells_of(result, "complementary") == counts
    # S1's paid amount is 0 but hides with its 3 beneficiaries: an amount is not a count, its zero not a fact
    assert cells_of(result, "derived") == {("S1", "2022-10", "tayssir_entitlement_mad"),
                                           ("S3", "2022-10", "tayssir_entitlement_mad"),
                                           ("S1", None, "tayssir_paid_mad"), ("S3", None, "tayssir_paid_mad")}
    assert not {c for c in cells_of(result) if c[0] == "S2"}  # zeros published, never complementary
    assert not {c for c in cells_of(result) if c[2].startswith(("files_", "canteen_"))}
    check_safe(con, result, rules)


def test_a_monthly_amount_of_a_yearly_count_follows_the_yearly_cell(con):
    rules = Rules(k=5, counts=("boarding_grantees",), derived={"boarding_month_mad": ("boarding_grantees",)})
    rows = [("S1", None, "boarding_grantees", 2), ("S2", None, "boarding_grantees", 9),
            ("S3", None, "boarding_grantees", 12)]
    rows += [(s, m, "boarding_month_mad", 100.0) for s in ("S1", "S2", "S3") for m in ("2022-10", "2022-11")]
    build(con, rows, {"S1": "P1", "S2": "P1", "S3": "P1"})
    result = suppress(con, "cells", rules, "geo_parent")
    assert cells_of(result, "derived") == {(s, m, "boarding_month_mad") for s in ("S1", "S2")
                                           for m in ("2022-10", "2022-11")}


def test_a_parent_mapping_by_school_year_follows_a_school_that_moved(con, rules):
    # S1 (3 pupils) is in P1 in y1 and in P2 in y2: its complement is taken from that year's directorate
    rows = [(lvl, code, year, None, "enrolled_pupils", float(v)) for lvl, code, year, v in (
        ("school", "S1", "y1", 3), ("school", "S2", "y1", 30), ("school", "S3", "y1", 40),
        ("province", "P1", "y1", 33), ("province", "P2", "y1", 40),
        ("school", "S1", "y2", 3), ("school", "S2", "y2", 30), ("school", "S3", "y2", 40),
        ("province", "P1", "y2", 30), ("province", "P2", "y2", 43))]
    con.execute("""create table cells (geo_level varchar, geo_code varchar, school_year varchar, month varchar,
                   indicator varchar, value double)""")
    con.executemany("insert into cells values (?, ?, ?, ?, ?, ?)", rows)
    con.execute("""create table gp as select * from (values
                   ('school', 'S1', 'province', 'P1', 'y1'), ('school', 'S2', 'province', 'P1', 'y1'),
                   ('school', 'S3', 'province', 'P2', 'y1'), ('school', 'S1', 'province', 'P2', 'y2'),
                   ('school', 'S2', 'province', 'P1', 'y2'), ('school', 'S3', 'province', 'P2', 'y2'))
                   t(geo_level, geo_code, parent_level, parent_code, school_year)""")
    result = suppress(con, "cells", rules, "gp")
    assert {(r.geo_code, r.school_year, r.reason) for r in result.itertuples()} == {
        ("S1", "y1", "primary"), ("S2", "y1", "complementary"), ("S1", "y2", "primary"), ("S3", "y2", "complementary")}


# -- (f) the auditor on weak patterns ------------------------------------------------------------

def test_auditor_intervals_of_weak_patterns_by_hand(con, rules):
    values = {"A": 3, "B": 40, "C": 2, "D": 50}
    build(con, [(s, None, "enrolled_pupils", v) for s, v in values.items()],
          {"A": "P1", "B": "P1", "C": "P2", "D": "P2"}, {"P1": "R1", "P2": "R1"})
    # primary only: each small school is its directorate's total minus the published others
    report = audit(con, "cells", pattern([("school", "A", None, "enrolled_pupils"),
                                          ("school", "C", None, "enrolled_pupils")]), rules, "geo_parent")
    assert intervals(report) == {("A", None, "enrolled_pupils"): (3, 3), ("C", None, "enrolled_pupils"): (2, 2)}
    assert list(report["width"]) == [0, 0] and not report["ok"].any()
    # A and B and their directorate hidden: P1 = R1 - P2 = 95 - 52 = 43 exactly; A + B = 43
    report = audit(con, "cells", pattern([("school", "A", None, "enrolled_pupils"),
                                          ("school", "B", None, "enrolled_pupils"),
                                          ("province", "P1", None, "enrolled_pupils")]), rules, "geo_parent")
    assert intervals(report) == {("A", None, "enrolled_pupils"): (1, 42), ("B", None, "enrolled_pupils"): (1, 42),
                                 ("P1", None, "enrolled_pupils"): (43, 43)}
    assert report.set_index("geo_code")["ok"].to_dict() == {"A": True, "B": True, "P1": False}
    # everything hidden: only the lower bounds 1 remain, MA = R1 = P1 + P2 = A + B + C + D >= 4
    everything = [("national", "MA"), ("region", "R1"), ("province", "P1"), ("province", "P2"),
                  *(("school", s) for s in values)]
    report = audit(con, "cells", pattern([(lvl, code, None, "enrolled_pupils") for lvl, code in everything]),
                   rules, "geo_parent")
    assert intervals(report)[("MA", None, "enrolled_pupils")] == (4, math.inf)
    assert intervals(report)[("A", None, "enrolled_pupils")] == (1, math.inf)
    assert report["ok"].all() and (report["width"] == math.inf).all()
    # a zero can not be a suppressed cell: zeros are published
    build(con, [("A", None, "enrolled_pupils", 0), ("B", None, "enrolled_pupils", 7)], {"A": "P1", "B": "P1"})
    with pytest.raises(ValueError, match="zero"):
        audit(con, "cells", pattern([("school", "A", None, "enrolled_pupils")]), rules, "geo_parent")


# -- (g) generated at scale ----------------------------------------------------------------------

def generated_rows(seed=7, regions=3, provinces=4, schools=60):
    rng = np.random.default_rng(seed)
    rows, tree, province_region = [], {}, {}
    months = ["2022-10", "2022-11", "2022-12"]
    for r in range(regions):
        for p in range(provinces):
            province = f"P{r}{p}"
            province_region[province] = f"R{r}"
            for s in range(schools):
                code = f"{province}S{s:03d}"
                tree[code] = province
                if rng.random() < 0.05:
                    continue  # did not report: no row at all
                pupils = int(rng.lognormal(np.log(110), 1.2)) if rng.random() > 0.03 else 0
                girls = int(rng.binomial(pupils, 0.48))
                rows += [(code, None, "enrolled_pupils", pupils), (code, None, "enrolled_girls", girls),
                         (code, None, "files_expected", 3), (code, None, "files_received", int(rng.integers(0, 4)))]
                if rng.random() < 0.6:
                    for m in months:
                        compliant = int(rng.binomial(pupils, 0.12))
                        rows += [(code, m, "tayssir_compliant_pupils", compliant),
                                 (code, m, "tayssir_entitlement_mad", compliant * 60.0)]
                if rng.random() < 0.3:
                    grantees = int(rng.binomial(pupils, 0.06))
                    rows += [(code, None, "boarding_grantees", grantees),
                             (code, None, "boarding_grant_mad", grantees * 700.0)]
    return rows, tree, province_region


def test_generated_hierarchy_is_safe_after_suppression_and_not_before(con, rules):
    rows, tree, province_region = generated_rows()
    build(con, rows, tree, province_region)
    result = suppress(con, "cells", rules, "geo_parent")
    stats = result.attrs["stats"]
    assert stats["primary"] > 200 and stats["complementary"] > 10 and stats["derived"] > 200
    report = check_safe(con, result, rules, again=False)
    assert len(report) == stats["primary"] + stats["complementary"]
    values = con.execute("select geo_level, geo_code, coalesce(month, '') m, indicator, value from cells").df()
    merged = result.assign(m=result["month"].fillna("")).merge(values, on=["geo_level", "geo_code", "m", "indicator"])
    assert len(merged) == len(result)
    assert (merged["value"][merged["reason"] != "derived"] > 0).all()  # no zero suppressed
    small = values["indicator"].isin(rules.counts) & (values["value"] > 0) & (values["value"] < rules.k)
    wide = values.pivot_table(index=["geo_level", "geo_code", "m"], columns="indicator", values="value")
    boys = wide["enrolled_pupils"] - wide["enrolled_girls"]
    few_boys = wide[(boys > 0) & (boys < rules.k) & (wide["enrolled_girls"] >= rules.k)]
    assert len(few_boys) > 0  # the generated schools include some with 1-4 boys
    assert small.sum() + len(few_boys) == stats["primary"]
    assert not merged["indicator"].str.startswith("files_").any()
    # the naive pattern (primary only) does not survive the audit
    naive = audit(con, "cells", result[result["reason"] == "primary"], rules, "geo_parent")
    assert (~naive["ok"]).sum() > 20
    # the cells of a derived amount are exactly those of its count
    derived = {(c, m) for c, m, i in cells_of(result, "derived") if i == "tayssir_entitlement_mad"}
    counts = {(c, m) for c, m, i in cells_of(result) if i == "tayssir_compliant_pupils"}
    assert derived == counts


def test_the_audit_reuses_the_saved_solutions_of_unchanged_components_only(con, rules, tmp_path, monkeypatch):
    """Between builds the audit keeps its components' solutions (a file beside the warehouse): a
    build with the same values solves nothing and gives the same pattern and audit; a build where
    one small school changed solves that school's components again and gives what a build from
    nothing gives."""
    rows, tree, province_region = generated_rows()
    build(con, rows, tree, province_region)
    solved = SolvedComponents()
    first = run(con, "cells", rules, "geo_parent", solved=solved)
    path = tmp_path / "solutions.json"
    solved.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    known = len(SolvedComponents.load(path).known)  # one per distinct programme: equal ones are solved once
    assert 30 < known <= first.audit["component"].nunique()

    with monkeypatch.context() as m:  # nothing to solve
        m.setattr(disclosure_audit, "_solve_component", lambda *a: pytest.fail("a component was solved again"))
        again = run(con, "cells", rules, "geo_parent", solved=SolvedComponents.load(path))
    pd.testing.assert_frame_equal(again.cells, first.cells)
    pd.testing.assert_frame_equal(again.audit, first.audit)
    assert again.stats["audit_components_reused"] == known

    # one small school's pupils change (its girls stay within them): its components change
    school, small = next((c, v) for c, m, i, v in rows if i == "enrolled_pupils" and 2 <= v < rules.k)
    changed_rows = [(c, m, i, (small - 1 if i == "enrolled_pupils" else min(v, small - 1)) if c == school
                     and i in ("enrolled_pupils", "enrolled_girls") else v) for c, m, i, v in rows]
    build(con, changed_rows, tree, province_region)
    changed = run(con, "cells", rules, "geo_parent", solved=SolvedComponents.load(path))
    fresh = run(con, "cells", rules, "geo_parent")
    pd.testing.assert_frame_equal(changed.cells, fresh.cells)
    pd.testing.assert_frame_equal(changed.audit, fresh.audit)
    assert 0 < changed.stats["audit_components_reused"] < known
    assert fresh.stats["audit_components_reused"] == 0

    path.write_text("{not json", encoding="utf-8")  # an unreadable file: solve everything again
    assert SolvedComponents.load(path).known == {}
