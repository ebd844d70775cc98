"""The reports site on a generated warehouse: every page exists in both languages, each headline is
the value of its own level's product, nothing is fetched or embedded, suppressed values never
reach a page, and bad requests get a clear answer (exit 2, or a page that says there is no data).
What a person sees in a browser is checked in test_site_browser.py."""

from __future__ import annotations

import os
import re
import time
from html import unescape
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main as daam
from tests.reports.conftest import PROVINCES, REGION, YEARS
from warehouse.follow_up import list_outliers
from warehouse.products import product_path
from warehouse.site.build import build_site
from warehouse.site.pages import SCHOOL_INDICATORS
from warehouse.site.text import Words

UNITS = [("national", "MA", "national.html")] + [("region", REGION, f"region-{REGION}.html")] + [
    ("province", p, f"province-{p}.html") for p in PROVINCES]
HEADLINE = re.compile(r'<div class="headline" data-indicator="(?P<ind>\w+)"(?: data-value="(?P<v>[^"]+)")?'
                      r'(?P<sup> data-suppressed="true")?>')


def _product(run, kind: str, code: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(product_path(run.warehouse, kind, None if kind == "national" else code)),
                          read_only=True)


def _own_value(con, kind: str, code: str, indicator: str, year: str) -> float | None:
    level = {"province": "province", "region": "region", "national": "national"}[kind]
    rows = con.execute("select value from mart.indicators where geo_level = ? and geo_code = ? and indicator = ? "
                       "and school_year = ?", [level, code, indicator, year]).fetchall()
    if not rows or any(v is None for (v,) in rows):
        return None
    return sum(v for (v,) in rows)


def test_every_unit_has_a_page_in_both_languages_linked_from_the_index(site):
    index = (site.out / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"]+)"', index))
    for _, _, name in UNITS:
        for lang in ("ar", "fr"):
            assert f"{lang}/{name}" in links
            assert site.page(lang, name).is_file()
    for kind in ("province", "region", "national"):
        assert {f"ar/dictionary-{kind}.html", f"fr/dictionary-{kind}.html"} <= links
    for link in links:
        assert (site.out / link).resolve().is_file() or link.startswith("static/"), link


def test_pages_declare_language_and_direction(site):
    for _, _, name in UNITS:
        assert '<html lang="ar" dir="rtl">' in site.page("ar", name).read_text(encoding="utf-8")
        assert '<html lang="fr" dir="ltr">' in site.page("fr", name).read_text(encoding="utf-8")


def test_headlines_are_their_own_products_values(site):
    year = YEARS[-1]
    checked = 0
    for kind, code, name in UNITS:
        with _product(site, kind, code) as con:
            for lang in ("ar", "fr"):
                html = site.page(lang, name).read_text(encoding="utf-8")
                found = {m["ind"]: m for m in HEADLINE.finditer(html)}
                assert {"enrolled_pupils", "tayssir_beneficiaries", "files_received"} <= set(found)
                for indicator, match in found.items():
                    want = _own_value(con, kind, code, indicator, year)
                    if match["sup"]:
                        assert want is None
                        continue
                    if want is None:
                        assert match["v"] is None
                        continue
                    assert float(match["v"]) == pytest.approx(want), (name, lang, indicator)
                    # and the text shown is that number in the page's locale
                    shown = Words(lang).number(want)
                    value = re.compile(r'<div class="value">(.*?)</div>', re.DOTALL).search(html, match.end())
                    assert unescape(value.group(1)).startswith(shown), (name, lang, indicator, shown)
                    checked += 1
    assert checked >= 4 * 2 * 5


def test_no_script_no_data_file_no_address_outside_the_site(site):
    for path in site.out.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert "<script" not in html, path
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html), path
        assert "application/json" not in html and "data:application" not in html, path
    css = (site.out / "static" / "fonts.css").read_text(encoding="utf-8")
    assert "http" not in css.replace("https://scripts.sil.org", "")


