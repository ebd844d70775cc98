"""Pupils of one school across the generated years, and what the programmes derive from them for a
school year: Tayssir enrolment, boarding grants, monthly attendance, schoolbags and canteen counts.

Everything is held as numpy arrays per school (a few thousand pupils at most), so a school is
generated, written and dropped before the next one: the nation is never in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date

import numpy as np

from daam.config import Settings
from daam.demo import names
from daam.demo.referential import School, rng_for

LEVELS = ["1AP", "2AP", "3AP", "4AP", "5AP", "6AP", "1AC", "2AC", "3AC", "TC", "1BAC", "2BAC"]
LEVEL_IDX = {lv: i for i, lv in enumerate(LEVELS)}
LEVEL_WEIGHTS = {"primaire": [1.05, 1.02, 1.0, 0.98, 0.95, 0.92], "college": [1.1, 1.0, 0.9],
                 "lycee": [1.15, 1.0, 0.85]}
OVER_P = [0.62, 0.30, 0.08]  # years over the nominal age of a new pupil
MAX_OVER = 4  # pupils further behind drop out, so no clean roster row is ever age-implausible
SERIAL_LIMIT = 9_000  # serials 9000-9999 of a school are reserved for codes on no roster
_A, _M = 387_420_489, 10**9  # affine bijection on 9 digits (A coprime with 10)
LYCEE_TRACKS = {"TC": ["TCSF", "TCS", "TCLSH"], "1BAC": ["1BACSEF", "1BACSH", "1BACSMF"],
                "2BAC": ["2BACSPF", "2BACSVTF", "2BACL"]}
MAX_CLASS = 36


def massar_digits(seed: int, ids: np.ndarray) -> np.ndarray:
    """9 digits unique per id (school number * 10000 + serial), scrambled by the seed."""
    b = (seed * 2_654_435_761 + 12_345) % _M
    return np.char.zfill(((ids.astype(np.int64) * _A + b) % _M).astype(str), 9)


def massar_code(seed: int, school_number: int, serial: int, letter: str = "X") -> str:
    """One massar code (used for codes that are on no roster)."""
    return letter + str(massar_digits(seed, np.array([school_number * 10_000 + serial]))[0])


@dataclass
class Pupils:
    """Struct of arrays: one entry per pupil of a school in one school year."""

    serial: np.ndarray
    letter: np.ndarray
    gender: np.ndarray  # 0 M, 1 F
    ln: np.ndarray
    fn: np.ndarray
    birth: np.ndarray  # datetime64[D]
    bplace: np.ndarray
    level: np.ndarray  # index into LEVELS
    over: np.ndarray
    repeating: np.ndarray
    disability: np.ndarray
    cin: np.ndarray
    poor: np.ndarray
    lam: np.ndarray  # absence propensity
    grel: np.ndarray  # guardian relation 0 mother 1 father 2 guardian
    gfn: np.ndarray
    gln: np.ndarray

    def take(self, idx: np.ndarray) -> Pupils:
        return Pupils(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    @staticmethod
    def concat(a: Pupils, b: Pupils) -> Pupils:
        return Pupils(**{f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in fields(a)})

    def __len__(self) -> int:
        return len(self.serial)


def _new_pupils(rng: np.random.Generator, school: School, settings: Settings, start: int, levels: np.ndarray,
                first_serial: int, cin_prefixes: list[str], letters: list[str]) -> Pupils:
    n = len(levels)
    gender = (rng.random(n) < 0.49).astype(np.int8)
    over = rng.choice(3, size=n, p=OVER_P).astype(np.int8)
    nominal = np.array([settings.levels[LEVELS[i]].nominal_age for i in levels])
    byear = start - nominal - over
    birth = (byear - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(0, 365, n)
    n_cin = rng.choice([6, 5, 4], size=n, p=[0.7, 0.25, 0.05])
    cin_num = rng.integers(10 ** (n_cin - 1), 10**n_cin)
    cin = np.char.add(np.array(cin_prefixes)[rng.integers(len(cin_prefixes), size=n)], cin_num.astype(str))
    grel = rng.choice(3, size=n, p=[0.6, 0.35, 0.05]).astype(np.int8)
    ln = rng.integers(len(names.LAST_NAMES), size=n)
    p = Pupils(
        serial=np.arange(first_serial, first_serial + n, dtype=np.int64),
        letter=np.array(letters)[rng.integers(len(letters), size=n)],
        gender=gender, ln=ln,
        fn=rng.integers(len(names.MALE_NAMES), size=n),
        birth=birth, bplace=rng.integers(0, 10_000, size=n), level=levels.astype(np.int8), over=over,
        repeating=(over > 0) & (rng.random(n) < 0.3), disability=rng.random(n) < 0.015, cin=cin,
        poor=rng.random(n) < (0.62 if school.milieu == "rural" else 0.45),
        lam=rng.gamma(0.55, 1.7, n).astype(np.float32), grel=grel,
        gfn=rng.integers(len(names.FEMALE_NAMES), size=n),
        gln=np.where(grel == 1, ln, rng.integers(len(names.LAST_NAMES), size=n)),
    )
    # siblings: some pupils share the family name and guardian of another pupil of the school
    sib = np.flatnonzero(rng.random(n) < 0.15)
    if n > 1 and len(sib):
        src = rng.integers(n, size=len(sib))
        for name in ("ln", "cin", "poor", "grel", "gfn", "gln"):
            getattr(p, name)[sib] = getattr(p, name)[src]
    return p


def _province_keys(seed: int, province: str) -> tuple[list[str], list[str]]:
    r = rng_for(seed, 3, int(province))
    prefixes = [names.CIN_PREFIXES[i] for i in r.choice(len(names.CIN_PREFIXES), 3, replace=False)]
    letters = [chr(65 + i) for i in r.choice(26, 4, replace=False)]
    return prefixes, letters


def initial_pupils(school: School, settings: Settings, seed: int, year: str, year_idx: int) -> Pupils:
    """The roster of a school in the first year it is generated."""
    rng = rng_for(seed, 10, year_idx, school.number)
    lv = [LEVEL_IDX[x] for x in school.levels]
    w = np.array(LEVEL_WEIGHTS[school.cycle])
    counts = rng.multinomial(school.size, w / w.sum())
    levels = np.repeat(lv, counts)
    return _new_pupils(rng, school, settings, int(year[:4]), levels, 0, *_province_keys(seed, school.province))


def promote(prev: Pupils, school: School, settings: Settings, seed: int, year: str, year_idx: int) -> Pupils:
    """Next year's roster: most pupils go up one level, some repeat, the last level leaves, an intake
    joins the first level."""
    rng = rng_for(seed, 11, year_idx, school.number)
    n = len(prev)
    last = LEVEL_IDX[school.levels[-1]]
    u = rng.random(n)
    at_last = prev.level == last
    can_repeat = prev.over < MAX_OVER
    repeat = np.where(at_last, u < 0.1, (u >= 0.88) & (u < 0.96)) & can_repeat
    stay = repeat | (~at_last & ((u < 0.88) | ((u < 0.96) & ~can_repeat)))
    kept = prev.take(np.flatnonzero(stay))
    rep = repeat[stay]
    kept = replace(kept, level=np.where(rep, kept.level, kept.level + 1).astype(np.int8),
                   over=np.where(rep, kept.over + 1, kept.over).astype(np.int8), repeating=rep)
    first = LEVEL_IDX[school.levels[0]]
    intake = max(1, round((n - len(kept)) * rng.uniform(0.96, 1.04)))  # the school keeps its size
    start = int(prev.serial.max()) + 1 if n else 0
    if start + intake >= SERIAL_LIMIT:
        raise ValueError(f"school {school.code}: more than {SERIAL_LIMIT} pupils over the years")
    new = _new_pupils(rng, school, settings, int(year[:4]), np.full(intake, first), start,
                      *_province_keys(seed, school.province))
    return Pupils.concat(kept, new)


@dataclass
class YearData:
    """What one school year of one school holds, in roster order."""

    pupils: Pupils
    codes: np.ndarray  # massar codes
    classes: np.ndarray  # class names
    ben: np.ndarray  # Tayssir beneficiary
    status: np.ndarray  # 0 active, 1 suspended, 2 withdrawn
    enr_month: np.ndarray  # month index (0 = September) of enrolled_on
    enrolled_on: list  # date or None
    boarding: np.ndarray  # 0 externe, 1 demi-pensionnaire, 2 interne
    grant: np.ndarray  # -1 none, 0 internat, 1 demi_pension, 2 cantine_college
    grant_info: dict  # decision dates / months / status for grantees
    unjust: np.ndarray  # (n, 10)
    just: np.ndarray  # (n, 10)
    school_days: list[int]

    def active(self) -> np.ndarray:
        """(n, 10) bool: active Tayssir beneficiary in each month of the year."""
        return (self.ben & (self.status == 0))[:, None] & (np.arange(10)[None, :] >= self.enr_month[:, None])


def year_data(pupils: Pupils, school: School, settings: Settings, seed: int, year: str, year_idx: int) -> YearData:
    """Derive classes, Tayssir enrolment, boarding, grants and attendance for a school year."""
    rng = rng_for(seed, 12, year_idx, school.number)
    start = int(year[:4])
    order = np.lexsort((pupils.ln, pupils.level))
    p = pupils.take(order)
    n = len(p)
    codes = np.char.add(p.letter, massar_digits(seed, school.number * 10_000 + p.serial))
    classes = np.empty(n, dtype=object)
    for lv in np.unique(p.level):
        idx = np.flatnonzero(p.level == lv)
        k = max(1, -(-len(idx) // MAX_CLASS))
        sec = rng.permutation(len(idx)) % k + 1
        code = LEVELS[lv]
        if school.cycle == "college":
            # odd sections follow the international track (APIC), even ones the general one (APG)
            prefix = np.where(sec % 2 == 1, f"{code[0]}APIC", f"{code[0]}APG")
        elif school.cycle == "lycee":
            prefix = np.array(LYCEE_TRACKS[code])[(sec - 1) % 3]
        else:
            prefix = np.full(len(idx), code)
        classes[idx] = [f"{a}-{b}" for a, b in zip(prefix, sec)]
    rules = settings.programme_rules(year)
    amounts = rules["tayssir"]["monthly_amount_mad"]
    elig_lv = np.isin(p.level, [LEVEL_IDX[x] for x in amounts])
    ben = elig_lv & p.poor & (school.rural_primary or school.cycle == "college")
    status = rng.choice(3, size=n, p=[0.9, 0.06, 0.04]).astype(np.int8)
    enr_month = rng.choice(5, size=n, p=[0.8, 0.1, 0.05, 0.03, 0.02]).astype(np.int8)
    blank = rng.random(n) < 0.03
    enr_month[blank] = 0
    days = rng.integers(1, 29, n)
    enrolled_on = [None if blank[i] else date(start if m < 4 else start + 1, (8 + m) % 12 + 1,
                                              max(int(days[i]), 5) if m == 0 else int(days[i]))
                   for i, m in enumerate(enr_month)]
    boarding = np.zeros(n, dtype=np.int8)
    grant = np.full(n, -1, dtype=np.int8)
    info: dict = {}
    if school.has_boarding and n:
        cap = school.capacity or 0
        perm = rng.permutation(n)
        if school.small:  # a small rural collège: a handful of grantees (referential.SMALL_COLLEGE_EVERY)
            k = min(int(rng.integers(1, 5)), cap, n)
            n_demi = int(k > 1 and rng.random() < 0.3)
            n_int, n_cant = k - n_demi, 0
        else:
            n_int = min(round(cap * rng.uniform(0.55, 0.7)), n // 3)
            n_demi = min(max(1, round(cap * rng.uniform(0.15, 0.25))), n // 6, cap - n_int)
            n_cant = min(max(1, round(cap * rng.uniform(0.05, 0.12))), n // 10, cap - n_int - n_demi)
        boarding[perm[:n_int]] = 2
        boarding[perm[n_int:n_int + max(n_demi, 0)]] = 1
        grant[perm[:n_int]] = 0
        grant[perm[n_int:n_int + max(n_demi, 0)]] = 1
        grant[perm[n_int + max(n_demi, 0):n_int + max(n_demi, 0) + max(n_cant, 0)]] = 2
        g = np.flatnonzero(grant >= 0)
        dd = rng.integers(0, 40, len(g))
        start_m = rng.choice(3, size=len(g), p=[0.85, 0.1, 0.05])
        withdrawn = rng.random(len(g)) < 0.05
        end_m = np.where(withdrawn, rng.integers(start_m + 1, 10), np.where(rng.random(len(g)) < 0.1, 9, -1))
        info = {"decision": [date(start, 9, 10) + np.timedelta64(int(d), "D").item() for d in dd],
                "start": start_m, "end": end_m, "withdrawn": withdrawn, "index": g}
    months = settings.calendar["months"]
    sd = [settings.school_days(year, m) for m in months]
    mfac = np.array([0.8, 1.0, 1.1, 1.2, 1.2, 1.1, 1.0, 1.0, 1.1, 1.3])
    cyc_fac = np.where(p.level >= LEVEL_IDX["1AC"], 1.3, 1.0)
    unjust = rng.poisson(p.lam[:, None] * cyc_fac[:, None] * mfac[None, :])
    unjust = np.minimum(unjust, np.array(sd)[None, :] - 2)
    just = rng.poisson(0.35, (n, 10))
    just = np.minimum(just, np.array(sd)[None, :] - unjust)
    return YearData(p, codes, classes, ben, status, enr_month, enrolled_on, boarding, grant, info,
                    unjust.astype(np.int16), just.astype(np.int16), sd)


def threshold(settings: Settings, year: str, level: str) -> int:
    """Most unjustified absence days in a month for a paid month, by the level's cycle."""
    return int(settings.programme_rules(year)["tayssir"]["max_unjustified_absence_days"][settings.levels[level].cycle])


def payable_months(yd: YearData, settings: Settings, year: str) -> np.ndarray:
    """(n, 10) bool: month paid (active beneficiary and unjustified absences within the threshold)."""
    amounts = settings.programme_rules(year)["tayssir"]["monthly_amount_mad"]
    by_level = np.array([threshold(settings, year, lv) if lv in amounts else -1 for lv in LEVELS], dtype=np.int16)
    return yd.active() & (yd.unjust <= by_level[yd.pupils.level][:, None])
