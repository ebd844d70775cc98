"""Row defects injected into demo tables, each breaking exactly one rule of
configs/quality_rules.yaml, without cascades: error defects only touch rows whose loss changes no
other record (the generator passes those rows as `free`), except that a pupil whose roster row
becomes invalid keeps his attendance rows, each then recorded as a `pupil_not_on_roster` defect
(they load once the roster is corrected)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import numpy as np

from daam.config import Settings, read_yaml
from daam.demo import names
from daam.demo.writers import Fmt, Table

RULES = {
    "students": ["massar_code_format", "required_value_missing", "gender_unknown", "level_unknown", "date_invalid",
                 "age_level_mismatch", "duplicate_key_conflict", "duplicate_key_identical"],
    "attendance": ["required_value_missing", "number_negative", "absence_days_range", "duplicate_key_conflict",
                   "duplicate_key_identical", "pupil_not_on_roster"],
    "tayssir_beneficiaries": ["required_value_missing", "date_invalid", "duplicate_key_conflict",
                              "duplicate_key_identical", "pupil_not_on_roster"],
    "boarding_grants": ["required_value_missing", "date_invalid", "duplicate_key_conflict", "duplicate_key_identical",
                        "pupil_not_on_roster"],
    "schoolbags": ["required_value_missing", "level_unknown", "number_negative", "kits_requested_above_eligible",
                   "duplicate_key_conflict", "duplicate_key_identical"],
    "canteen_meals": ["required_value_missing", "number_negative"],
    "tayssir_payments": ["required_value_missing", "number_negative", "duplicate_key_conflict",
                         "duplicate_key_identical", "pupil_not_on_roster"],
}
ALL_RULES = sorted({r for rules in RULES.values() for r in rules})
# Roster defects after which the pupil is not on the accepted roster.
OFF_ROSTER = {"massar_code_format", "required_value_missing", "gender_unknown", "level_unknown", "date_invalid",
              "duplicate_key_conflict"}
BLANKABLE = {"students": ["last_name_ar", "first_name_ar"], "tayssir_beneficiaries": ["guardian_cin"],
             "attendance": ["unjustified_absence_days"], "schoolbags": ["enrolled", "kit_type"],
             "boarding_grants": ["grant_type", "start_month"], "canteen_meals": ["meal_days", "beneficiaries"],
             "tayssir_payments": ["guardian_cin", "status"]}
NEGATABLE = {"attendance": "justified_absence_days", "schoolbags": "forecast_next_year",
             "canteen_meals": "meals_served", "tayssir_payments": "amount_mad"}
DATES = {"students": "birth_date", "tayssir_beneficiaries": "enrolled_on", "boarding_grants": "decision_date"}
KEY = {"schoolbags": "level", "tayssir_payments": "payment_ref"}  # others: massar_code
BAD_GENDERS = ["X", "غير محدد", "Inconnu", "N"]
BAD_LEVELS = ["7AP", "السنة السابعة ابتدائي", "CE2", "4AC"]


@cache
def severities() -> dict[str, str]:
    """Rule id -> severity, from configs/quality_rules.yaml."""
    return {k: v["severity"] for k, v in read_yaml("quality_rules.yaml")["rules"].items()}


@dataclass
class Injector:
    """Injects defects into one table. `free` rows may carry an error; `fake_row` builds a row for a
    pupil on no roster; `school_days` bounds attendance."""

    settings: Settings
    table: Table
    fmt: Fmt
    rng: np.random.Generator
    school_year: str
    free: set[int]
    fake_row: Callable[[], dict] | None = None
    school_days: int | None = None
    used: set[int] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)  # roster codes taken off the accepted roster
    found: list[tuple[int, str, str]] = field(default_factory=list)  # (internal row, rule, column)

    def __post_init__(self) -> None:
        self.n0 = len(self.table)
        self.key = KEY.get(self.table.rtype, "massar_code")

    def _pick(self, pool: set[int] | range, ok: Callable[[int], bool] = lambda i: True) -> int | None:
        """A random unused clean row of the pool passing `ok` (random probes, then a full scan)."""
        lst = pool if isinstance(pool, range) else sorted(pool)
        if not lst:
            return None
        good = lambda i: i not in self.used and not self.table.defect[i] and ok(i)
        for k in self.rng.integers(len(lst), size=24):
            if good(lst[k]):
                self.used.add(lst[k])
                return lst[k]
        cands = [i for i in lst if good(i)]
        if not cands:
            return None
        i = cands[int(self.rng.integers(len(cands)))]
        self.used.add(i)
        return i

    def _mark(self, i: int, rule: str, col: str) -> None:
        self.table.defect[i] = rule
        self.found.append((i, rule, col))
        self.used.add(i)

    def _copy(self, i: int, rule: str, changes: dict, adjacent: bool) -> int:
        row = self.table.row(i) | changes
        school = self.table.school[i] if self.table.school is not None else None
        after = i if adjacent else None
        j = self.table.append(row, rule, after=after, school=school)
        self.used.add(j)
        return j

    def inject(self, rule: str) -> bool:
        """Inject one defect of `rule`; False when this table offers no row for it."""
        t, d, rt = self.table, self.table.data, self.table.rtype
        any_rows = range(self.n0)
        if rule == "massar_code_format":
            i = self._pick(self.free)
            if i is None:
                return False
            code = d["massar_code"][i]
            k = 1 + int(self.rng.integers(9))
            self.removed.add(code)
            d["massar_code"][i] = code[:k] + code[k + 1:]
            self._mark(i, rule, "massar_code")
        elif rule == "required_value_missing":
            pool = self.free if rt in ("students", "tayssir_beneficiaries", "attendance") else any_rows
            cols = [c for c in BLANKABLE[rt] if c not in self.fmt.omit]
            i = self._pick(pool)
            if i is None or not cols:
                return False
            col = cols[int(self.rng.integers(len(cols)))]
            d[col][i] = None
            self._off(i)
            self._mark(i, rule, col)
        elif rule == "gender_unknown":
            i = self._pick(self.free)
            if i is None:
                return False
            t.set_raw("gender", i, BAD_GENDERS[int(self.rng.integers(len(BAD_GENDERS)))])
            self._off(i)
            self._mark(i, rule, "gender")
        elif rule == "level_unknown":
            if "level" in self.fmt.omit:
                return False
            i = self._pick(self.free if rt == "students" else any_rows)
            if i is None:
                return False
            t.set_raw("level", i, BAD_LEVELS[int(self.rng.integers(len(BAD_LEVELS)))])
            self._off(i)
            self._mark(i, rule, "level")
        elif rule == "date_invalid":
            col = DATES[rt]
            pool = any_rows if rt == "boarding_grants" else self.free
            i = self._pick(pool, lambda i: d[col][i] is not None)
            if i is None:
                return False
            y = d[col][i].year
            bad = [f"31/02/{y}", f"30-02-{y}", f"{y}-13-45", f"32/01/{y}", "ABCD"]
            t.set_raw(col, i, bad[int(self.rng.integers(len(bad)))])
            self._off(i)
            self._mark(i, rule, col)
        elif rule == "number_negative":
            col = NEGATABLE[rt]
            pool = self.free if rt == "attendance" else any_rows
            i = self._pick(pool, lambda i: d[col][i] is not None)
            if i is None:
                return False
            d[col][i] = -(d[col][i] or 0) or -int(1 + self.rng.integers(3))
            self._mark(i, rule, col)
        elif rule == "absence_days_range":
            i = self._pick(self.free)
            if i is None or self.school_days is None:
                return False
            d["justified_absence_days"][i] = self.school_days - d["unjustified_absence_days"][i] + int(
                1 + self.rng.integers(3))
            self._mark(i, rule, "justified_absence_days")
        elif rule == "age_level_mismatch":
            i = self._pick(any_rows)
            if i is None:
                return False
            nominal = self.settings.levels[d["level"][i]].nominal_age
            start = int(self.school_year[:4])
            d["birth_date"][i] = date(start - nominal - 8, int(1 + self.rng.integers(8)), int(1 + self.rng.integers(28)))
            self._mark(i, rule, "birth_date")
        elif rule == "kits_requested_above_eligible":
            i = self._pick(any_rows, lambda i: (d["eligible"][i] or 0) > 0)
            if i is None:
                return False
            d["kits_requested"][i] = d["eligible"][i] + int(1 + self.rng.integers(3))
            self._mark(i, rule, "kits_requested")
        elif rule == "duplicate_key_conflict":
            pool = self.free if rt in ("students", "tayssir_beneficiaries", "attendance") else any_rows
            i = self._pick(pool)
            if i is None:
                return False
            changes = self._conflict_change(i)
            if changes is None:
                return False
            self._off(i)
            j = self._copy(i, rule, changes, adjacent=bool(self.rng.random() < 0.3))
            self._mark(i, rule, self.key)
            self.found.append((j, rule, self.key))
        elif rule == "duplicate_key_identical":
            i = self._pick(any_rows)
            if i is None:
                return False
            j = self._copy(i, rule, {}, adjacent=bool(self.rng.random() < 0.5))
            self.found.append((j, rule, self.key))
        elif rule == "pupil_not_on_roster":
            if self.fake_row is None:
                return False
            pos = int(self.rng.integers(self.n0)) if self.n0 else None
            j = self.table.append(self.fake_row(), rule, after=pos)
            self.used.add(j)
            self.found.append((j, rule, "massar_code"))
        else:
            raise ValueError(f"unknown rule {rule}")
        return True

    def _off(self, i: int) -> None:
        if self.table.rtype == "students":
            self.removed.add(self.table.data["massar_code"][i])

    def _conflict_change(self, i: int) -> dict | None:
        d, rt = self.table.data, self.table.rtype
        if rt == "students":
            pool = names.FEMALE_NAMES if d["gender"][i] == "F" else names.MALE_NAMES
            others = [fr for _, fr in pool if fr != d["first_name_fr"][i]]
            return {"first_name_fr": others[int(self.rng.integers(len(others)))]}
        if rt == "attendance":
            u, j, sd = d["unjustified_absence_days"][i], d["justified_absence_days"][i], self.school_days or 0
            if u + j < sd:
                return {"unjustified_absence_days": u + 1}
            return {"unjustified_absence_days": u - 1} if u > 0 else {"justified_absence_days": j - 1} if j else None
        if rt == "tayssir_beneficiaries":
            return {"guardian_relation": "father" if d["guardian_relation"][i] != "father" else "mother"}
        if rt == "boarding_grants":
            dd = d["decision_date"][i]
            return {"decision_date": (dd or date(int(self.school_year[:4]), 9, 15)) + timedelta(days=7)}
        if rt == "schoolbags":
            return {"forecast_next_year": (d["forecast_next_year"][i] or 0) + 3}
        if rt == "tayssir_payments":
            if d["paid_on"][i] is not None:
                return {"paid_on": d["paid_on"][i] + timedelta(days=3)}
            return {"status": "cancelled" if d["status"][i] != "cancelled" else "unclaimed"}
        return None

    def run(self, rate: float, required: set[str]) -> None:
        """Inject the rules still `required` (removing those done), then ~rate x rows random ones."""
        rules = RULES[self.table.rtype]
        for rule in [r for r in rules if r in required]:
            if self.inject(rule):
                required.discard(rule)
        k = int(self.n0 * rate + self.rng.random())
        for _ in range(k):
            self.inject(rules[int(self.rng.integers(len(rules)))])
