"""The establishments referential of the demo: schools per province, their codes, cycles, natures,
facilities, sizes and opening / closing across the generated school years."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from daam.codes import make_school_code
from daam.config import Settings
from daam.demo import names

SCALES = ("tiny", "province", "region", "nation")
TINY_PROVINCES = ("110", "111")
REGION_02 = {  # province -> (schools, pupils) targets; Oriental totals ~1,000 schools / ~450k pupils
    "109": (200, 110_000), "110": (200, 100_000), "111": (110, 40_000), "112": (120, 55_000),
    "113": (100, 45_000), "114": (70, 25_000), "115": (100, 35_000), "116": (100, 40_000),
}
DEFAULT_TARGET = (153, 88_500)  # other provinces: ~12,300 schools and ~7 M pupils nationally
# Rural share of establishments: the Oriental's directorates (AREF Oriental: ~45 % rural) and the
# mostly urban ones; the others draw one around 0.74 (nationally ~55 % of establishments are rural).
RURAL_SHARE = {"109": 0.25, "110": 0.55, "111": 0.8, "112": 0.4, "113": 0.5, "114": 0.45, "115": 0.55, "116": 0.55,
               "101": 0.2, "102": 0.15, "117": 0.15, "118": 0.2, "126": 0.0, "127": 0.05, "128": 0.2, "146": 0.1,
               "154": 0.3, "167": 0.3, "168": 0.1, **{str(c): 0.0 for c in range(138, 146)}}
CYCLE_LEVELS = {"primaire": ["1AP", "2AP", "3AP", "4AP", "5AP", "6AP"], "college": ["1AC", "2AC", "3AC"],
                "lycee": ["TC", "1BAC", "2BAC"]}
LL_CYCLE = {"primaire": "PRIMAIRE", "college": "SECONDAIRE-COLLEGIAL", "lycee": "SECONDAIRE-QUALIFIANT"}
NETAB_FR = {"autonome": "Ecole Autonome", "secteur_centre": "Secteur Scolaire Centre", "satellite": "Satellite",
            "communale": "Ecole communale", "college": "Collège Enseignement Général", "lycee": "Lycée Qualifiant"}
BASE_SIZE = {("autonome", "urbain"): 700, ("communale", "rural"): 350, ("secteur_centre", "rural"): 340,
             ("satellite", "rural"): 60, ("college", "urbain"): 900, ("college", "rural"): 500,
             ("lycee", "urbain"): 650, ("lycee", "rural"): 380}
UNKNOWN_SCHOOL_NUMBER = 99_500  # outside every province block: used for the unknown-school-code file
# Small rural units (contract/domain.md 1.1, 1.4, 5.3, 5.4). Massar counted ~13,000 "écoles annexes"
# (satellites) beside ~11,000 établissements in 2020, so satellites are about half of the primary
# units. Nador 2018-19 had 288 primary units, 190 of them rural (22,564 pupils), for 143 primary
# établissements: ~145 satellites (76 % of the rural units, ~3 per rural centre) and, if its ~45
# rural établissements hold ~340 pupils each (BASE_SIZE of a centre), ~50 pupils per satellite.
# Rural primary units of a province are therefore: 8 % écoles communales (Oriental: 54 of 697
# primary schools, domain 5.3), 22 % secteur-scolaire centres and 70 % satellites (~3 per centre).
RURAL_PRIMARY_MIX = {"communale": 0.08, "secteur_centre": 0.22}  # the rest are satellites
# The sources give no distribution of satellite sizes, only that mean of ~50. Chosen, for a few dozen
# pupils in multigrade classes where a level has a handful of pupils: 15 % hamlet units of one
# multigrade class (4-19 pupils: levels of 0-4 pupils, often fewer than 5 girls), 70 % small units of
# 20-80 pupils, 15 % larger ones of 81-150 (mean ~54). At Nador scale that makes ~46 % of the primary
# units satellites and ~32 % rural units of 20-80 pupils. These sizes are drawn, not scaled to the
# province's pupil target: the other units of the same milieu and cycle take the difference, so the
# pupils (and rows) of a province per milieu and cycle are unchanged.
SATELLITE_SIZES = ((0.15, 4, 19), (0.70, 20, 80), (0.15, 81, 150))  # (share, fewest, most pupils)
# Collèges: the sources give ~1,000 internats (65 % rural) for ~160,000 grantees (domain 4.2), ~160
# each, and Nador's 34 collèges average 760 pupils; they say nothing of the smallest. Chosen: one rural
# collège in three is a small one of 120-250 pupils (a collège de proximité in a remote commune)
# whose internat, when it has one, holds only a handful of grantees (1-4): few families of far
# douars apply, and the provincial committee grants on mérite social (domain 4.1).
SMALL_COLLEGE_EVERY = 3  # the 1st, 4th, 7th ... rural collège of a province is small
SMALL_COLLEGE_SIZE = (120, 250)


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    """A generator derived from the seed and integer keys (independent of iteration order)."""
    return np.random.default_rng([seed & 0xFFFFFFFF, *[int(k) & 0xFFFFFFFF for k in keys]])


@dataclass
class School:
    """One establishment of the referential, with what the generator needs to populate it."""

    number: int
    province: str
    region: str
    pos: int
    nature: str
    milieu: str
    cycle: str
    name_fr: str
    name_ar: str
    commune_code: str
    commune_fr: str
    commune_ar: str
    size: int
    small: bool = False  # a small rural collège: a handful of boarding grantees (SMALL_COLLEGE_EVERY)
    parent: str | None = None
    has_boarding: bool = False
    capacity: int | None = None
    has_canteen: bool = False
    opened_on: date | None = None
    closed_on: date | None = None
    open_idx: int = 0
    close_idx: int | None = None  # last active year index
    code: str = field(init=False)

    def __post_init__(self) -> None:
        self.code = make_school_code(self.number)

    @property
    def levels(self) -> list[str]:
        return CYCLE_LEVELS[self.cycle]

    @property
    def rural_primary(self) -> bool:
        return self.cycle == "primaire" and self.milieu == "rural"

    def active(self, year_idx: int) -> bool:
        return self.open_idx <= year_idx and (self.close_idx is None or year_idx <= self.close_idx)

    def listed(self, year_idx: int) -> bool:
        """In the referential snapshot of that year (closed schools stay listed with closed_on)."""
        return self.open_idx <= year_idx

    def referential_row(self, year_idx: int) -> dict[str, str]:
        """The row of the snapshot, with the real referential's column names."""
        closed = self.closed_on if self.close_idx is not None and year_idx > self.close_idx else None
        return {
            "CD_ETAB": self.code, "NOM_ETABL": self.name_fr, "NOM_ETABA": self.name_ar, "CD_PROV": self.province,
            "cd_com": self.commune_code, "la_com": self.commune_ar, "ll_com": self.commune_fr,
            "CD_MIL": "U" if self.milieu == "urbain" else "R", "LL_CYCLE": LL_CYCLE[self.cycle],
            "NetabFr": NETAB_FR[self.nature], "CD_etabr": self.parent or "", "typeEtab": "Public",
            "has_boarding": "1" if self.has_boarding else "0",
            "boarding_capacity": str(self.capacity) if self.capacity else "",
            "has_canteen": "1" if self.has_canteen else "0",
            "opened_on": self.opened_on.isoformat() if self.opened_on else "",
            "closed_on": closed.isoformat() if closed else "",
        }

    def truth_row(self, year_idx: int) -> dict[str, str]:
        """The canonical values of the snapshot row."""
        r = self.referential_row(year_idx)
        return {
            "school_code": self.code, "name_fr": self.name_fr, "name_ar": self.name_ar,
            "province_code": self.province, "commune_code": self.commune_code, "commune_name_ar": self.commune_ar,
            "commune_name_fr": self.commune_fr, "milieu": self.milieu, "cycle": self.cycle, "nature": self.nature,
            "parent_school_code": self.parent or "", "sector": "public",
            "has_boarding": "true" if self.has_boarding else "false", "boarding_capacity": r["boarding_capacity"],
            "has_canteen": "true" if self.has_canteen else "false", "opened_on": r["opened_on"],
            "closed_on": r["closed_on"],
        }


