"""HTML of the site's pages, from the Jinja2 templates of `warehouse/site/templates/`."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import duckdb
import jinja2

from warehouse.site.dictionary import indicator_catalogue, indicator_rules, product_tables, programmes, units
from warehouse.site.page_data import product_years, read_page
from warehouse.site.pages import Page
from warehouse.site.paths import dictionary_name, page_name
from warehouse.site.text import LANGS, Words

OTHER = {"ar": "fr", "fr": "ar"}
PAGE = re.compile(r"^(national|region-(?P<region>\w+)|province-(?P<province>\w+))\.html$")


def _frame(words: Words, **values) -> dict:
    lang = words.lang
    return {"lang": lang, "rtl": words.rtl, "w": words, "root": "../", "other_lang": OTHER[lang],
            "source_key": None, **values}


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def unit_title(words: Words, kind: str, product: dict) -> str:
    name = product.get("name_ar" if words.lang == "ar" else "name_fr") or product.get("code")
    return f"{words('level_' + kind)} — {name}"


def render_page(env: jinja2.Environment, product: Path, kind: str, code: str, lang: str,
                school_year: str | None, source_key: str | None = None) -> str:
    """The report of one unit in one language, for `school_year` (default: the product's latest)."""
    words = Words(lang)
    with _connect(product) as con:
        years = product_years(con)
        year = school_year or (years[0] if years else "")
        data = read_page(con, kind, code, year) if year else None
    page_file = page_name(kind, code)
    if data is None:
        return env.get_template("page.html").render(**_frame(
            words, title=words("level_" + kind), school_year=school_year or "–", last_month=None, built_at="–",
            years=[], k=None, has_data=False, headlines=[], sections=[], footer="",
            other_href=f"../{OTHER[lang]}/{page_file}", dictionary_href=dictionary_name(kind),
            source_key=source_key))
    page = Page(data, words)
    last = data.last_complete_month()
    built = data.product.get("built_at")
    return env.get_template("page.html").render(**_frame(
        words, title=unit_title(words, kind, data.product), school_year=data.school_year,
        last_month=words.month(last) if last else None,
        built_at=built.strftime("%Y-%m-%d %H:%M") if hasattr(built, "strftime") else "–",
        years=data.years, k=data.product.get("suppression_k") if kind != "province" else None,
        has_data=data.has_data, headlines=page.headlines() if data.has_data else [],
        sections=page.sections() if data.has_data else [],
        footer=words("source"), other_href=f"../{OTHER[lang]}/{page_file}",
        dictionary_href=dictionary_name(kind), source_key=source_key))


def render_dictionary(env: jinja2.Environment, product: Path, kind: str, lang: str,
                      source_key: str | None = None) -> str:
    """The data dictionary of a product kind: its tables (from the registry) and every indicator
    with its definition, unit, periodicity and programme rules per school year (from the product)."""
    words = Words(lang)
    unit_names, programme_names = units(), programmes()
    with _connect(product) as con:
        indicators = [{
            "name": i.name, "label": i.label[lang], "definition": i.definition[lang],
            "unit": unit_names[i.unit][lang], "period": words("per_month" if i.period == "month" else "per_year"),
            "grain": words("grain_month" if i.period == "month" else "grain_year"),
            "programme": programme_names[i.programme][lang], "rules": indicator_rules(con, i, lang),
        } for i in indicator_catalogue().values()]
    return env.get_template("dictionary.html").render(**_frame(
        words, title=f"{words('dictionary_of')} — {words('levels_' + kind)}", indicators=indicators,
        tables=product_tables(kind, lang), footer=words("source"),
        other_href=f"../{OTHER[lang]}/{dictionary_name(kind)}", dictionary_href=None, source_key=source_key))


def render_index(env: jinja2.Environment, out: Path, now: datetime) -> str:
    """Links to every page present in the site, grouped by level, in both languages."""
    words = Words("fr")
    groups: dict[str, list] = {"national": [], "region": [], "province": []}
    for path in sorted((out / "fr").glob("*.html")):
        match = PAGE.match(path.name)
        if not match or not all((out / lg / path.name).exists() for lg in LANGS):
            continue
        kind = path.name.split("-")[0].removesuffix(".html")
        names = {lg: _title_of(out / lg / path.name) for lg in LANGS}
        code = match.group("region") or match.group("province") or "MA"
        groups[kind].append({"code": code, "name": names["fr"], "name_fr": names["fr"], "name_ar": names["ar"],
                             "fr": f"fr/{path.name}", "ar": f"ar/{path.name}"})
    dictionaries = [{"title": words("levels_" + k), "fr": f"fr/{dictionary_name(k)}", "ar": f"ar/{dictionary_name(k)}"}
                    for k in ("province", "region", "national") if (out / "fr" / dictionary_name(k)).exists()]
    return env.get_template("index.html").render(
        lang="fr", rtl=False, w=words, root="", other_lang="ar", other_href=None, dictionary_href=None,
        source_key=None,
        title=words("site_title"), footer=words("generated", at=now.strftime("%Y-%m-%d %H:%M")),
        groups=[{"level": k, "title": words("levels_" + k), "units": v} for k, v in groups.items() if v],
        dictionaries=dictionaries)


_TITLE = re.compile(r"<h1>(.*?)</h1>", re.DOTALL)


def _title_of(page: Path) -> str:
    match = _TITLE.search(page.read_text(encoding="utf-8"))
    return jinja2.filters.Markup(match.group(1)).unescape() if match else page.stem
