"""Every page of the generated site opened in Chromium (Debian's, driven by Playwright), at a
desktop and a phone width: nothing fails or is fetched from outside the site, every chart drew its
marks, Arabic pages run right to left with their letters joined, nothing sticks out sideways, the
headline numbers a person reads are the product's, and a suppressed cell shows its flag.
Screenshots land in tests/.screenshots/ (DAAM_SCREENSHOTS) for people to look at."""

from __future__ import annotations

import duckdb
import pytest

from tests.browser import harness
from tests.reports.conftest import PROVINCES, REGION, YEARS
from warehouse.products import product_path
from warehouse.site.pages import SCHOOL_INDICATORS
from warehouse.site.text import Words

pytestmark = pytest.mark.browser

UNITS = {"national.html": ("national", "MA"), f"region-{REGION}.html": ("region", REGION)} | {
    f"province-{p}.html": ("province", p) for p in PROVINCES}
VIEWPORTS = {"desktop": harness.DESKTOP, "phone": harness.PHONE}


def _pages(site) -> list:
    return sorted(site.out.rglob("*.html"))


def test_every_page_loads_offline_draws_its_charts_and_fits(site, open_visit):
    pages = _pages(site)
    assert len(pages) == 1 + 2 * (len(UNITS) + 3)
    charts = 0
    for path in pages:
        for view, size in VIEWPORTS.items():
            visit = open_visit(path, site.out, size)
            name = str(path.relative_to(site.out))
            assert visit.errors == [], (name, view)
            assert visit.outside_requests == [], (name, view)
            marks = harness.chart_marks(visit.page)
            assert all(n > 0 for n in marks.values()), (name, view, marks)
            charts += len(marks)
            overflow = harness.horizontal_overflow(visit.page)
            assert overflow == 0, (name, view, overflow)
            if path.parent.name == "ar":
                assert harness.is_rtl(visit.page), name
                assert harness.arabic_shaping_problems(visit.page) == [], (name, view)
            elif path.parent.name == "fr":
                assert not harness.is_rtl(visit.page), name
            if path.stem in ("national", f"region-{REGION}", f"province-{PROVINCES[0]}", "index"):
                harness.screenshot(visit.page, f"{path.parent.name}-{path.stem}-{view}")
            visit.close()
    # headlines aside, each unit page has a dozen charts in each language and width
    assert charts >= len(UNITS) * 2 * 2 * 10


def test_headline_numbers_read_as_the_products_values(site, open_visit):
    checked = 0
    for name, (kind, code) in UNITS.items():
        with duckdb.connect(str(product_path(site.warehouse, kind, None if kind == "national" else code)),
                            read_only=True) as con:
            values = dict(con.execute(
                "select indicator, sum(value) from mart.indicators where geo_level = ? and geo_code = ? "
                "and school_year = ? group by 1 having count(value) = count(*)", [kind, code, YEARS[-1]]).fetchall())
        for lang in ("ar", "fr"):
            visit = open_visit(site.page(lang, name), site.out)
            shown = visit.page.eval_on_selector_all(
                ".headline", "els => els.map(e => [e.dataset.indicator, e.querySelector('.value').innerText])")
            assert len(shown) == 8
            for indicator, text in shown:
                assert text.replace("p", "").strip() == Words(lang).number(values[indicator]), (name, indicator)
                checked += 1
            visit.close()
    assert checked == len(UNITS) * 2 * 8


def test_a_suppressed_cell_shows_the_flag_in_the_browser(site, open_visit):
    with duckdb.connect(str(product_path(site.warehouse, "region", REGION)), read_only=True) as con:
        school, indicator = con.execute(
            "select geo_code, indicator from mart.indicators where suppressed and geo_level = 'school' and "
            "school_year = ? and month is null and indicator in ? order by 1, 2 limit 1",
            [YEARS[-1], list(SCHOOL_INDICATORS)]).fetchall()[0]
    visit = open_visit(site.page("ar", f"region-{REGION}.html"), site.out, harness.PHONE)
    assert visit.page.is_visible('table[data-table="schools"]')  # a table with no chart is shown open
    cells = visit.page.eval_on_selector_all(
        'table[data-table="schools"] tbody tr',
        f"rows => rows.filter(r => r.cells[1].innerText === '{school}').map(r => "
        "[...r.cells].map(c => [c.innerText, c.querySelector('.flag-c')?.innerText]))")[0]
    text, flag = cells[2 + SCHOOL_INDICATORS.index(indicator)]
    assert flag == "c" and text in ("c", "cp")  # the flag, and the 'provisional' mark when the cell is open
    assert visit.page.is_visible(f'table[data-table="schools"] tr:has(td:text-is("{school}")) .flag-c')
    harness.screenshot(visit.page, "ar-region-schools-suppressed-phone")
