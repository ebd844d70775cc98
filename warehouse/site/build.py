"""Build the reports site: `index.html`, one page per directorate, region and the nation in Arabic
and French (`ar/…`, `fr/…`), a data dictionary per product kind, and the vendored styles and
fonts (`static/`). Each page is made from its own product only, opened read-only.

Products are checked first: one that is missing, older than the warehouse it comes from, or made
by an older daam (a table its kind publishes is missing) is rebuilt (`warehouse/products.py`)
before any page is drawn from it, so a page never shows yesterday's numbers beside today's. A page
that still can not be drawn is named in the error; the other pages are written. Pages are written
to a temporary name and renamed onto their final one, so a reader never opens half a page; a page
whose product rows and code are those it was drawn from is kept; the two cores draw in parallel."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import jinja2

from daam import config
from daam.config import load_settings
from warehouse.fingerprint import code_fingerprint
from warehouse.product_manifest import Manifest
from warehouse.products import (
    KINDS,
    ProductError,
    build_products,
    fingerprint_in_place,
    product_path,
    products_dir,
)
from warehouse.registry import registry
from warehouse.schema import ensure_schema
from warehouse.site.paths import dictionary_name, page_name
from warehouse.site.text import REPORT_CONFIG

LANGS = ("ar", "fr")
NATIONAL_CODE = "MA"
SITE_FOLDER = "site"
# `off` leaves the site out of the publish step (the asset says so); `daam report` still builds it.
# The test suite sets it: only the tests that read the site pay for drawing it after each load.
REPORTS_ENV = "DAAM_REPORTS"


def reports_after_publish() -> bool:
    return os.environ.get(REPORTS_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


def default_out(warehouse: str | Path) -> Path:
    """The site's default folder: `site/` next to the warehouse, beside `published/`."""
    return Path(warehouse).resolve().parent / SITE_FOLDER


class SiteError(ValueError):
    """The site can not be built as asked (an unknown level or code, no warehouse); the message
    says which, in words for the person who typed the command."""


@dataclass(frozen=True)
class Target:
    kind: str
    code: str


@dataclass
class SiteReport:
    out: Path
    pages: list[Path] = field(default_factory=list)
    unchanged: int = 0  # pages kept as they were: same product rows, same code
    rebuilt_products: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def index(self) -> Path:
        return self.out / "index.html"


def _environment() -> jinja2.Environment:
    folder = resources.files("warehouse.site") / "templates"
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def targets(warehouse: Path, level: str | None, code: str | None) -> list[Target]:
    """The units to draw: all whose product exists or can be built, or the one asked for."""
    settings = load_settings()
    if level is not None and level not in KINDS:
        raise SiteError(f"there is no level {level!r}: choose province, region or national")
    if code is not None and level is None:
        raise SiteError("--code needs --level (province or region)")
    if level == "national":
        if code not in (None, NATIONAL_CODE):
            raise SiteError(f"the national level has no code {code!r} (leave --code out)")
        return [Target("national", NATIONAL_CODE)]
    known = {"province": settings.provinces, "region": {p.region_code for p in settings.provinces.values()}}
    if code is not None:
        if code not in known[level]:
            word = "directorate (province)" if level == "province" else "region"
            raise SiteError(f"there is no {word} with code {code!r} in configs/reference")
        return [Target(level, code)]
    kinds = (level,) if level else KINDS
    out = []
    for kind in kinds:
        if kind == "national":
            out.append(Target("national", NATIONAL_CODE))
            continue
        folder = products_dir(warehouse) / kind
        out += [Target(kind, p.stem) for p in sorted(folder.glob("*.duckdb")) if p.stem in known[kind]]
    return out


def _fingerprints(warehouse: Path, wanted: list[Target]) -> dict[Target, str | None]:
    """Each wanted product's input fingerprint (each file opened once), None for a stale one:
    missing, older than the warehouse, or made by an older daam (no input fingerprint, or a table
    of the registry's audience for its kind missing: the page would read what is not there)."""
    found: dict[Target, str | None] = {}
    manifest = Manifest(products_dir(warehouse))  # what the last publish recorded, not 95 files opened
    for target in wanted:
        path = _product(warehouse, target.kind, target.code)
        fresh = path.exists() and path.stat().st_mtime >= warehouse.stat().st_mtime
        found[target] = fingerprint_in_place(path, registry().visible_to(target.kind), manifest) if fresh else None
    return found


def refresh_products(warehouse: Path, wanted: list[Target], found: dict[Target, str | None] | None = None,
                     ) -> list[str]:
    """Rebuild the products the pages need that are stale (`found`: their `_fingerprints`); their names."""
    found = found if found is not None else _fingerprints(warehouse, wanted)
    stale = [t for t in wanted if found[t] is None]
    if not stale:
        return []
    kinds = {t.kind for t in stale}
    if kinds & {"region", "national"}:  # one suppression pattern for both (warehouse/products.py)
        kinds |= {"region", "national"}
    kinds = tuple(k for k in KINDS if k in kinds)
    # only directorates: just those; with regions or the nation, every product of those kinds (the
    # unchanged ones are only fingerprinted, warehouse/products.py)
    provinces = sorted({t.code for t in stale}) if kinds == ("province",) else None
    try:
        with duckdb.connect(str(warehouse)) as con:  # a warehouse of an older daam gains the new views
            ensure_schema(con, keys=False)
        build_products(warehouse, provinces=provinces, kinds=kinds)
    except (duckdb.Error, ProductError) as exc:
        names = ", ".join(str(product_path(warehouse, t.kind, None if t.kind == "national" else t.code))
                          for t in stale)
        raise SiteError(f"these products are missing or older than the warehouse and could not be rebuilt "
                        f"({exc}): {names}. Run `daam publish` once no load is writing the warehouse.") from exc
    return [f"{t.kind} {t.code}" for t in stale]