def _suppressed_cells(site) -> list[tuple[str, str, str, float]]:
    """(school, indicator, year, true value) of every school cell the region product suppressed,
    with the true value from the working warehouse."""
    with _product(site, "region", REGION) as con:
        cells = con.execute("select geo_code, indicator, school_year from mart.indicators where suppressed "
                            "and geo_level = 'school' and school_year = ? and month is null",
                            [YEARS[-1]]).fetchall()
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        truth = {(c, i, y): v for c, i, y, v in con.execute(
            "select geo_code, indicator, school_year, value from mart.indicators where geo_level = 'school' "
            "and month is null").fetchall()}
    return [(c, i, y, truth[(c, i, y)]) for c, i, y in cells]


def test_suppressed_values_never_reach_a_page(site):
    cells = _suppressed_cells(site)
    assert cells, "the tiny landing zone has small schools: some cells must be suppressed"
    with _product(site, "region", REGION) as con:
        published = {v for (v,) in con.execute("select distinct value from mart.indicators where value is not null "
                                                "union select distinct value from ops.outlier where value is not "
                                                "null").fetchall()}
    for lang in ("ar", "fr"):
        html = site.page(lang, f"region-{REGION}.html").read_text(encoding="utf-8")
        text = unescape(re.sub(r"<[^>]+>", " ", html))
        table = re.search(r'data-table="schools">(.*?)</table>', html, re.DOTALL).group(1)
        rows = {re.findall(r"<td[^>]*>(.*?)</td>", r)[1]: re.findall(r"<td[^>]*>(.*?)</td>", r)[2:]
                for r in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL) if "<td" in r}
        flagged = 0
        for school, indicator, _, true in cells:
            if indicator in SCHOOL_INDICATORS:
                cell = rows[school][SCHOOL_INDICATORS.index(indicator)]
                assert cell.startswith('<span class="flag flag-c"'), (school, indicator, cell)
                flagged += 1
            # a true value that the product publishes nowhere must appear nowhere in the page
            if true not in published and true >= 10:
                shown = Words(lang).number(true)
                assert not re.search(rf"(?<![\d.,\u202f]){re.escape(shown)}(?![\d.,\u202f])", text), (school, true)
        assert flagged > 0


def test_provisional_values_are_marked_and_signed_ones_are_not(site):
    """The demo signs 110's first term and its year, the region accepts September-October. On 110's
    page those months carry no 'provisional' mark and the open months do; on the region's page the
    ranked directorates show 110's signed yearly values unmarked, 111's (never signed) marked."""
    words = Words("fr")
    start = int(YEARS[-1][:4])
    html = site.page("fr", f"province-{PROVINCES[0]}.html").read_text(encoding="utf-8")
    table = re.search(r'data-table="compliance">(.*?)</table>', html, re.DOTALL).group(1)
    rows = {re.search(r"<td>([^<]+)</td>", r).group(1): r for r in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)
            if "<td>" in r}
    assert 'class="prov"' not in rows[words.month(f"{start}-09")]
    assert 'class="prov"' not in rows[words.month(f"{start}-12")]
    assert 'class="prov"' in rows[words.month(f"{start + 1}-03")]

    html = site.page("fr", f"region-{REGION}.html").read_text(encoding="utf-8")
    table = re.search(r'data-table="ranked">(.*?)</table>', html, re.DOTALL).group(1)
    ranked = {re.findall(r"<td[^>]*>(.*?)</td>", r)[1]: re.findall(r"<td[^>]*>(.*?)</td>", r)[2]
              for r in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL) if "<td" in r}
    assert 'class="prov"' not in ranked[PROVINCES[0]]
    assert 'class="prov"' in ranked[PROVINCES[1]]


def test_a_school_year_without_data_gives_a_page_that_says_so(site, tmp_path):
    out = tmp_path / "site"
    report = build_site(site.warehouse, out, level="province", code=PROVINCES[0], school_year="2015-2016")
    html = (out / "fr" / f"province-{PROVINCES[0]}.html").read_text(encoding="utf-8")
    assert "Aucune donnée pour l'année scolaire 2015-2016" in unescape(html)
    assert '<figure class="chart"' not in html
    assert len(report.pages) == 2 + 2  # the page and the province dictionary, in both languages


