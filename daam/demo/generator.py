"""Entry point of the demo-data generator: writes a landing zone (contract section 2) of synthetic
school records, plus `.daam-demo/` with the truth of every row written and the defects injected.

Streaming: the referential is built first (a few thousand rows at most), then each school is
populated, written for every school year and dropped; only a province's Tayssir payment lines
are kept until its payment files are written.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from daam.config import Settings, load_settings
from daam.demo import names
from daam.demo.defects import RULES, Injector, severities
from daam.demo.population import (
    LEVEL_IDX,
    LEVELS,
    Pupils,
    YearData,
    initial_pupils,
    massar_code,
    payable_months,
    promote,
    year_data,
)
from daam.demo.referential import (
    REFERENTIAL_COLUMNS,
    UNKNOWN_SCHOOL_NUMBER,
    School,
    finalise_dates,
    province_schools,
    rng_for,
    scale_provinces,
)
from daam.demo.writers import (
    TITLES,
    Fmt,
    Headers,
    Preamble,
    Table,
    make_format,
    pick_variant,
    rendered,
    truth_values,
    write_csv,
    write_xlsx,
)

DEMO_DIR = ".daam-demo"
META_COLUMNS = ["file_path", "sheet", "row_number", "school_code", "school_year", "province_code", "period", "defect"]
DEFECT_COLUMNS = ["file_path", "sheet", "row_number", "rule", "severity", "column_name"]
FILE_DEFECT_COLUMNS = ["file_path", "reason_kind"]
MANIFEST_COLUMNS = ["file_path", "record_type", "format", "school_code", "school_year", "province_code", "period",
                    "rows", "sheets", "header_row", "file_defect", "received_at"]
MISSING_COLUMNS = ["record_type", "school_code", "school_year", "province_code", "period"]
LATE_PERCENT = 8       # files dropped after their deadline (timeliness), whatever the defect rate
MISSING_PER_MILLE = 25  # monthly files never sent (completeness), only when defects > 0
BOARDING = ["externe", "demi_pensionnaire", "interne"]
GRANTS = ["internat", "demi_pension", "cantine_college"]
STATUS = ["active", "suspended", "withdrawn"]
RELATION = ["mother", "father", "guardian"]
SHEET_NAMES = {"students": "ListEleve", "attendance": "Absences"}


def generate(out: Path, scale: str = "tiny", seed: int = 0, years: list[str] = ["2021-2022", "2022-2023"],  # noqa: B006
             defects: float = 0.0, truth: bool = True) -> dict:
    """Write a demo landing zone under `out` and return its summary.

    scale: tiny (Nador + Driouch, ~5 schools each), province (Nador), region (Oriental), nation.
    Same arguments give byte-identical files. `defects` is the fraction of rows given a row defect
    (0 = clean data, no file defects either); `truth` writes `.daam-demo/truth/<record_type>.csv`.
    The summary counts schools, pupils, files and rows per record type, defects per rule, seconds.
    """
    t0 = time.perf_counter()
    settings = load_settings()
    for y in years:
        settings.programme_rules(y)  # an unknown year is a ConfigError naming it
    g = _Gen(settings, Path(out), scale, seed, list(years), float(defects), truth)
    try:
        g.run()
    finally:
        g.close()
    summary = g.summary()
    (g.demo / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    return summary


class _Sink:
    """A CSV under .daam-demo/, opened on first write."""

    def __init__(self, path: Path, header: list[str], enabled: bool = True) -> None:
        self.path, self.header, self.enabled, self.fh, self.w = path, header, enabled, None, None

    def rows(self, rows) -> None:
        if not self.enabled:
            return
        if self.fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = self.path.open("w", encoding="utf-8", newline="")
            self.w = csv.writer(self.fh, lineterminator="\n")
            self.w.writerow(self.header)
        self.w.writerows(rows)

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
        elif self.enabled:  # always leave the file, with its header
            self.rows([])
            self.fh.close()


@dataclass
class _PayLine:
    school: str
    massar: str
    cin: str
    amounts: list[int]


@dataclass
class _Gen:
    settings: Settings
    out: Path
    scale: str
    seed: int
    years: list[str]
    rate: float
    truth: bool
    part: str | None = None  # a province worker writes .daam-demo/parts/<province>/

    def __post_init__(self) -> None:
        self.demo = self.out / DEMO_DIR
        self.demo.mkdir(parents=True, exist_ok=True)
        s = self.settings
        base = self.demo / "parts" / self.part if self.part else self.demo
        self.truth_sinks = {rt: _Sink(base / "truth" / f"{rt}.csv", [*s.record_types[rt].columns, *META_COLUMNS],
                                      self.truth) for rt in s.record_types}
        self.defect_sink = _Sink(base / "defects.csv", DEFECT_COLUMNS)
        self.file_defect_sink = _Sink(base / "file_defects.csv", FILE_DEFECT_COLUMNS)
        self.missing_sink = _Sink(base / "missing.csv", MISSING_COLUMNS)
        # (beneficiaries, meal days, meals served) already written: see the canteen files below
        self.canteen_seen: set[tuple[int, int, int]] = set()
        self.manifest = _Sink(base / "files.csv", MANIFEST_COLUMNS)
        self.headers = {rt: Headers.of(s, rt) for rt in s.record_types}
        self.provinces = scale_provinces(s, self.scale)
        self.files = dict.fromkeys(s.record_types, 0)
        self.rows = dict.fromkeys(s.record_types, 0)
        self.defects = dict.fromkeys(sorted({r for v in RULES.values() for r in v}), 0)
        self.pupils = dict.fromkeys(self.years, 0)
        self.n_schools = dict.fromkeys(self.years, 0)
        self.required: dict[tuple[str, str], set[str]] = {}
        self.fake_serial: dict[int, int] = {}
        self.file_defects = 0
        self.fmt_count: dict[str, int] = {}
        self.xlsx_count: dict[str, int] = {}

    # ------------------------------------------------------------------ orchestration
    def run(self) -> None:
        n = len(self.years)
        schools = {p: province_schools(self.settings, p, self.scale, self.seed, n) for p in self.provinces}
        for lst in schools.values():
            finalise_dates(lst, self.years)
        self._referential([s for p in self.provinces for s in schools[p]])
        workers = min(int(os.environ.get("DAAM_DEMO_WORKERS", os.cpu_count() or 1)), len(self.provinces))
        if workers < 2 or self.scale == "tiny":  # tiny cycles formats in generation order: keep it sequential
            for p_pos, p in enumerate(self.provinces):
                self._province(p, p_pos, schools[p])
            return
        # provinces in parallel, each writing its own part of the .daam-demo files, merged in order
        jobs = [(self.out, self.scale, self.seed, self.years, self.rate, self.truth, p, p_pos, schools[p])
                for p_pos, p in enumerate(self.provinces)]
        shutil.rmtree(self.demo / "parts", ignore_errors=True)
        for sink in self._sinks():  # nothing buffered may be inherited by the workers
            if sink.fh is not None:
                sink.fh.flush()
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as ex:
            for p, counts in zip(self.provinces, ex.map(_province_job, jobs)):
                for name in ("files", "rows", "defects", "pupils"):
                    for k, v in counts[name].items():
                        getattr(self, name)[k] += v
                self.file_defects += counts["file_defects"]
                part = self.demo / "parts" / p
                for sink in self._sinks():
                    src = part / sink.path.relative_to(self.demo)
                    if sink.enabled and src.exists():
                        with src.open(encoding="utf-8", newline="") as fh:
                            fh.readline()
                            sink.rows([])
                            shutil.copyfileobj(fh, sink.fh)
                shutil.rmtree(part)
        (self.demo / "parts").rmdir()

    def _province(self, p: str, p_pos: int, schools: list[School]) -> None:
        n = len(self.years)
        if self.rate > 0:
            self.required.update({(p, rt): set(rules) for rt, rules in RULES.items()})
        pay: dict[int, list[_PayLine]] = {i: [] for i in range(n)}
        for school in schools:
            self._school(school, pay)
        for i in range(n):
            self._payments(p, i, pay[i])
        if self.rate > 0 and p_pos == 0:
            self._file_defects(schools)

    def _sinks(self) -> list[_Sink]:
        return [*self.truth_sinks.values(), self.defect_sink, self.file_defect_sink, self.missing_sink, self.manifest]

    def close(self) -> None:
        for sink in self._sinks():
            sink.close()

    def summary(self) -> dict:
        return {
            "scale": self.scale, "seed": self.seed, "years": self.years, "defect_rate": self.rate,
            "provinces": self.provinces, "schools": self.n_schools, "pupils": self.pupils,
            "files": self.files, "rows": self.rows, "defects": self.defects, "file_defects": self.file_defects,
            "truth": self.truth,
        }

    def _referential(self, schools: list[School]) -> None:
        for i, year in enumerate(self.years):
            rel = f"reference/schools/{year[:4]}-09-01.csv"
            listed = [s for s in schools if s.listed(i)]
            self.n_schools[year] = sum(s.active(i) for s in listed)
            rows = [s.referential_row(i) for s in listed]
            path = self.out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8-sig", newline="") as fh:
                w = csv.DictWriter(fh, REFERENTIAL_COLUMNS, lineterminator="\n")
                w.writeheader()
                w.writerows(rows)
            tr = [[*s.truth_row(i).values(), rel, "", k + 2, s.code, year, s.province, "", ""]
                  for k, s in enumerate(listed)]
            self.truth_sinks["schools"].rows(tr)
            self.files["schools"] += 1
            self.rows["schools"] += len(rows)
            published = datetime(int(year[:4]), 9, 1, 9, 0)
            os.utime(self.out / rel, (published.timestamp(), published.timestamp()))
            self.manifest.rows([[rel, "schools", "csv_fr_bom", "", year, "", "", len(rows), 0, 1, "",
                                 published.isoformat()]])

    def _school(self, school: School, pay: dict[int, list[_PayLine]]) -> None:
        pupils: Pupils | None = None
        for i, year in enumerate(self.years):
            if not school.active(i):
                if pupils is not None:
                    break
                continue
            if pupils is None:
                pupils = initial_pupils(school, self.settings, self.seed, year, i)
            else:
                pupils = promote(pupils, school, self.settings, self.seed, year, i)
            yd = year_data(pupils, school, self.settings, self.seed, year, i)
            self.pupils[year] += len(pupils)
            self._school_year(school, i, year, yd, pay[i])

    # ------------------------------------------------------------------ one school year
    def _school_year(self, school: School, i: int, year: str, yd: YearData, pay: list[_PayLine]) -> None:
        s, p = self.settings, yd.pupils
        rng = rng_for(self.seed, 20, i, school.number)
        drng = rng_for(self.seed, 21, i, school.number)  # defects draw apart: clean values never depend on them
        n = len(p)
        months = s.months_of(year)
        # students
        fmt = self._fmt("students", (school.number, i))
        gender = np.where(p.gender == 1, "F", "M")
        fnames = [names.FEMALE_NAMES[f] if g else names.MALE_NAMES[f] for f, g in zip(p.fn, p.gender)]
        places = _places(school, p.bplace, fmt.lang)
        roster = Table("students", {
            "massar_code": yd.codes.tolist(), "last_name_ar": [names.LAST_NAMES[k][0] for k in p.ln],
            "first_name_ar": [f[0] for f in fnames], "last_name_fr": [names.LAST_NAMES[k][1] for k in p.ln],
            "first_name_fr": [f[1] for f in fnames], "gender": gender.tolist(),
            "birth_date": p.birth.astype(object).tolist(), "birth_place": places,
            "level": [LEVELS[lv] for lv in p.level], "class_name": list(yd.classes),
            "repeating": p.repeating.tolist(), "boarding_status": [BOARDING[b] for b in yd.boarding],
            "guardian_cin": p.cin.tolist(), "disability": p.disability.tolist(),
        })
        free = set(np.flatnonzero(~yd.ben & (yd.grant < 0)).tolist())
        inj = self._inject(roster, fmt, drng, year, school.province, free)
        removed = inj.removed if inj else set()
        self._emit(roster, fmt, f"{year}/students/{school.code}", school, year, None, inj)
        # Tayssir beneficiaries
        active_year = yd.ben & (yd.status == 0)
        bi = np.flatnonzero(yd.ben)
        if len(bi):
            fmt = self._fmt("tayssir_beneficiaries", (school.number, i))
            gname = [_guardian(p, k, fmt.lang) for k in bi]
            tab = Table("tayssir_beneficiaries", {
                "massar_code": yd.codes[bi].tolist(), "guardian_cin": p.cin[bi].tolist(), "guardian_name": gname,
                "guardian_relation": [RELATION[r] for r in p.grel[bi]],
                "enrolled_on": [yd.enrolled_on[k] for k in bi], "status": [STATUS[x] for x in yd.status[bi]],
            })
            free_t = set(np.flatnonzero(yd.status[bi] != 0).tolist())
            inj = self._inject(tab, fmt, drng, year, school.province, free_t,
                               lambda: {"massar_code": self._fake(school), "guardian_cin": p.cin[0][:2] + "40404",
                                        "guardian_name": "", "guardian_relation": "mother",
                                        "enrolled_on": date(int(year[:4]), 9, 20), "status": "active"})
            self._emit(tab, fmt, f"{year}/tayssir_beneficiaries/{school.code}", school, year, None, inj)
        # attendance, one file per month. A pupil whose roster row is quarantined stays in the school's
        # attendance, as in a real school: those rows are `pupil_not_on_roster` until the roster is fixed.
        ki = np.arange(n)
        off_roster = [k for k, c in enumerate(yd.codes) if c in removed]
        free_a = set(np.flatnonzero(~active_year[ki]).tolist()) - set(off_roster)
        for m, month in enumerate(months):
            fmt = self._fmt("attendance", (school.number, i, m))
            sd = yd.school_days[m]
            tab = Table("attendance", {
                "massar_code": yd.codes[ki].tolist(), "unjustified_absence_days": yd.unjust[ki, m].tolist(),
                "justified_absence_days": yd.just[ki, m].tolist(), "school_days": [sd] * len(ki),
            })
            if self._not_sent("attendance", school, year, month):
                continue
            inj = self._inject(tab, fmt, drng, year, school.province, set(free_a),
                               lambda sd=sd: {"massar_code": self._fake(school), "unjustified_absence_days": 1,
                                              "justified_absence_days": 0, "school_days": sd}, sd, off_roster)
            self._emit(tab, fmt, f"{year}/attendance/{month}/{school.code}", school, year, month, inj)
        # schoolbags
        elig = s.programme_rules(year)["schoolbags"]["eligibility"][school.milieu]
        levels = [lv for lv in school.levels if lv in elig and (p.level == LEVEL_IDX[lv]).any()]
        if school.cycle in ("primaire", "college") and levels:
            fmt = self._fmt("schoolbags", (school.number, i))
            enrolled = [int((p.level == LEVEL_IDX[lv]).sum()) for lv in levels]
            short = [int(rng.integers(0, 3)) if rng.random() < 0.3 else 0 for _ in levels]
            received = [max(e - sh, 0) for e, sh in zip(enrolled, short)]
            prev = {lv: int((p.level == LEVEL_IDX[lv] - 1).sum()) for lv in levels}
            tab = Table("schoolbags", {
                "level": levels, "enrolled": enrolled, "eligible": list(enrolled), "kit_type": [elig[lv] for lv in levels],
                "kits_requested": list(enrolled), "kits_received": received,
                "kits_distributed": [max(r - int(rng.random() < 0.2), 0) for r in received],
                "forecast_next_year": [round((e if lv == school.levels[0] else prev[lv]) * rng.uniform(0.9, 1.1))
                                       for lv, e in zip(levels, enrolled)],
            })
            inj = self._inject(tab, fmt, drng, year, school.province, set())
            self._emit(tab, fmt, f"{year}/schoolbags/{school.code}", school, year, None, inj)
        # boarding grants
        gi = yd.grant_info.get("index")
        if school.has_boarding and gi is not None and len(gi):
            fmt = self._fmt("boarding_grants", (school.number, i))
            info = yd.grant_info
            tab = Table("boarding_grants", {
                "massar_code": yd.codes[gi].tolist(), "grant_type": [GRANTS[x] for x in yd.grant[gi]],
                "decision_date": info["decision"], "start_month": [months[x] for x in info["start"]],
                "end_month": [months[x] if x >= 0 else None for x in info["end"]],
                "status": ["withdrawn" if w else "granted" for w in info["withdrawn"]],
            })
            inj = self._inject(tab, fmt, drng, year, school.province, set(),
                               lambda: {"massar_code": self._fake(school), "grant_type": "demi_pension",
                                        "decision_date": date(int(year[:4]), 9, 25), "start_month": months[0],
                                        "end_month": None, "status": "granted"})
            self._emit(tab, fmt, f"{year}/boarding_grants/{school.code}", school, year, None, inj)
        # canteen meals (rural primary with a canteen), one file per month
        if school.rural_primary and school.has_canteen and n:
            ben = max(1, round(n * rng.uniform(0.75, 1.0)))
            for m, month in enumerate(months):
                fmt = self._fmt("canteen_meals", (school.number, i, m))
                days = yd.school_days[m] - int(rng.integers(0, 3))
                served = ben * days - int(rng.integers(0, max(1, ben * days // 100) + 1))
                # A one-row CSV with the same figures as another file has the same bytes, and the
                # loader rightly takes it for that file sent twice (status duplicate). Real months
                # and schools differ, so keep every canteen file's figures distinct in a province.
                while (ben, days, served) in self.canteen_seen and served > 0:
                    served -= 1
                self.canteen_seen.add((ben, days, served))
                tab = Table("canteen_meals", {"beneficiaries": [ben], "meal_days": [days], "meals_served": [served]})
                if self._not_sent("canteen_meals", school, year, month):
                    continue
                inj = self._inject(tab, fmt, drng, year, school.province, set())
                self._emit(tab, fmt, f"{year}/canteen_meals/{month}/{school.code}", school, year, month, inj)
        # Tayssir payment lines for the province files
        # The operator pays from its own records: a month whose attendance file the school never
        # sent is still paid when the pupil was compliant (daam sees a payment it cannot justify).
        paid = payable_months(yd, s, year)
        rates = s.programme_rules(year)["tayssir"]["monthly_amount_mad"]
        month_idx = {mm: k for k, mm in enumerate(s.calendar["months"])}
        inst = s.programme_rules(year)["tayssir"]["instalments"]
        for k in np.flatnonzero(active_year):
            rate = rates[LEVELS[p.level[k]]]
            amounts = [rate * int(sum(paid[k, month_idx[mm]] for mm in inst[j])) for j in sorted(inst)]
            pay.append(_PayLine(school.code, str(yd.codes[k]), str(p.cin[k]), amounts))

    def _payments(self, province: str, i: int, lines: list[_PayLine]) -> None:
        year = self.years[i]
        s = self.settings
        months = s.months_of(year)
        month_of = dict(zip(s.calendar["months"], months))
        inst = s.programme_rules(year)["tayssir"]["instalments"]
        for j, key in enumerate(sorted(inst)):
            rows = [ln for ln in lines if ln.amounts[j] > 0]
            if not rows:
                continue
            rng = rng_for(self.seed, 30, i, int(province), int(key))
            m_from, m_to = month_of[inst[key][0]], month_of[inst[key][-1]]
            status = rng.choice(3, size=len(rows), p=[0.9, 0.08, 0.02])
            last = date(int(m_to[:4]), int(m_to[5:]), 1)
            lag = rng.integers(35, 120, len(rows))
            data = {
                "payment_ref": [f"TYS-{year[:4]}-{province}-{key}-{k + 1:06d}" for k in range(len(rows))],
                "guardian_cin": [ln.cin for ln in rows], "massar_code": [ln.massar for ln in rows],
                "period_from": [m_from] * len(rows), "period_to": [m_to] * len(rows),
                "amount_mad": [ln.amounts[j] for ln in rows], "status": [STATUS_PAY[x] for x in status],
                "paid_on": [last + timedelta(days=int(d)) if x == 0 else None for x, d in zip(status, lag)],
            }
            tab = Table("tayssir_payments", data, school=[ln.school for ln in rows])
            fmt = self._fmt("tayssir_payments", (province, i, key))
            template = {"guardian_cin": rows[0].cin, "period_from": m_from, "period_to": m_to, "amount_mad": 180,
                        "status": "paid", "paid_on": last + timedelta(days=40)}
            refs = iter([f"TYS-{year[:4]}-{province}-{key}-{k:06d}" for k in range(900_001, 900_500)])
            inj = self._inject(tab, fmt, rng_for(self.seed, 31, i, int(province), int(key)), year, province, set(),
                               partial(self._fake_payment_row, template, refs, list(s.provinces).index(province)))
            self._emit(tab, fmt, f"{year}/tayssir_payments/{province}_{key}", None, year, None, inj,
                       province=province)

    # ------------------------------------------------------------------ helpers
    def _fmt(self, rtype: str, key: tuple) -> Fmt:
        n = self.fmt_count.get(rtype, 0)
        self.fmt_count[rtype] = n + 1
        variant, x, y = pick_variant(rtype, key, self.scale, n)
        if x < 0:  # tiny: XLSX options from the record type's XLSX counter
            x = self.xlsx_count.get(rtype, 0)
            self.xlsx_count[rtype] = x + (variant == "xlsx_massar")
        return make_format(rtype, variant, x, y)

    def _inject(self, table: Table, fmt: Fmt, rng: np.random.Generator, year: str, province: str, free: set[int],
                fake=None, school_days: int | None = None, off_roster: list[int] = ()) -> Injector | None:
        """Inject defects into `table`; rows in `off_roster` belong to pupils whose roster row is
        quarantined, so they are `pupil_not_on_roster` and get no other defect."""
        if self.rate <= 0 or not len(table):
            return None
        inj = Injector(self.settings, table, fmt, rng, year, free, fake, school_days)
        for i in off_roster:
            inj._mark(i, "pupil_not_on_roster", "massar_code")
        inj.run(self.rate, self.required.setdefault((province, table.rtype), set()))
        return inj

    def _hash(self, text: str) -> int:
        """A deterministic draw that consumes no random stream: file times and missing files must
        not change any other value written."""
        return int(hashlib.sha256(f"{self.seed}|{text}".encode()).hexdigest()[:12], 16)

    def _is_missing(self, record_type: str, school: School, month: str) -> bool:
        return self.rate > 0 and self._hash(f"missing|{record_type}|{school.code}|{month}") % 1000 < MISSING_PER_MILLE

    def _not_sent(self, record_type: str, school: School, year: str, month: str) -> bool:
        """A monthly file the school never sends (with defects only), recorded in missing.csv."""
        if not self._is_missing(record_type, school, month):
            return False
        self.missing_sink.rows([[record_type, school.code, year, school.province, month]])
        return True

    def _received_at(self, rel: str, record_type: str, year: str, period: str | None) -> datetime:
        """When the file reached the landing zone: before its deadline, or for LATE_PERCENT of the
        files up to 30 days after it."""
        h = self._hash(f"received|{rel}")
        due = self.settings.deadline(record_type, year, period) or date(int(year[:4]), 9, 20)
        if h % 100 < LATE_PERCENT:
            day = due + timedelta(days=1 + (h // 100) % 30)
        else:
            day = due - timedelta(days=(h // 100) % 20)
        return datetime(day.year, day.month, day.day, 8 + (h // 10_000) % 10, (h // 1_000_000) % 60)

    def _fake(self, school: School) -> str:
        k = self.fake_serial.get(school.number, 9_000)
        self.fake_serial[school.number] = k + 1
        return massar_code(self.seed, school.number, k, "Q")

    def _fake_payment_row(self, template: dict, refs, p_idx: int) -> dict:
        """A payment line for a pupil on no roster of the province (codes of school number 99000 + p)."""
        number = 99_000 + p_idx
        k = self.fake_serial.get(number, 0)
        self.fake_serial[number] = k + 1
        return template | {"payment_ref": next(refs), "massar_code": massar_code(self.seed, number, k, "Q")}

    def _emit(self, table: Table, fmt: Fmt, stem: str, school: School | None, year: str, period: str | None,
              inj: Injector | None, province: str | None = None, preamble_code: str | None = None,
              file_defect: str = "", record: bool = True) -> str:
        """Write one file of a table, then its truth rows, defects and manifest line."""
        s = self.settings
        rt = table.rtype
        rel = f"{stem}.{'xlsx' if fmt.xlsx else 'csv'}"
        province = province or (school.province if school else "")
        order = table.order
        cols = [c for c in s.record_types[rt].columns if c in table.data and c not in fmt.omit]
        disp = rendered(s, table, fmt, cols)
        hdr = self.headers[rt]
        head = [hdr.text(c, fmt, k) for k, c in enumerate(cols)]
        header_row = 1
        if fmt.xlsx:
            if school is not None:
                pre = Preamble(s.regions[school.region].name_ar, s.provinces[school.province].name_ar,
                               school.name_ar, preamble_code or school.code, year, period, TITLES[rt])
                plain = None
            else:
                pre = None
                pv = s.provinces[province]
                plain = [["CNRA - Programme Tayssir : état des paiements"], ["Direction provinciale :",
                                                                             f"{pv.code} {pv.name_fr}"],
                         ["Versement :", stem[-1]], ["Année scolaire :", year.replace("-", "/")], []]
            if fmt.per_class:
                groups: dict[str, list[int]] = {}
                for k in order:
                    groups.setdefault(table.data["class_name"][k], []).append(k)
                names_sorted = sorted(groups, key=lambda c: (LEVEL_IDX[table.data["level"][groups[c][0]]], c))
                sheets = [(c, groups[c], s.levels[table.data["level"][groups[c][0]]].label_ar, c) for c in names_sorted]
            else:
                sheets = [(SHEET_NAMES.get(rt, "Feuil1"), order, None, None)]
            sub = [hdr.fr[c] for c in cols] if fmt.subheader and pre is not None else None
            where = write_xlsx(self.out / rel, sheets, head, sub, [disp[c] for c in cols], fmt, pre, len(table),
                               (0,), plain)
            first = next(iter(w for w in where if w), None)
            header_row = (first[1] - 1 - (1 if sub else 0)) if first else 0
            n_sheets = len(sheets)
        else:
            lines = write_csv(self.out / rel, head, [disp[c] for c in cols], order, fmt)
            where = [("", ln) for ln in lines]
            n_sheets = 0
        received = self._received_at(rel, rt, year, period)
        os.utime(self.out / rel, (received.timestamp(), received.timestamp()))
        if not record:
            return rel
        self.files[rt] += 1
        self.rows[rt] += len(table)
        self.manifest.rows([[rel, rt, fmt.describe(), school.code if school else "", year, province, period or "",
                             len(table), n_sheets, header_row, file_defect, received.isoformat()]])
        if self.truth:
            tv = truth_values(s, table)
            for c in fmt.omit:  # school_days falls back on the calendar, level/class on the sheet name
                if c not in ("school_days", "level", "class_name"):
                    tv[c] = [""] * len(table)
            n = len(order)
            codes = [table.school[k] for k in order] if table.school is not None else [school.code] * n
            cols_out = [[c[k] for k in order] for c in tv.values()]
            cols_out += [[rel] * n, [where[k][0] for k in order], [where[k][1] for k in order], codes, [year] * n,
                         [province] * n, [period or ""] * n, [table.defect[k] for k in order]]
            self.truth_sinks[rt].rows(zip(*cols_out))
        if inj is not None and inj.found:
            sev = severities()
            self.defect_sink.rows([rel, where[k][0], where[k][1], rule, sev[rule], col]
                                  for k, rule, col in sorted(inj.found, key=lambda x: (where[x[0]], x[1])))
            for _, rule, _ in inj.found:
                self.defects[rule] += 1
        return rel

    def _file_defects(self, schools: list[School]) -> None:
        """Files rejected whole: empty, missing a required column, unknown school, code mismatch."""
        year = self.years[0]
        lycee = next(s for s in schools if s.cycle == "lycee")
        college = next((s for s in schools if s.has_boarding), None)
        s = self.settings
        # 0-byte file
        rel = f"{year}/tayssir_beneficiaries/{lycee.code}.csv"
        (self.out / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.out / rel).write_bytes(b"")
        self._file_defect(rel, "empty_file", "tayssir_beneficiaries", lycee, year)
        # required column `eligible` missing
        fmt = Fmt("csv_fr_bom", "fr", "utf-8-sig", ",", "\n", "dmy_slash", "my_slash")
        tab = Table("schoolbags", {"level": ["TC", "1BAC"], "enrolled": [120, 96], "kit_type": ["books_only"] * 2,
                                   "kits_requested": [120, 96]})
        rel = self._emit(tab, fmt, f"{year}/schoolbags/{lycee.code}", lycee, year, None, None, record=False)
        self._file_defect(rel, "required_column_missing", "schoolbags", lycee, year)
        # unknown school code
        ghost = School(UNKNOWN_SCHOOL_NUMBER, lycee.province, lycee.region, 99, "autonome", "urbain", "primaire",
                       "ECOLE INCONNUE", "م. مجهولة", lycee.commune_code, lycee.commune_fr, lycee.commune_ar, 5)
        pupils = initial_pupils(ghost, s, self.seed, year, 0)
        yd = year_data(pupils, ghost, s, self.seed, year, 0)
        tab = Table("students", {"massar_code": yd.codes.tolist(),
                                 "last_name_ar": [names.LAST_NAMES[k][0] for k in pupils.ln],
                                 "first_name_ar": [names.MALE_NAMES[k][0] for k in pupils.fn],
                                 "gender": ["M"] * len(pupils), "birth_date": pupils.birth.astype(object).tolist(),
                                 "level": [LEVELS[lv] for lv in pupils.level]})
        rel = self._emit(tab, fmt, f"{year}/students/{ghost.code}", ghost, year, None, None, record=False)
        self._file_defect(rel, "unknown_school_code", "students", ghost, year)
        # XLSX whose preamble names another school than its path
        if college is not None:
            xf = make_format("boarding_grants", "xlsx_massar", 1, 0)
            tab = Table("boarding_grants", {"massar_code": [massar_code(self.seed, college.number, 9_999, "Q")],
                                            "grant_type": ["internat"], "start_month": [s.months_of(year)[0]]})
            rel = self._emit(tab, xf, f"{year}/boarding_grants/{lycee.code}", lycee, year, None, None,
                             preamble_code=college.code, record=False)
            self._file_defect(rel, "school_code_mismatch", "boarding_grants", lycee, year)

    def _file_defect(self, rel: str, kind: str, rt: str, school: School, year: str) -> None:
        received = self._received_at(rel, rt, year, None)
        os.utime(self.out / rel, (received.timestamp(), received.timestamp()))
        self.file_defect_sink.rows([[rel, kind]])
        self.manifest.rows([[rel, rt, "", school.code, year, school.province, "", 0, 0, 0, kind,
                             received.isoformat()]])
        self.file_defects += 1


STATUS_PAY = ["paid", "unclaimed", "cancelled"]


def _province_job(job: tuple) -> dict:
    """Generate one province in a worker process; returns its counters."""
    out, scale, seed, years, rate, truth, p, p_pos, schools = job
    g = _Gen(load_settings(), out, scale, seed, years, rate, truth, part=p)
    try:
        g._province(p, p_pos, schools)
    finally:
        g.close()
    return {"files": g.files, "rows": g.rows, "defects": g.defects, "pupils": g.pupils,
            "file_defects": g.file_defects}


def _places(school: School, idx: np.ndarray, lang: str) -> list[str]:
    """Birth places: communes of the school's province, in the file's language."""
    pool = names.COMMUNES.get(school.province) or [(school.commune_fr, school.commune_ar, True)]
    k = 0 if lang != "ar" else 1
    return [pool[int(i) % len(pool)][k] for i in idx]


def _guardian(p: Pupils, k: int, lang: str) -> str:
    fn = (names.FEMALE_NAMES if p.grel[k] == 0 else names.MALE_NAMES)[int(p.gfn[k]) % len(names.MALE_NAMES)]
    ln = names.LAST_NAMES[int(p.gln[k])]
    return f"{fn[1]} {ln[1]}" if lang != "ar" else f"{fn[0]} {ln[0]}"