def build_site(warehouse: str | Path, out: str | Path, level: str | None = None, code: str | None = None,
               lang: str | None = None, school_year: str | None = None, workers: int | None = None) -> SiteReport:
    """Build (or update) the site in `out` for the units asked; see the module's text."""
    started = time.monotonic()
    warehouse, out = Path(warehouse).resolve(), Path(out).resolve()
    if not warehouse.exists():
        raise SiteError(f"no warehouse at {warehouse}: load a landing zone first (`daam load`)")
    if lang is not None and lang not in LANGS:
        raise SiteError(f"there is no language {lang!r}: choose ar or fr")
    wanted = targets(warehouse, level, code)
    found = _fingerprints(warehouse, wanted)
    report = SiteReport(out, rebuilt_products=refresh_products(warehouse, wanted, found))
    if report.rebuilt_products:
        found = _fingerprints(warehouse, wanted)
    langs = (lang,) if lang else LANGS
    for folder in ("ar", "fr"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    _copy_static(out)
    site = site_fingerprint()
    kinds = sorted({t.kind for t in wanted})
    units = [(t, t.kind, lg, school_year) for t in wanted for lg in langs]
    units += [(_any_target(wanted, k), f"dictionary:{k}", lg, None) for k in kinds for lg in langs]
    jobs, report.pages = [], []
    for target, kind, lg, year in units:
        dictionary = kind.startswith("dictionary:")
        path = out / lg / (dictionary_name(target.kind) if dictionary else page_name(target.kind, target.code))
        key = _source_key(found[target], site, "dictionary" if dictionary else "page", target.kind, target.code,
                          lg, year)
        report.pages.append(path)
        if _unchanged(path, key):  # decided here: no worker is started for a site with nothing to redraw
            report.unchanged += 1
        else:
            jobs.append((str(warehouse), kind, target.code, lg, year, str(out), key))
    workers = workers or min(os.cpu_count() or 1, 2, len(jobs))
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
            drawn = list(pool.map(_draw, jobs))
    else:
        drawn = [_draw(job) for job in jobs]
    failed = [d for d in drawn if d.startswith("!")]
    if failed:
        raise SiteError("these pages could not be drawn (the pages before them are written):\n  "
                        + "\n  ".join(d[1:] for d in failed))
    _write(out / "index.html", _index(out))
    report.seconds = round(time.monotonic() - started, 2)
    return report


def _any_target(wanted: list[Target], kind: str) -> Target:
    return next(t for t in wanted if t.kind == kind)


@cache
def site_fingerprint() -> str:
    """Hash of what shapes a page besides its product: the code and configs (code_fingerprint)
    and what code_fingerprint leaves out, the site's own code, templates, styles and fonts and its
    page texts (configs/report.yaml)."""
    h = hashlib.sha256(code_fingerprint().encode())
    folder = Path(str(resources.files("warehouse.site")))
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".css", ".woff2"):
            h.update(path.relative_to(folder).as_posix().encode())
            h.update(path.read_bytes())
    h.update((config.CONFIG_DIR / REPORT_CONFIG).read_bytes())
    return h.hexdigest()


def _source_key(fingerprint: str | None, site: str, *parts: str | None) -> str | None:
    """What a page is made from: its product's input fingerprint, the site's code, the page's
    arguments. None when the product recorded no fingerprint (the page is then always drawn)."""
    if fingerprint is None:
        return None
    return hashlib.sha256("|".join([fingerprint, site, *(p or "" for p in parts)]).encode()).hexdigest()


def _unchanged(path: Path, key: str | None) -> bool:
    if key is None or not path.exists():
        return False
    with path.open(encoding="utf-8") as fh:
        return f'<meta name="daam-source" content="{key}">' in fh.read(4096)


def _draw(job: tuple) -> str:
    """One page to draw (a worker's task): open the product read-only, read, render, write (`key`:
    what it is drawn from, written into the page)."""
    from warehouse.site.render import render_dictionary, render_page

    warehouse, kind, code, lang, school_year, out, key = job
    dictionary = kind.startswith("dictionary:")
    kind = kind.removeprefix("dictionary:")
    product = _product(Path(warehouse), kind, code)
    path = Path(out) / lang / (dictionary_name(kind) if dictionary else page_name(kind, code))
    try:
        html = (render_dictionary(_environment(), product, kind, lang, key) if dictionary
                else render_page(_environment(), product, kind, code, lang, school_year, key))
    except (duckdb.Error, ValueError, KeyError) as exc:  # one page's problem never stops the others
        return f"!{path.relative_to(out)} from {product}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    _write(path, html)
    return str(path)


def _product(warehouse: Path, kind: str, code: str) -> Path:
    return product_path(warehouse, kind, None if kind == "national" else code)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _copy_static(out: Path) -> None:
    source = Path(str(resources.files("warehouse.site") / "static"))
    shutil.copytree(source, out / "static", dirs_exist_ok=True)


def _index(out: Path) -> str:
    """The entry page: every report present in `out`, both languages, and the dictionaries."""
    from warehouse.site.render import render_index

    return render_index(_environment(), out, datetime.now())
