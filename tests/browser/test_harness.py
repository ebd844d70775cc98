"""The browser harness fails when it should: small hand-written pages, each with one known defect.

Each page is written into a copy of the site's folder in tmp_path, with the site's real static/ (the
vendored fonts and fonts.css) next to it, and opened from disk like the real pages.
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
import zlib
from pathlib import Path

import pandas as pd
import pytest
import vl_convert

from tests.browser import harness
from warehouse.site import charts
from warehouse.site.text import Words

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "warehouse" / "site" / "static"
STACK = {"ar": '"daam-ar", "daam-latin", sans-serif', "fr": '"daam-latin", "daam-ar", sans-serif'}
SCHOOL = "مدرسة"  # "school": mim, dal, reh, seen, teh marbuta; mim-dal and reh-seen-teh join
# The same word in isolated presentation forms (U+FEE1 U+FEA9 U+FEAD U+FEB1 U+FE93): what a reshaper
# library writes when it shapes text ahead of time.
SCHOOL_FORMS = "\ufee1\ufea9\ufead\ufeb1\ufe93"
ZWNJ = "\u200c"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(STATIC, root / "static")
    return root


def write(site: Path, rel: str, body: str, lang: str = "ar", head: str = "") -> Path:
    """A page of the site at `rel` with the site's fonts.css linked relatively and the font stack of `lang`."""
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    up = "../" * (len(Path(rel).parts) - 1)
    direction = "rtl" if lang == "ar" else "ltr"
    path.write_text(
        f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="{up}static/fonts.css">'
        f"<style>body {{ font-family: {STACK[lang]}; }} svg text {{ font-family: inherit; }}</style>{head}"
        f"</head><body>{body}</body></html>",
        encoding="utf-8",
    )
    return path


