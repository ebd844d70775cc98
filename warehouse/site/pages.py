"""A report page's content: headline figures, the programme sections, data quality and the lower
units ranked, each chart with the table behind it, in one language. Everything comes from
`PageData`, i.e. from the page's own product; a suppressed value stays a flag all the way to the
HTML (it is null in the product: there is no number to leak)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from warehouse.site import charts
from warehouse.site.dictionary import indicator_catalogue
from warehouse.site.page_data import LEVELS, PageData, next_year, previous_year, school_months
from warehouse.site.text import FLAG, Words, missing, report_config

RECONCILIATION = ("paid_as_due", "unpaid_due", "paid_not_due", "amount_mismatch")
# The region page's table of its schools: the analyst's drill-down, suppressed cells flagged.
SCHOOL_INDICATORS = ("enrolled_pupils", "enrolled_girls", "tayssir_beneficiaries", "schoolbag_kits_distributed",
                     "boarding_grantees")


class Value(NamedTuple):
    """One row of mart.indicators as a page reads it."""

    month: str | None
    value: float | None
    suppressed: bool
    state: str


@dataclass
class Cell:
    text: str
    numeric: bool = False
    suppressed: bool = False
    provisional: bool = False
    raw: float | None = None


@dataclass
class Table:
    name: str
    columns: list[str]
    rows: list[list[Cell]]


@dataclass
class Figure:
    name: str
    title: str
    note: str = ""
    chart: str = ""  # the chart's markup: an inline SVG, or a heat map's table
    table: Table | None = None


@dataclass
class Section:
    id: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    note: str = ""


@dataclass
class Headline:
    indicator: str
    label: str
    cell: Cell
    change: str = ""
    change_class: str = ""


class Page:
    """The content of the page of one unit in one language."""

    def __init__(self, data: PageData, words: Words):
        self.data, self.w = data, words
        self.catalogue = indicator_catalogue()
        ind = data.indicators
        self.year, self.previous = data.school_year, previous_year(data.school_year)
        self.months = school_months(self.year)
        # one lookup per value instead of a scan of the product's rows: a directorate page reads ~2,000
        # (columns as lists first: iterating pandas string arrays item by item took a fifth of a region page)
        self._rows: dict[tuple, list[Value]] = {}
        make = Value._make
        for r in zip(*(ind[c].tolist() for c in ("indicator", "school_year", "geo_level", "geo_code", "month",
                                                  "value", "suppressed", "approval_state")), strict=True):
            month = r[4] if isinstance(r[4], str) else None
            self._rows.setdefault(r[:4], []).append(make((month, r[5], bool(r[6]), r[7])))
        self.names = {(r.geo_level, r.geo_code): (r.name_ar if words.lang == "ar" else r.name_fr)
                      for r in data.units.itertuples()}

    # --- values ----------------------------------------------------------------------------------
    def name(self, level: str, code: str) -> str:
        return self.names.get((level, code)) or code

    def cell(self, rows: list[Value]) -> Cell:
        """One published value, or the sum of a monthly indicator's months: suppressed when any part
        is, provisional when any part is, missing when there is no row."""
        if not rows:
            return Cell("–", numeric=True)
        provisional = any(r.state == "provisional" for r in rows)
        if any(r.suppressed or missing(r.value) for r in rows):
            return Cell(FLAG, numeric=True, suppressed=True, provisional=provisional)
        value = float(sum(r.value for r in rows))
        return Cell(self.w.number(value), numeric=True, provisional=provisional, raw=value)

    def value_rows(self, indicator: str, year: str | None = None, level: str | None = None,
                   code: str | None = None, month: str | None = None) -> list[Value]:
        """The product's values of one indicator, school year and unit (default: the page's own), one
        month or all of them."""
        key = (indicator, year or self.year, level or self.data.own_level, code if level else self.data.code)
        rows = self._rows.get(key, [])
        return [r for r in rows if r.month == month] if month is not None else rows

    def label(self, indicator: str) -> str:
        entry = self.catalogue.get(indicator)
        return entry.label[self.w.lang] if entry else indicator

    def ratio(self, numerator: Cell, denominator: Cell) -> Cell:
        if numerator.suppressed or denominator.suppressed:
            return Cell(FLAG, numeric=True, suppressed=True)
        if numerator.raw is None or not denominator.raw:
            return Cell("–", numeric=True)
        value = numerator.raw / denominator.raw
        return Cell(self.w.percent(value), numeric=True, raw=value,
                    provisional=numerator.provisional or denominator.provisional)

    # --- the page ------------------------------------------------------------------------------
    def headlines(self) -> list[Headline]:
        out = []
        for indicator in report_config()["headlines"]:
            now = self.cell(self.value_rows(indicator))
            before = self.cell(self.value_rows(indicator, year=self.previous))
            change, css = "", ""
            if now.raw is not None and before.raw:
                delta = (now.raw - before.raw) / before.raw
                change = f"{self.w.signed_percent(delta)} {self.w('change_from', year=self.previous)}"
                css = "up" if delta > 0 else "down" if delta < 0 else ""
            elif now.raw is not None and before.raw is None and not before.suppressed:
                change = self.w("no_previous", year=self.previous)
            out.append(Headline(indicator, self.label(indicator), now, change, css))
        return out

    def sections(self) -> list[Section]:
        return [self.tayssir(), self.schoolbags(), self.grants(), self.quality(), self.ranked()]

    # --- Tayssir -------------------------------------------------------------------------------
    def tayssir(self) -> Section:
        w = self.w
        section = Section("tayssir", w("tayssir"))
        # monthly compliance, this year and the one before
        points, rows = [], []
        for year in (self.previous, self.year):
            beneficiaries = self.cell(self.value_rows("tayssir_beneficiaries", year=year))
            for month in school_months(year):
                compliant = self.cell(self.value_rows("tayssir_compliant_pupils", year=year, month=month))
                if compliant.text == "–":
                    continue
                rate = self.ratio(compliant, beneficiaries)
                if rate.raw is not None:
                    points.append({"month": w.short_month(month), "rate": rate.raw, "year": year})
                if year == self.year:
                    rows.append([Cell(w.month(month)), compliant, beneficiaries, rate])
        figure = Figure("compliance", w("compliance_rate"), w("compliance_note"))
        if points:
            frame = pd.DataFrame(points)
            figure.chart = charts.month_lines(frame, "month", "rate", "year", w, title=w("rate"),
                                              months=[w.short_month(m) for m in self.months])
        figure.table = Table("compliance", [w("month"), self.label("tayssir_compliant_pupils"),
                                                  self.label("tayssir_beneficiaries"), w("rate")], rows)
        section.figures.append(figure)

        # entitlement against paid, and the reconciliation
        amounts = [("tayssir_entitlement_mad", None), ("tayssir_paid_mad", None)] + [
            (f"tayssir_{c}_mad", c) for c in RECONCILIATION]
        bars, table = [], []
        for indicator, _ in amounts:
            value = self.cell(self.value_rows(indicator))
            count = self.cell(self.value_rows(indicator.replace("_mad", "_count"))) if _ else Cell("")
            if value.raw is not None:
                bars.append({"measure": self.label(indicator), "mad": value.raw})
            table.append([Cell(self.label(indicator)), value, count])
        figure = Figure("entitlement_paid", w("entitlement_paid"), w("reconciliation_note"))
        if bars:
            figure.chart = charts.bars(pd.DataFrame(bars), "measure", "mad", w, title=w("amount"),
                                       order=[b["measure"] for b in bars])
        figure.table = Table("entitlement_paid", [w("indicator"), w("amount"), w("reconciliation")], table)
        section.figures.append(figure)
        section.figures.append(self.coverage())
        return section

    def coverage(self) -> Figure:
        w = self.w
        figure = Figure("coverage", f"{w('coverage')} — " + (
            w("by_commune") if self.data.kind == "province" else w("levels_province")), w("coverage_note"))
        units = []
        if self.data.targeting is not None:
            for r in self.data.targeting.itertuples():
                name = (r.name_ar if w.lang == "ar" else r.name_fr) or r.geo_code
                units.append((name, Cell(w.number(r.eligible_pupils), True, raw=float(r.eligible_pupils)),
                              Cell(w.number(r.beneficiaries), True, raw=float(r.beneficiaries)),
                              Cell(w.number(r.exclusion_candidates), True, raw=float(r.exclusion_candidates))))
        else:
            level = LEVELS[self.data.kind]["detail"]
            for code in self._codes(level):
                units.append((self.name(level, code),
                              self.cell(self.value_rows("tayssir_eligible_pupils", level=level, code=code)),
                              self.cell(self.value_rows("tayssir_beneficiaries", level=level, code=code)),
                              self.cell(self.value_rows("tayssir_exclusion_candidates", level=level, code=code))))
        parts = [w("beneficiaries"), w("candidates")]
        bars, rows = [], []
        for name, eligible, beneficiaries, candidates in units:
            covered = (Cell(FLAG, True, True) if eligible.suppressed or candidates.suppressed else
                       Cell(w.number(eligible.raw - candidates.raw), True, raw=eligible.raw - candidates.raw)
                       if eligible.raw is not None and candidates.raw is not None else Cell("–", True))
            rows.append([Cell(name), eligible, beneficiaries, candidates, self.ratio(covered, eligible)])
            if covered.raw is not None and candidates.raw is not None:
                bars += [{"unit": name, "part": parts[0], "pupils": covered.raw},
                         {"unit": name, "part": parts[1], "pupils": candidates.raw}]
        rows.sort(key=lambda r: -(r[1].raw or 0))
        if bars:
            frame = pd.DataFrame(bars)
            top = [r[0].text for r in rows[: report_config()["chart_rows"]]]
            figure.chart = charts.stacked_bars(frame[frame["unit"].isin(top)], "unit", "pupils", "part", w,
                                               title=w("eligible"), parts=parts)
        figure.table = Table("coverage", [w("unit"), w("eligible"), w("beneficiaries"), w("candidates"),
                                                w("coverage_rate")], rows)
        return figure

    def _codes(self, level: str) -> list[str]:
        ind = self.data.indicators
        return sorted(ind.loc[(ind["geo_level"] == level) & (ind["school_year"] == self.year), "geo_code"].unique())

    # --- schoolbags ----------------------------------------------------------------------------
    def schoolbags(self) -> Section:
        w = self.w
        section = Section("schoolbags", w("schoolbags"))
        measures = ["schoolbag_eligible_pupils", "schoolbag_kits_requested", "schoolbag_kits_received",
                    "schoolbag_kits_distributed", "schoolbag_kits_needed_next_year"]
        bars, rows = [], []
        for indicator in measures:
            value = self.cell(self.value_rows(indicator))
            label = (w("forecast_next", year=next_year(self.year)) if indicator.endswith("next_year")
                     else self.label(indicator))
            if value.raw is not None:
                bars.append({"measure": label, "kits": value.raw})
            rows.append([Cell(label), value])
        figure = Figure("schoolbags", w("schoolbags"), w("schoolbags_note"))
        if bars:
            figure.chart = charts.bars(pd.DataFrame(bars), "measure", "kits", w, title=w("value"),
                                       order=[b["measure"] for b in bars])
        figure.table = Table("schoolbags", [w("indicator"), w("value")], rows)
        section.figures.append(figure)
        return section

    # --- boarding and canteens -----------------------------------------------------------------
    def grants(self) -> Section:
        w = self.w
        section = Section("grants", w("grants"))
        level = LEVELS[self.data.kind]["lower"]
        capacity = {(r.geo_level, r.geo_code): float(r.capacity) for r in self.data.capacity.itertuples()
                    if not missing(r.capacity)}
        bars, rows = [], []
        for code in self._codes(level):
            grantees = self.cell(self.value_rows("boarding_grantees", level=level, code=code))
            amount = self.cell(self.value_rows("boarding_grant_mad", level=level, code=code))
            places = capacity.get((level, code))
            if grantees.text == "–" and places is None:
                continue
            name = self.name(level, code)
            rows.append([Cell(name), grantees, amount,
                         Cell(w.number(places), True, raw=places) if places is not None else Cell("–", True)])
            if grantees.raw is not None:
                bars.append({"unit": name, "series": self.label("boarding_grantees"), "pupils": grantees.raw})
            if places is not None:
                bars.append({"unit": name, "series": w("capacity"), "pupils": places})
        figure = Figure("grantees_capacity", w("grantees_capacity"))
        if bars:
            frame = pd.DataFrame(bars)
            top = sorted({b["unit"] for b in bars}, key=lambda u: -max(
                b["pupils"] for b in bars if b["unit"] == u))[: report_config()["chart_rows"]]
            figure.chart = charts.bars(frame[frame["unit"].isin(top)], "unit", "pupils", w, title=w("value"),
                                       colour="series")
        figure.table = Table("grantees_capacity", [w("unit"), self.label("boarding_grantees"),
                                                         self.label("boarding_grant_mad"), w("capacity")], rows)
        section.figures.append(figure)

        meals, rows = [], []
        for month in self.months:
            value = self.cell(self.value_rows("canteen_meals_served", month=month))
            cost = self.cell(self.value_rows("canteen_cost_mad", month=month))
            if value.text == "–":
                continue
            if value.raw is not None:
                meals.append({"month": w.short_month(month), "meals": value.raw})
            rows.append([Cell(w.month(month)), value, cost])
        figure = Figure("meals", w("meals_by_month"))
        if meals:
            figure.chart = charts.month_bars(pd.DataFrame(meals), "month", "meals", w,
                                             months=[w.short_month(m) for m in self.months],
                                             title=self.label("canteen_meals_served"))
        figure.table = Table("meals", [w("month"), self.label("canteen_meals_served"),
                                             self.label("canteen_cost_mad")], rows)
        section.figures.append(figure)
        return section

    # --- data quality --------------------------------------------------------------------------
    def quality(self) -> Section:
        w = self.w
        section = Section("quality", w("quality"))
        level = LEVELS[self.data.kind]["detail"]
        sub = self.data.submission_month
        sub = sub[sub["geo_level"] == level].copy()
        sub["unit"] = [self.name(level, c) for c in sub["geo_code"]]
        sub["month_label"] = [w.short_month(m) for m in sub["month"]]
        limit = report_config()["chart_rows"] * 6
        worst = (sub.groupby("unit")["completeness"].mean().sort_values().index[:limit].tolist())
        for measure in ("completeness", "timeliness"):
            figure = Figure(f"{measure}_map", w(f"{measure}_map"))
            shown = sub[sub["unit"].isin(worst) & sub[measure].notna()]
            if not shown.empty:
                figure.chart = charts.heatmap(shown.assign(unit=pd.Categorical(shown["unit"], worst)),
                                              "month_label", "unit", measure, w,
                                              columns=[w.short_month(m) for m in self.months], title=w(measure),
                                              headers=[w.abbreviated_month(m) for m in self.months])
            values = {(u, m): v for u, m, v in zip(sub["unit"], sub["month"], sub[measure], strict=True)
                      if not missing(v)}
            rows = [[Cell(unit)] + [Cell(w.percent(values[unit, m]), True, raw=values[unit, m])
                                          if (unit, m) in values else Cell("–", True) for m in self.months]
                    for unit in sorted(set(sub["unit"]))]
            figure.table = Table(f"{measure}_map", [w("unit")] + [w.short_month(m) for m in self.months],
                                       rows)
            section.figures.append(figure)

        scores = self.data.quality_score
        figure = Figure("quality_score", w("score_trend"))
        if not scores.empty:
            frame = scores.assign(series=w("score"), month=[w.month(m) for m in scores["run_month"]])
            figure.chart = charts.month_lines(frame, "month", "score", "series", w, months=list(frame["month"]),
                                              title=w("score"), fmt=",.0f")
        figure.table = Table("quality_score", [w("run_month"), w("completeness"), w("timeliness"),
                                                     w("score")],
                                   [[Cell(w.month(r.run_month)), Cell(w.percent(r.completeness), True),
                                     Cell(w.percent(r.timeliness), True), Cell(w.number(r.score, 1), True,
                                                                                raw=r.score)]
                                    for r in scores.itertuples()])
        section.figures.append(figure)

        rules = self.data.rules_failing
        figure = Figure("rules_failing", w("rules_failing"))
        if not rules.empty:
            frame = rules.assign(title=[(r.title_ar if w.lang == "ar" else r.title_fr) or r.rule
                                        for r in rules.itertuples()])
            figure.chart = charts.bars(frame, "title", "issues", w, title=w("issues"))
        figure.table = Table("rules_failing", [w("rule"), w("record_type"), w("issues"), w("rows")],
                                   [[Cell((r.title_ar if w.lang == "ar" else r.title_fr) or r.rule),
                                     Cell(r.record_type), Cell(w.number(r.issues), True, raw=r.issues),
                                     Cell(w.number(r.rows), True, raw=r.rows)] for r in rules.itertuples()])
        section.figures.append(figure)
        section.figures.append(self.outliers())
        section.figures.append(self.approval())
        return section

    def outliers(self) -> Figure:
        w = self.w
        figure = Figure("outliers", w("outliers"))
        rows = []
        for r in self.data.outliers.itertuples():
            suppressed = bool(getattr(r, "suppressed", False))
            value = Cell(FLAG, True, True) if suppressed or missing(r.value) else Cell(
                w.number(r.value, 1) if abs(r.value) < 10 else w.number(r.value), True, raw=r.value)
            school = (r.school_name_ar if w.lang == "ar" else r.school_name_fr) or r.school_code
            reviewer = getattr(r, "reviewed_by", None)
            rows.append([Cell(f"{school} ({r.school_code})"), Cell((r.metric_ar if w.lang == "ar"
                                                                                else r.metric_fr) or r.metric),
                         Cell(w.month(r.month) if r.month else w("year_period")), value,
                         Cell(w.number(r.peer_median, 2), True), Cell(w(f"status_{r.status}")),
                         Cell(reviewer or ""), Cell(r.note or "")])
        if not rows:
            figure.note = w("outliers_none")
        figure.table = Table("outliers", [w("level_school"), w("metric"), w("period"), w("value"),
                                                w("peer_median"), w("status"), w("reviewed_by"), w("note")], rows)
        return figure

    def approval(self) -> Figure:
        w = self.w
        figure = Figure("approval", w("approval"))
        states = self.data.approval[self.data.approval["school_year"] == self.year]
        if states.empty:
            figure.table = Table("approval", [w("levels_province"), w("period"), w("state")], [])
            return figure
        frame = states.assign(
            unit=[(r.province_name_ar if w.lang == "ar" else r.province_name_fr) or r.province_code
                  for r in states.itertuples()],
            period_label=[w("year_period") if p == "year" else w.short_month(p) for p in states["period"]])
        periods = [w.short_month(m) for m in self.months] + [w("year_period")]
        frame = frame.assign(state_label=[w(s) if s in charts.STATE_COLOURS else s for s in frame["state"]])
        figure.chart = charts.heatmap(frame, "period_label", "unit", "state_label", w, columns=periods,
                                      title=w("state"), nominal={w(s): c for s, c in charts.STATE_COLOURS.items()},
                                      headers=[w.abbreviated_month(m) for m in self.months] + [w("year_period")])
        figure.table = Table("approval", [w("levels_province"), w("period"), w("state")],
                                   [[Cell(r.unit), Cell(r.period_label), Cell(r.state_label)]
                                    for r in frame.itertuples()])
        return figure

    # --- the lower units ranked ----------------------------------------------------------------
    def ranked(self) -> Section:
        w = self.w
        level = LEVELS[self.data.kind]["lower"]
        section = Section("ranked", f"{w('ranked')} — {w('levels_' + level)}", note=w("ranked_by"))
        rows, bars = [], []
        for code in self._codes(level):
            expected = self.cell(self.value_rows("files_expected", level=level, code=code))
            received = self.cell(self.value_rows("files_received", level=level, code=code))
            on_time = self.cell(self.value_rows("files_on_time", level=level, code=code))
            completeness = self.ratio(received, expected)
            name = self.name(level, code)
            rows.append([Cell(name), Cell(code),
                         self.cell(self.value_rows("enrolled_pupils", level=level, code=code)),
                         self.cell(self.value_rows("tayssir_beneficiaries", level=level, code=code)),
                         self.cell(self.value_rows("schoolbag_kits_distributed", level=level, code=code)),
                         self.cell(self.value_rows("boarding_grantees", level=level, code=code)),
                         completeness, self.ratio(on_time, received)])
            if completeness.raw is not None:
                bars.append({"unit": name, "completeness": completeness.raw})
        rows.sort(key=lambda r: (r[6].raw is None, r[6].raw if r[6].raw is not None else 0))
        figure = Figure("ranked", section.title)
        if bars:
            frame = pd.DataFrame(bars).sort_values("completeness")
            figure.chart = charts.bars(frame.head(report_config()["chart_rows"]), "unit", "completeness", w,
                                       title=w("completeness"), fmt=".0%",
                                       order=list(frame["unit"].head(report_config()["chart_rows"])))
        figure.table = Table("ranked", [w("unit"), w("code"), self.label("enrolled_pupils"),
                                              self.label("tayssir_beneficiaries"),
                                              self.label("schoolbag_kits_distributed"),
                                              self.label("boarding_grantees"), w("completeness"), w("timeliness")],
                                   rows)
        section.figures.append(figure)
        if self.data.kind == "region":
            section.figures.append(self.region_schools())
        return section

    def region_schools(self) -> Figure:
        """The region's schools, for the AREF analyst who drills down (suppressed cells flagged)."""
        w = self.w
        rows = []
        for code in self._codes("school"):
            rows.append([Cell(self.name("school", code)), Cell(code)]
                        + [self.cell(self.value_rows(i, level="school", code=code)) for i in SCHOOL_INDICATORS])
        return Figure("schools", w("schools_table"), table=Table(
            "schools", [w("level_school"), w("code")] + [self.label(i) for i in SCHOOL_INDICATORS], rows))