REFERENTIAL_COLUMNS = list(School(10000, "110", "02", 0, "autonome", "urbain", "primaire", "", "", "", "", "", 0)
                           .referential_row(0))


def scale_provinces(settings: Settings, scale: str) -> list[str]:
    """Province codes generated at a scale, in referential order."""
    if scale == "tiny":
        return list(TINY_PROVINCES)
    if scale == "province":
        return ["110"]
    if scale == "region":
        return [c for c, p in settings.provinces.items() if p.region_code == "02"]
    if scale == "nation":
        return list(settings.provinces)
    raise ValueError(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")


def _name(rng: np.random.Generator, nature: str, milieu: str, cycle: str) -> tuple[str, str]:
    ar, fr = names.EPONYMS[rng.integers(len(names.EPONYMS))]
    if nature in ("secteur_centre", "satellite"):
        d_ar, d_fr = names.DOUARS[rng.integers(len(names.DOUARS))]
        return (f"SS {fr} {'CENTRE' if nature == 'secteur_centre' else 'UNITE'} {d_fr}",
                f"م.م {ar} {'مركزية' if nature == 'secteur_centre' else 'فرعية'} {d_ar}")
    if nature == "communale":
        return f"EC {fr}", f"م.ج {ar}"
    if cycle == "college":
        return f"LYCEE COLLEGIAL {fr}", f"الثانوية الاعدادية {ar}"
    if cycle == "lycee":
        return f"LYCEE {fr}", f"الثانوية التأهيلية {ar}"
    return f"ECOLE {fr}", f"م. {ar}"


def _communes(settings: Settings, province: str, rng: np.random.Generator) -> list[tuple[str, str, str, bool]]:
    """(code, French, Arabic, urban) communes of a province."""
    if province in names.COMMUNES:
        lst = names.COMMUNES[province]
    else:
        p = settings.provinces[province]
        k = int(rng.integers(10, 22))
        pick = rng.choice(len(names.GENERIC_RURAL_COMMUNES), size=k, replace=False)
        lst = [(f"{p.name_fr} (Mun.)", f"{p.name_ar} (البلدية)", True)]
        lst += [(*names.GENERIC_RURAL_COMMUNES[i], False) for i in sorted(pick)]
    return [(f"{province}{i + 1:03d}", fr, ar, urb) for i, (fr, ar, urb) in enumerate(lst)]


def _plan(n: int, rural: float) -> list[tuple[str, str, str]]:
    """(nature, milieu, cycle) of the n establishments of a province with a given rural share."""
    n_prim, n_col = round(n * 0.67), round(n * 0.19)
    n_lyc = max(n - n_prim - n_col, 1)
    r_prim = round(n_prim * min(0.95, rural * 1.2))
    r_col, r_lyc = round(n_col * rural * 0.7), round(n_lyc * rural * 0.35)
    n_comm = round(r_prim * RURAL_PRIMARY_MIX["communale"])
    n_ssc = max(round(r_prim * RURAL_PRIMARY_MIX["secteur_centre"]), 1 if r_prim else 0)
    n_sat = r_prim - n_comm - n_ssc
    plan = [("autonome", "urbain", "primaire")] * (n_prim - r_prim)
    plan += [("secteur_centre", "rural", "primaire")] * n_ssc + [("satellite", "rural", "primaire")] * n_sat
    plan += [("communale", "rural", "primaire")] * n_comm
    plan += [("college", "urbain", "college")] * (n_col - r_col) + [("college", "rural", "college")] * r_col
    plan += [("lycee", "urbain", "lycee")] * (n_lyc - r_lyc) + [("lycee", "rural", "lycee")] * r_lyc
    return plan


TINY_PLAN = {  # province -> (nature, milieu, cycle, size, small)
    # Nador: a satellite of 26 pupils and a small collège with 1-4 boarding grantees
    "110": [("secteur_centre", "rural", "primaire", 35, False), ("satellite", "rural", "primaire", 26, False),
            ("college", "rural", "college", 38, True), ("lycee", "urbain", "lycee", 32, False)],
    # Driouch: a hamlet satellite of 4 pupils, so that whatever the seed its levels, girls, Tayssir
    # and canteen counts are under 5 (in its first year at least: an intake may make it 5)
    "111": [("secteur_centre", "rural", "primaire", 35, False), ("satellite", "rural", "primaire", 4, False),
            ("college", "rural", "college", 38, False), ("lycee", "urbain", "lycee", 32, False)],
}


def _small_sizes(plan: list[tuple[str, str, str]], rng: np.random.Generator) -> list[int | None]:
    """Drawn sizes of the satellites and small collèges of a plan (None: scaled to the province)."""
    shares = np.array([share for share, _, _ in SATELLITE_SIZES])
    sizes: list[int | None] = []
    k_col = 0
    for nature, milieu, _ in plan:
        if nature == "satellite":
            _, lo, hi = SATELLITE_SIZES[int(rng.choice(len(shares), p=shares))]
            sizes.append(int(rng.integers(lo, hi + 1)))
        elif nature == "college" and milieu == "rural":
            small = k_col % SMALL_COLLEGE_EVERY == 0
            k_col += 1
            sizes.append(int(rng.integers(SMALL_COLLEGE_SIZE[0], SMALL_COLLEGE_SIZE[1] + 1)) if small else None)
        else:
            sizes.append(None)
    return sizes


def province_schools(settings: Settings, province: str, scale: str, seed: int, n_years: int) -> list[School]:
    """Every school of a province over the generated years (openings and closings included)."""
    p_idx = list(settings.provinces).index(province)
    region = settings.provinces[province].region_code
    rng = rng_for(seed, 1, int(province))
    communes = _communes(settings, province, rng)
    urban_c = [c for c in communes if c[3]]
    rural_c = [c for c in communes if not c[3]] or urban_c
    if scale == "tiny":
        plan = [(n, m, c) for n, m, c, _, _ in TINY_PLAN[province]]
        sizes = [s for *_, s, _ in TINY_PLAN[province]]
        small = [sm for *_, sm in TINY_PLAN[province]]
        extra = 1 if n_years > 1 else 0
    else:
        n, pupils = REGION_02.get(province, DEFAULT_TARGET)
        if province not in REGION_02:
            f = rng_for(0, 2, int(province)).uniform(0.6, 1.4)  # fixed size per province, whatever the seed
            n, pupils = round(n * f), round(pupils * f)
        rural = RURAL_SHARE.get(province, float(np.clip(rng.normal(0.74, 0.08), 0.35, 0.9)))
        plan = _plan(n, rural)
        sizes = [BASE_SIZE[(nat, mil)] * float(rng.lognormal(0, 0.35)) for nat, mil, _ in plan]
        k = pupils / sum(sizes)
        sizes = [s * k for s in sizes]
        drawn = _small_sizes(plan, rng_for(seed, 4, int(province)))  # own stream: the rest keeps its draws
        small = [d is not None and c == "college" for d, (_, _, c) in zip(drawn, plan)]
        # the pupils the small units do not hold go to the other units of their milieu and cycle, so
        # the province's pupils per milieu and cycle (and the rows of each programme) stay the same
        for key in {(m, c) for d, (_, m, c) in zip(drawn, plan) if d is not None}:
            group = [i for i, (_, m, c) in enumerate(plan) if (m, c) == key]
            rest = [i for i in group if drawn[i] is None]
            budget = sum(sizes[i] for i in group) - sum(drawn[i] or 0 for i in group)
            f = max(budget, 0) / sum(sizes[i] for i in rest) if rest else 0.0
            for i in rest:
                sizes[i] *= f
        sizes = [d if d is not None else max(12, round(s)) for s, d in zip(sizes, drawn)]
        extra = n_years - 1
    # openings: one new urban primary per later year (tiny: in Nador; Driouch gets a school that closes)
    opening = [("autonome", "urbain", "primaire")] * extra if scale != "tiny" or province == "110" else []
    closing_tiny = scale == "tiny" and province == "111" and n_years > 1
    if closing_tiny:
        plan.append(("communale", "rural", "primaire"))
        sizes.append(30)
        small.append(False)
    block = 10_000 + p_idx * 1_000
    numbers = block + rng.permutation(1_000)[: len(plan) + len(opening)]
    schools: list[School] = []
    for i, ((nature, milieu, cycle), size) in enumerate(zip(plan + opening, sizes + [0] * len(opening))):
        if i >= len(plan):
            size = 30 if scale == "tiny" else max(12, round(BASE_SIZE[(nature, milieu)] * 0.4))
        commune = (urban_c if milieu == "urbain" else rural_c)[rng.integers(len(urban_c if milieu == "urbain"
                                                                                 else rural_c))]
        name_fr, name_ar = _name(rng, nature, milieu, cycle)
        s = School(int(numbers[i]), province, region, i, nature, milieu, cycle, name_fr, name_ar,
                   commune[0], commune[1], commune[2], int(size), small=i < len(plan) and small[i])
        if rng.random() < 0.75:
            s.opened_on = date(int(rng.integers(1960, 2016)), 9, 1)
        if cycle == "college" and (scale == "tiny" or rng.random() < (0.6 if milieu == "rural" else 0.1)):
            s.has_boarding, s.has_canteen = True, True
            s.capacity = 14 if scale == "tiny" else max(20, round(size * rng.uniform(0.12, 0.3) / 10) * 10)
        if s.rural_primary and (scale == "tiny" or rng.random() < 0.85):
            s.has_canteen = True
        schools.append(s)
    # satellites hang from a secteur-scolaire centre of the province (same commune when possible)
    centres = [s for s in schools if s.nature == "secteur_centre"]
    for s in schools:
        if s.nature == "satellite" and centres:
            parent = centres[s.pos % len(centres)]
            s.parent = parent.code
            s.commune_code, s.commune_fr, s.commune_ar = parent.commune_code, parent.commune_fr, parent.commune_ar
    for j, s in enumerate(schools[len(plan):]):  # school j opens in year index j + 1 (see finalise_dates)
        s.open_idx = j + 1
    if closing_tiny:
        schools[len(plan) - 1].close_idx = 0
    elif scale != "tiny":
        sats = [s for s in schools if s.nature == "satellite"]
        for j in range(min(extra, len(sats))):  # one satellite closes after each year but the last
            sats[-1 - j].close_idx = j
    return schools


def finalise_dates(schools: list[School], years: list[str]) -> None:
    """Set opened_on / closed_on of the schools that open or close within the generated years."""
    for s in schools:
        if s.open_idx > 0:
            s.opened_on = date(int(years[s.open_idx][:4]), 9, 1)
        if s.close_idx is not None:
            s.closed_on = date(int(years[s.close_idx][:4]) + 1, 7, 31)