@pytest.mark.parametrize("args, message", [
    (["--level", "county"], "there is no level 'county'"),
    (["--level", "province", "--code", "999"], "no directorate (province) with code '999'"),
    (["--level", "region", "--code", "99"], "no region with code '99'"),
    (["--lang", "en"], "there is no language 'en'"),
    (["--code", "110"], "--code needs --level"),
])
def test_a_level_or_code_that_does_not_exist_exits_2(site, tmp_path, capsys, args, message):
    assert daam(["report", "--warehouse", str(site.warehouse), "--out", str(tmp_path / "s"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s" / "index.html").exists()


def test_a_stale_or_missing_product_is_rebuilt_before_its_page(site, tmp_path, capsys):
    product = product_path(site.warehouse, "province", PROVINCES[1])
    built = product.stat().st_mtime
    now = time.time()
    os.utime(site.warehouse, (now, now))  # the warehouse changed after its products
    assert daam(["report", "--warehouse", str(site.warehouse), "--out", str(tmp_path / "s"), "--level",
                 "province", "--code", PROVINCES[1]]) == 0
    out = capsys.readouterr().out
    assert f"rebuilt 1 missing or stale product(s) first: province {PROVINCES[1]}" in out
    assert product.stat().st_mtime > built
    assert str(tmp_path / "s" / "index.html") in out

    product.chmod(0o644)
    product.unlink()
    assert daam(["report", "--warehouse", str(site.warehouse), "--out", str(tmp_path / "t"), "--level",
                 "province", "--code", PROVINCES[1], "--lang", "ar"]) == 0
    assert f"rebuilt 1 missing or stale product(s) first: province {PROVINCES[1]}" in capsys.readouterr().out
    assert product.exists()
    assert (tmp_path / "t" / "ar" / f"province-{PROVINCES[1]}.html").exists()
    assert not (tmp_path / "t" / "fr" / f"province-{PROVINCES[1]}.html").exists()

    # a product made by an older daam, without a table the page reads, is rebuilt too
    product.chmod(0o644)
    with duckdb.connect(str(product)) as con:
        con.execute("drop table mart.submission_month")
    assert daam(["report", "--warehouse", str(site.warehouse), "--out", str(tmp_path / "u"), "--level",
                 "province", "--code", PROVINCES[1]]) == 0
    assert f"rebuilt 1 missing or stale product(s) first: province {PROVINCES[1]}" in capsys.readouterr().out
    with duckdb.connect(str(product), read_only=True) as con:
        assert con.execute("select count(*) from mart.submission_month").fetchall()[0][0] > 0


def test_the_dictionary_lists_every_table_and_indicator_of_its_product(site):
    for kind, code, _ in UNITS[:3]:
        with _product(site, kind, code) as con:
            tables = {f"{s}.{t}" for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables").fetchall()}
            indicators = {i for (i,) in con.execute("select distinct indicator from mart.indicators").fetchall()}
        for lang in ("ar", "fr"):
            html = site.page(lang, f"dictionary-{kind}.html").read_text(encoding="utf-8")
            documented = set(re.findall(r'id="table-([\w.]+)"', html))
            assert tables - {"ops.product"} <= documented, tables - documented
            assert indicators <= set(re.findall(r'id="indicator-(\w+)"', html))
        assert Path(site.page("ar", f"dictionary-{kind}.html")).read_text(encoding="utf-8").count("dir=\"rtl\"") == 1


def test_an_outliers_follow_up_status_reaches_the_reports(site):
    """`daam outlier confirm` republishes: the directorate's and the region's pages then show the
    outlier as confirmed, with who reviewed it and the note."""
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        outliers = list_outliers(con, school_year=YEARS[-1])
    assert len(outliers) > 0
    first = outliers.iloc[0]
    page = f"province-{first['province']}.html"
    before = site.page("fr", page).read_text(encoding="utf-8")
    assert "monitor-110" not in before and ">ouverte<" in before
    assert daam(["outlier", "confirm", first["id"], "--warehouse", str(site.warehouse), "--by", "monitor-110",
                 "--note", "école appelée le 3 décembre"]) == 0
    for name in (page, f"region-{REGION}.html"):
        html = unescape(site.page("fr", name).read_text(encoding="utf-8"))
        table = re.search(r'data-table="outliers">(.*?)</table>', html, re.DOTALL).group(1)
        row = next(r for r in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL) if f"({first['school']})" in r
                   and ">confirmée<" in r)
        assert "monitor-110" in row and "école appelée le 3 décembre" in row
