"""What one report page shows, read from its own level's product and nothing else.

`read_page(con, kind, code, school_year)` returns the frames a page is drawn from. The product has
already applied the level's rules (levels.md): the region and national products hold suppressed
values as null with `flag` 'c' and say whether each value is signed (`approval_state`); the
directorate's product holds its own live values, whose state is read from its approval status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from warehouse.schema import SQL

# The level of a product's own unit, and the levels below it that its page shows: `lower` is
# ranked, `detail` is the heat maps' and coverage's unit (the nation's detail is its directorates).
LEVELS = {
    "province": {"own": "province", "lower": "school", "detail": "school"},
    "region": {"own": "region", "lower": "province", "detail": "province"},
    "national": {"own": "national", "lower": "region", "detail": "province"},
}
STATE_OF = {"approved": "approved", "accepted": "accepted"}  # any other state publishes provisional values


def previous_year(school_year: str) -> str:
    start = int(school_year[:4])
    return f"{start - 1}-{start}"


def next_year(school_year: str) -> str:
    start = int(school_year[:4])
    return f"{start + 1}-{start + 2}"


def school_months(school_year: str) -> list[str]:
    """September to June of a school year, 'YYYY-MM'."""
    start = int(school_year[:4])
    return [f"{start}-{m:02d}" for m in range(9, 13)] + [f"{start + 1}-{m:02d}" for m in range(1, 7)]


@dataclass
class PageData:
    kind: str
    code: str
    school_year: str
    product: dict
    years: list[str]
    indicators: pd.DataFrame
    units: pd.DataFrame
    submission_month: pd.DataFrame
    quality_score: pd.DataFrame
    rules_failing: pd.DataFrame
    outliers: pd.DataFrame
    approval: pd.DataFrame
    capacity: pd.DataFrame
    targeting: pd.DataFrame | None
    deadlines: pd.DataFrame

    @property
    def own_level(self) -> str:
        return LEVELS[self.kind]["own"]

    @property
    def has_data(self) -> bool:
        return bool((self.indicators["school_year"] == self.school_year).any())

    def last_complete_month(self, today: date | None = None) -> str | None:
        """The latest school month whose attendance deadline had passed when the product was built
        and for which the page's unit has attendance (Tayssir compliance) values."""
        built = self.product.get("built_at")
        cutoff = (built.date() if isinstance(built, datetime) else today or date.today())
        passed = set(self.deadlines.loc[pd.to_datetime(self.deadlines["deadline"]).dt.date < cutoff, "month"])
        own = self.indicators[(self.indicators["geo_level"] == self.own_level)
                              & (self.indicators["school_year"] == self.school_year)
                              & self.indicators["month"].notna()]
        reported = set(own["month"])
        months = [m for m in school_months(self.school_year) if m in passed and m in reported]
        return months[-1] if months else None


def _frame(con, name: str, params: dict | None = None) -> pd.DataFrame:
    return SQL.query(con, name, params).df()


def _has_table(con, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? and "
                            "table_name = ?", [schema, table]).fetchall()[0][0])


def product_years(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in SQL.query(con, "site/years.sql").fetchall()]


def read_page(con: duckdb.DuckDBPyConnection, kind: str, code: str, school_year: str) -> PageData:
    levels = LEVELS[kind]
    shown = sorted({levels["own"], levels["lower"], levels["detail"]} | ({"school"} if kind == "region" else set()))
    previous = previous_year(school_year)
    product = _frame(con, "site/product.sql").iloc[0].to_dict()
    indicators = _frame(con, "site/indicators.sql", {"year": school_year, "previous": previous, "levels": shown})
    approval = _frame(con, "site/approval.sql", {"year": school_year, "previous": previous})
    indicators = _with_publication_columns(indicators, con, approval)
    return PageData(
        kind=kind, code=code, school_year=school_year, product=product, years=product_years(con),
        indicators=indicators,
        units=_frame(con, "site/units.sql", {"year": school_year, "levels": shown}),
        submission_month=_frame(con, "site/submission_month.sql", {"year": school_year, "levels": shown}),
        quality_score=_frame(con, "site/quality_score.sql", {"year": school_year, "level": levels["own"], "code": code}),
        rules_failing=_frame(con, "site/rules_failing.sql", {"year": school_year, "n": 10}),
        outliers=_frame(con, "site/outliers.sql", {"year": school_year}),
        approval=approval,
        capacity=_frame(con, "site/boarding_capacity.sql", {"year": school_year}),
        targeting=(_frame(con, "site/targeting_by_commune.sql", {"year": school_year})
                   if kind == "province" and _has_table(con, "mart.tayssir_targeting_by_commune") else None),
        deadlines=_frame(con, "site/deadlines.sql", {"year": school_year}),
    )


def _with_publication_columns(frame: pd.DataFrame, con, approval: pd.DataFrame) -> pd.DataFrame:
    """The directorate's product holds live values, never suppressed: give its rows the columns the
    region and national products carry, the state coming from the directorate's approval status
    (a month's values follow the month's unit, yearly values the year's)."""
    if "suppressed" not in frame:
        frame = frame.assign(suppressed=False, flag=None)
    if "approval_state" not in frame:
        states = {(r.school_year, r.period): STATE_OF.get(r.state, "provisional") for r in approval.itertuples()}
        frame = frame.assign(approval_state=[
            states.get((y, m if isinstance(m, str) else "year"), "provisional")
            for m, y in zip(frame["month"], frame["school_year"], strict=True)])
    frame["suppressed"] = frame["suppressed"].fillna(False).astype(bool)
    return frame