def png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def test_vendored_fonts_load_on_file_urls(site: Path, open_visit) -> None:
    page = write(site, "ar/province-110.html", f"<h1>{SCHOOL} الإدريسي</h1><p>{SCHOOL} <b>{SCHOOL}</b> Tayssir 2023</p>")
    visit = open_visit(page, site)
    faces = visit.page.evaluate(
        "[...document.fonts].map(f => [f.family.replace(/\"/g, ''), f.weight, f.status, f.unicodeRange])")
    loaded = {(family, weight) for family, weight, status, ranges in faces
              if status == "loaded" and ranges.startswith(("U+600-6FF", "U+0-FF"))}
    assert {("daam-ar", "400"), ("daam-ar", "700"), ("daam-latin", "400"), ("daam-latin", "700")} <= loaded
    # the face that draws the heading is the vendored one, not a system font that happens to have Arabic
    cdp = visit.page.context.new_cdp_session(visit.page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    h1 = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    used = {f["familyName"]: f["isCustomFont"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": h1})["fonts"]}
    assert used == {"Noto Naskh Arabic": True, "Noto Sans": True}
    assert visit.errors == [] and visit.outside_requests == []
    assert harness.arabic_shaping_problems(visit.page) == []
    assert harness.is_rtl(visit.page) is True
    french = open_visit(write(site, "fr/region-02.html", f"<p>École {SCHOOL}</p>", lang="fr"), site)
    assert harness.is_rtl(french.page) is False
    assert harness.arabic_shaping_problems(french.page) == []


def test_joined_arabic_passes_in_html_and_svg(site: Path, open_visit) -> None:
    body = (f'<p>{SCHOOL} <span style="letter-spacing: 2px">الدعم الاجتماعي</span></p>'
            f'<p style="font-variant-ligatures: none">تيسير</p>'
            # words that can not join (dal, alef, reh, waw only join the letter before them): never flagged,
            # though drawn as wide as their letters split by ZWNJ
            f"<p>دار ورد و</p>"
            f'<svg width="300" height="60"><text x="280" y="40" text-anchor="end">{SCHOOL} عمالة</text></svg>')
    visit = open_visit(write(site, "ar/index.html", body), site)
    assert harness.arabic_shaping_problems(visit.page) == []


def test_presentation_forms_fail(site: Path, open_visit) -> None:
    visit = open_visit(write(site, "ar/p.html", f'<div class="headline" data-indicator="schools">'
                                                f'<span id="pre">{SCHOOL_FORMS}</span></div>'), site)
    problems = harness.arabic_shaping_problems(visit.page)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"presentation forms: {SCHOOL_FORMS!r} in span#pre in "
                                  'div[data-indicator="schools"]: 5 presentation-form code points')
    assert "U+FEE1 U+FEA9 U+FEAD U+FEB1 U+FE93" in problems[0]


def test_letters_split_by_zwnj_fail(site: Path, open_visit) -> None:
    apart = ZWNJ.join(SCHOOL)
    visit = open_visit(write(site, "ar/p.html", f"<p>{SCHOOL}</p><p id='apart'>{apart}</p>"), site)
    problems = harness.arabic_shaping_problems(visit.page)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"not joined: {apart!r} in p#apart: the letters of ")


def test_joining_switched_off_by_css_fails(site: Path, open_visit) -> None:
    # Plain letters in a vendored, loaded Arabic font: only the rendered width shows that the CSS turned
    # the joining forms off (a canvas measurement in the same font would not see the CSS).
    style = "font-feature-settings: 'init' 0, 'medi' 0, 'fina' 0"
    chart = (f'<figure class="chart" data-chart="bars"><svg width="200" height="40"><g class="mark-text role-mark">'
             f'<text x="150" y="30" style="{style}">{SCHOOL}</text></g></svg></figure>')
    visit = open_visit(write(site, "ar/p.html", f'<p>{SCHOOL}</p><p class="off" style="{style}">{SCHOOL}</p>{chart}'),
                       site)
    problems = harness.arabic_shaping_problems(visit.page)
    assert len(problems) == 2, problems
    word = json.dumps(SCHOOL, ensure_ascii=False)
    assert problems[0].startswith(f"not joined: {SCHOOL!r} in p.off: the letters of {word} are drawn apart")
    assert problems[1].startswith(f"not joined: {SCHOOL!r} in text in g.mark-text.role-mark in "
                                  f'figure[data-chart="bars"]: the letters of {word} are drawn apart')


def test_arabic_outside_the_vendored_fonts_fails(site: Path, open_visit) -> None:
    head = ('<style>@font-face { font-family: "broken-ar"; src: url("../static/fonts/missing.woff2"); '
            "unicode-range: U+0600-06FF; font-display: block; }</style>")
    body = (f'<p id="generic" style="font-family: serif">{SCHOOL}</p>'
            f'<p id="broken" style="font-family: broken-ar, daam-ar">{SCHOOL}</p>'
            # a name that is no font at all is skipped by the browser, and by the check
            f'<p id="unknown" style="font-family: \'No Such Font\', daam-ar">{SCHOOL}</p>')
    visit = open_visit(write(site, "ar/p.html", body, head=head), site)
    problems = harness.arabic_shaping_problems(visit.page)
    assert problems == [
        (f"font: {SCHOOL!r} in p#generic: drawn with the browser's default serif font: no vendored font before "
         "it in font-family: serif"),
        f'font: {SCHOOL!r} in p#broken: font "broken-ar" covers Arabic but is not loaded (faces: normal error)',
    ]
    assert len(visit.errors) == 1 and visit.errors[0].startswith(
        f"failed to load {(site / 'static/fonts/missing.woff2').as_uri()}: net::ERR_FILE_NOT_FOUND")


def test_chart_marks_counts_drawn_data_marks(site: Path, open_visit) -> None:
    spec = {"data": {"values": [{"a": "x", "b": 1}, {"a": "y", "b": 2}, {"a": "z", "b": 3}]}, "mark": "bar",
            "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}}}
    vega_svg = vl_convert.vegalite_to_svg(json.dumps(spec))
    two = ('<svg width="100" height="50"><g class="mark-rect role-mark"><rect width="10" height="20"/>'
           '<path d="M20,0h10v20h-10Z"/></g><g class="mark-text role-axis-label"><text>1</text></g></svg>')
    empty = '<svg width="100" height="50"><g class="mark-rect role-mark"><path d=""/></g></svg>'
    # a heat map's table: two value cells painted, one blank cell, one value cell collapsed to nothing
    frame = pd.DataFrame({"unit": ["a", "a", "b"], "month": ["m1", "m2", "m1"], "rate": [0.2, 0.9, 0.5]})
    heat = charts.heatmap(frame, "month", "unit", "rate", Words("fr"), columns=["m1", "m2"], title="t")
    collapsed = heat.replace('<td class="v" style="background:', '<td class="v" style="display:none;background:', 1)
    body = "".join(f'<figure class="chart" data-chart="{name}">{svg}</figure>'
                   for name, svg in (("vega", vega_svg), ("two", two), ("empty", empty), ("heat", heat),
                                     ("collapsed", collapsed)))
    visit = open_visit(write(site, "fr/p.html", body, lang="fr"), site)
    assert harness.chart_marks(visit.page) == {"vega": 3, "two": 2, "empty": 0, "heat": 3, "collapsed": 2}


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_wide_element_overflows_at_phone_width(site: Path, open_visit, lang: str) -> None:
    body = '<p>ok</p><div class="box"><div id="wide" style="width: 2000px; height: 10px"></div></div>'
    page = write(site, f"{lang}/p.html", body, lang=lang, head="<style>body { margin: 0 }</style>")
    overflow = harness.horizontal_overflow(open_visit(page, site, harness.PHONE).page)
    assert overflow == 2000 - harness.PHONE[0]
    assert overflow.culprit.startswith("div#wide, 2000 px wide")
    assert "div#wide" in repr(overflow)
    fits = write(site, f"{lang}/fits.html", '<div style="max-width: 100%; width: 2000px; height: 10px"></div>',
                 lang=lang)
    assert harness.horizontal_overflow(open_visit(fits, site, harness.PHONE).page) == 0


def test_requests_outside_the_site_are_recorded_and_blocked(site: Path, open_visit) -> None:
    (site.parent / "outside.png").write_bytes(png_1x1())
    (site / "static" / "inside.png").write_bytes(png_1x1())
    body = ('<img id="outside" src="../outside.png"><img id="inside" src="static/inside.png">'
            '<img id="data" src="data:image/png;base64,'
            + base64.b64encode(png_1x1()).decode() + '">')
    page = write(site, "index.html", body, head='<script src="https://example.org/x.js"></script>')
    visit = open_visit(page, site)
    assert sorted(visit.outside_requests) == sorted(["https://example.org/x.js",
                                                     (site.parent / "outside.png").as_uri()])
    loaded = visit.page.evaluate("[...document.images].map(i => [i.id, i.naturalWidth])")
    assert loaded == [["outside", 0], ["inside", 1], ["data", 1]]
    assert visit.errors == []


def test_console_and_page_errors_are_recorded(site: Path, open_visit) -> None:
    body = ('<script>console.log("fine"); console.warn("meh"); console.error("boom");</script>'
            '<script>throw new Error("thrown on load");</script>')
    page = write(site, "ar/p.html", body, head='<link rel="stylesheet" href="../static/missing.css">')
    errors = open_visit(page, site).errors
    assert sorted(errors) == sorted([
        f"console.error: boom ({page.as_uri()})",
        "page error: Error: thrown on load",
        f"failed to load {(site / 'static/missing.css').as_uri()}: net::ERR_FILE_NOT_FOUND",
    ])


def test_screenshot_is_a_full_page_png(site: Path, open_visit, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(harness.SCREENSHOTS_ENV, str(tmp_path / "shots"))
    page = write(site, "ar/p.html", '<div style="height: 1500px"></div>')
    path = harness.screenshot(open_visit(page, site, harness.PHONE).page, "ar/p phone")
    assert path == tmp_path / "shots" / "ar-p-phone.png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == harness.PHONE[0] and height >= 1500
