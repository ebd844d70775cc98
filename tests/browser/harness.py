"""Open pages of the static report site (warehouse/site) in a real Chromium and read what it drew.

The site's pages are opened from disk (file://) by the people who read them, so the tests do the same:
`open_page` loads one page in a fresh context with a given viewport, blocks and records every request
that leaves the site's folder, and records console errors, page errors and files of the site that fail
to load. The other functions read the loaded page: chart marks, horizontal overflow, Arabic shaping,
direction, screenshots. Chromium is Debian's (`.ci/chromium.sh`), driven by Playwright with
`executable_path`: Playwright never downloads a browser here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, WebSocketRoute, sync_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ENV = "DAAM_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS_ENV = "DAAM_SCREENSHOTS"

# On this closed network Chromium must not try Google's hosts (updates, sync, QUIC probes); Playwright adds
# a fresh empty --user-data-dir of its own to every launch.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = (1366, 900)
PHONE = (390, 844)
TIMEOUT_MS = 15_000


def chromium_executable() -> str | None:
    """The Chromium to drive: DAAM_CHROMIUM, else Debian's /usr/bin/chromium; None when not executable."""
    exe = os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
    return exe if os.path.isfile(exe) and os.access(exe, os.X_OK) else None


@contextmanager
def launched_browser(executable: str) -> Iterator[Browser]:
    """Chromium at `executable`, headless with CHROMIUM_FLAGS, closed on exit."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """One page loaded in its own browser context; close() (or `with`) closes the context."""

    page: Page
    errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    context: BrowserContext | None = None

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _inside(url: str, root: Path) -> bool:
    """True for data:/blob: URLs (made by the page itself) and for file:// URLs of files below root."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob"):
        return True
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    return Path(url2pathname(unquote(parts.path))).resolve().is_relative_to(root)


def open_page(browser: Browser, path: Path, site_root: Path, width: int, height: int) -> Visit:
    """Load `path` (a page below `site_root`) from disk at the given viewport, fonts loaded.

    Records console errors, uncaught page errors and files of the site that fail to load in `errors`;
    requests anywhere else (the network, files outside the site) in `outside_requests`, and aborts them,
    so nothing leaves the site's folder. Chromium's own "Failed to load resource" console lines are left
    out: each of them is one of those two records already, with its URL.
    """
    root = site_root.resolve()
    target = path.resolve()
    if not target.is_relative_to(root):
        raise ValueError(f"{path} is not inside the site {site_root}")
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                  service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    visit = Visit(page=page, context=context)

    def route(route: Route) -> None:
        if _inside(route.request.url, root):
            route.continue_()
        else:
            visit.outside_requests.append(route.request.url)
            route.abort("blockedbyclient")

    def websocket(ws: WebSocketRoute) -> None:
        # Never connected to a server: the page talks to a mock that closes at once.
        visit.outside_requests.append(ws.url)
        ws.close()

    def console(msg) -> None:
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            where = msg.location.get("url", "")
            visit.errors.append(f"console.error: {msg.text}" + (f" ({where})" if where else ""))

    def failed(request: Request) -> None:
        if request.url not in visit.outside_requests:
            visit.errors.append(f"failed to load {request.url}: {request.failure}")

    context.route("**/*", route)
    context.route_web_socket(re.compile(".*"), websocket)
    page.on("console", console)
    page.on("pageerror", lambda exc: visit.errors.append(f"page error: {exc.name or 'thrown'}: {exc.message}"))
    page.on("requestfailed", failed)
    try:
        page.goto(target.as_uri(), wait_until="load")
        page.evaluate("document.fonts.ready.then(() => document.fonts.status)")
    except BaseException:
        visit.close()
        raise
    return visit


_CHART_MARKS_JS = """
() => {
  const DRAWN = 'path, rect, line, circle, ellipse, polygon, polyline, text, use';
  return [...document.querySelectorAll('figure.chart[data-chart]')].map(fig => {
    let n = 0;
    for (const el of fig.querySelectorAll(`g.role-mark :is(${DRAWN})`)) {
      if (el.closest('.role-axis, .role-legend, .role-title')) continue;
      const box = el.getBBox();
      if (box.width > 0 || box.height > 0) n += 1;
    }
    // a heat map (charts.heatmap) is a table: its marks are the cells that carry a value's colour
    for (const td of fig.querySelectorAll('table.heatmap td.v')) {
      const box = td.getBoundingClientRect();
      const paint = getComputedStyle(td).backgroundColor;
      if (box.width > 0 && box.height > 0 && paint !== 'rgba(0, 0, 0, 0)' && paint !== 'transparent') n += 1;
    }
    return [fig.dataset.chart, n];
  });
}
"""


def chart_marks(page: Page) -> dict[str, int]:
    """Per `figure.chart[data-chart]`: how many Vega data-mark items (inside `g.role-mark`) have a size,
    plus, in a heat map's table, the value cells (`td.v`) that have a size and a painted background.

    Axes, legends and titles are not data marks and are not counted; an item of zero width and zero
    height (an empty path, a collapsed cell) draws nothing and is not counted either.
    """
    counts: dict[str, int] = {}
    for name, n in page.evaluate(_CHART_MARKS_JS):
        if name in counts:
            raise ValueError(f"two charts are named data-chart={name!r}: their counts can not be told apart")
        counts[name] = n
    return counts


class Overflow(int):
    """Pixels of horizontal overflow (an int), with the element that sticks out most for the message."""

    culprit: str

    def __new__(cls, pixels: int, culprit: str) -> Self:
        obj = super().__new__(cls, pixels)
        obj.culprit = culprit
        return obj

    def __repr__(self) -> str:
        return f"Overflow({int(self)} px, most outside: {self.culprit})" if self else "Overflow(0 px)"


_OVERFLOW_JS = """
() => {
  const doc = document.documentElement;
  const vw = doc.clientWidth;
  const overflow = doc.scrollWidth - vw;
  if (overflow <= 0) return [overflow, ''];
  // In document coordinates an LTR page may only grow to the right, an RTL page to the left.
  const clipped = el => {
    for (let a = el.parentElement; a && a !== doc; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  let worst = null, most = 0, box = null;
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    const left = r.left + window.scrollX, right = r.right + window.scrollX;
    const out = Math.max(right - vw, -left);
    // >= : of an element and its descendant sticking out as far, the descendant is the cause
    if (out > 0 && out >= most && !clipped(el)) { worst = el; most = out; box = [left, right]; }
  }
  if (!worst) return [overflow, '(no element found)'];
  const name = worst.localName + (worst.id ? '#' + worst.id : '')
    + [...worst.classList].slice(0, 3).map(c => '.' + c).join('');
  return [overflow, `${name}, ${Math.round(box[1] - box[0])} px wide, from x=${Math.round(box[0])} `
    + `to x=${Math.round(box[1])} in a ${vw} px viewport`];
}
"""


def horizontal_overflow(page: Page) -> Overflow:
    """How many pixels the document is wider than the viewport (scrollWidth - clientWidth), 0 if none.

    The result is an int; its repr names the element that sticks out most (outside any scroll or clip
    container), so `assert horizontal_overflow(page) == 0` fails with the culprit in the message.
    """
    pixels, culprit = page.evaluate(_OVERFLOW_JS)
    return Overflow(max(0, int(pixels)), culprit)


_ARABIC_SHAPING_JS = r"""
() => {
  const ARABIC = /[\u0600-\u06FF\u0750-\u077F\u0870-\u08FF\uFB50-\uFDFF\uFE70-\uFEFC]/;
  // FEFF (the byte order mark) sits in the forms-B block but is no presentation form.
  const PRESENTATION = /[\uFB50-\uFDFF\uFE70-\uFEFC]/g;
  // A word: Arabic letters, their marks, tatweel, and ZWNJ/ZWJ (so letters split by ZWNJ stay one word).
  const WORD = /[\u0620-\u065F\u066E-\u06D3\u06D5-\u06DC\u06DF-\u06E8\u06EA-\u06EF\u06FA-\u06FC\u06FF\u0750-\u077F\u200C\u200D]+/g;
  const LETTER = /[\u0620-\u064A\u066E\u066F\u0671-\u06D3\u06D5\u06EE\u06EF\u06FA-\u06FC\u06FF\u0750-\u077F]/;
  // Joining types of Unicode's ArabicShaping.txt: R letters join the letter before them only, U none;
  // every other letter (and tatweel) is dual-joining.
  const RIGHT = /[\u0622-\u0625\u0627\u0629\u062F-\u0632\u0648\u0671-\u0673\u0675-\u0677\u0688-\u0699\u06C0\u06C3-\u06CB\u06CD\u06CF\u06D2\u06D3\u06D5\u06EE\u06EF\u0759-\u075B\u076B\u076C\u0771\u0773\u0774\u0778\u0779]/;
  const NONE = /[\u0621\u0674]/;
  const GENERIC = new Set(['serif', 'sans-serif', 'monospace', 'cursive', 'fantasy', 'system-ui', 'ui-serif',
    'ui-sans-serif', 'ui-monospace', 'ui-rounded', 'math', 'emoji', 'fangsong', '-webkit-body']);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const PROBE_STYLE = 'all: revert; position: absolute; white-space: pre; visibility: hidden; font-size: 100px';

  const letters = s => [...s].filter(ch => LETTER.test(ch));
  const joins = word => {
    const ls = letters(word);
    let n = 0;
    for (let i = 0; i + 1 < ls.length; i++) {
      if (!RIGHT.test(ls[i]) && !NONE.test(ls[i]) && !NONE.test(ls[i + 1])) n++;
    }
    return n;
  };
  const isolated = word => {
    let out = '', first = true;
    for (const ch of word.replace(/[\u200C\u200D]/g, '')) {
      if (LETTER.test(ch) && !first) out += '\u200C';
      if (LETTER.test(ch)) first = false;
      out += ch;
    }
    return out;
  };
  const describe = el => {
    const name = e => e.localName + (e.id ? '#' + e.id : '')
      + [...e.classList].slice(0, 3).map(c => '.' + c).join('');
    let s = name(el);
    const group = el instanceof SVGElement && el.parentElement && el.parentElement.closest('g[class*="role-"]');
    if (group) s += ' in ' + name(group);
    const owner = el.closest('[data-chart], [data-table], [data-indicator]');
    if (owner) {
      s += ' in ' + owner.localName + ['chart', 'table', 'indicator'].filter(k => owner.dataset[k] !== undefined)
        .map(k => `[data-${k}="${owner.dataset[k]}"]`).join('');
    }
    return s;
  };

  const faces = [...document.fonts];
  const unquote = s => s.trim().replace(/^["']|["']$/g, '').toLowerCase();
  const ranges = face => face.unicodeRange.split(',').map(r => {
    const [lo, hi] = r.trim().replace(/^U\+/i, '').split('-');
    return [parseInt(lo, 16), parseInt(hi || lo, 16)];
  });
  const coversAll = (face, cps) => cps.every(cp => ranges(face).some(([lo, hi]) => lo <= cp && cp <= hi));
  const canvas = document.createElement('canvas').getContext('2d');
  const width = (font, text) => { canvas.font = font; return canvas.measureText(text).width; };
  // A family with no @font-face of the page: a system font draws the sample iff putting it in front of
  // a generic family changes the sample's width (an unknown name or a font without Arabic changes nothing).
  const systemDraws = (family, sample) => ['monospace', 'serif'].some(base =>
    Math.abs(width(`100px "${family}", ${base}`, sample) - width(`100px ${base}`, sample)) > 0.01);

  // (c) the first family of the element's font-family that can draw its Arabic letters must be a vendored
  // @font-face, loaded; a generic family or a system font means the text looks different on every machine.
  const fontProblem = (style, sample) => {
    const cps = [...new Set([...sample].map(ch => ch.codePointAt(0)))];
    const families = style.fontFamily.match(/"[^"]*"|'[^']*'|[^,]+/g) || [];
    for (const raw of families) {
      const family = unquote(raw);
      if (!family) continue;
      const own = faces.filter(f => unquote(f.family) === family);
      if (own.length) {
        const covering = own.filter(f => coversAll(f, cps));
        if (!covering.length) continue;
        const spec = `${style.fontStyle} ${style.fontWeight} 16px "${family}"`;
        if (document.fonts.check(spec, sample) && covering.some(f => f.status === 'loaded')) return null;
        return `font "${family}" covers Arabic but is not loaded (faces: `
          + covering.map(f => `${f.weight} ${f.status}`).join(', ') + ')';
      }
      if (GENERIC.has(family)) {
        return `drawn with the browser's default ${family} font: no vendored font before it in `
          + `font-family: ${style.fontFamily}`;
      }
      if (systemDraws(family, sample)) return `drawn with the system font "${family}", not a vendored font`;
    }
    return `no family of font-family: ${style.fontFamily} draws Arabic (the browser's default font does)`;
  };

  const problems = [];
  const add = (kind, text, el, detail) => problems.push([kind, text.trim().slice(0, 60), describe(el), detail]);
  const fontChecked = new Map();
  const jobs = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data;
    const el = node.parentElement;
    if (!ARABIC.test(text) || !el || el.closest('script, style, noscript, template, title, desc, metadata')) continue;
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    if (![...range.getClientRects()].some(r => r.width > 0 && r.height > 0)) continue;

    // (a) text shaped ahead of time: fixed glyph forms instead of letters
    const forms = text.match(PRESENTATION);
    if (forms) {
      const cps = [...new Set(forms)].slice(0, 6).map(ch => 'U+' + ch.codePointAt(0).toString(16).toUpperCase());
      add('presentation forms', text, el, `${forms.length} presentation-form code points (${cps.join(' ')}): `
        + 'text shaped ahead of time, which the browser can not join; write the plain letters (U+06xx)');
    }
    const style = getComputedStyle(el);
    const sample = letters(text).join('') || (text.match(new RegExp(ARABIC.source, 'g')) || []).join('');
    const key = [style.fontFamily, style.fontWeight, style.fontStyle, [...new Set(sample)].sort().join('')].join('|');
    if (!fontChecked.has(key)) fontChecked.set(key, fontProblem(style, sample));
    if (fontChecked.get(key)) add('font', text, el, fontChecked.get(key));

    // (b) words that must join, measured later in the element's own style
    const svgText = el instanceof SVGTextContentElement;
    if (el instanceof SVGElement && !svgText) continue;
    if (!svgText && el.closest('option, select, textarea')) continue;
    // One measure per text node: a single join can happen to be as wide as its two isolated letters
    // in some fonts (initial and isolated jeem in Noto Naskh), two or more can not.
    const words = text.match(WORD) || [];
    if (words.reduce((n, w) => n + joins(w), 0) >= 2) jobs.push({el, text, word: words.join(' '), svgText});
  }

  // (b) the word as written and the same letters split by ZWNJ, each in a probe appended to the element:
  // the probes inherit everything that shapes the text (font, font-feature-settings, ...), which a canvas
  // would not. Equal widths mean the browser drew the letters unjoined.
  const probe = (job, text) => {
    const p = job.svgText ? document.createElementNS(SVG_NS, 'tspan') : document.createElement('daam-probe');
    p.setAttribute('style', PROBE_STYLE);
    p.textContent = text;
    job.el.appendChild(p);
    return p;
  };
  const measure = (job, p) => job.svgText ? p.getComputedTextLength() : p.getBoundingClientRect().width;
  const probes = jobs.map(job => [probe(job, job.word), probe(job, isolated(job.word))]);
  jobs.forEach((job, i) => {
    const [joined, apart] = probes[i].map(p => measure(job, p));
    if (joined > 0 && Math.abs(joined - apart) <= 0.005 * Math.max(joined, apart)) {
      add('not joined', job.text, job.el, `the letters of ${JSON.stringify(job.word)} are drawn apart (as wide `
        + `as with ZWNJ between them: ${joined.toFixed(1)} px at 100px)`);
    }
  });
  probes.flat().forEach(p => p.remove());
  return problems;
}
"""


def arabic_shaping_problems(page: Page) -> list[str]:
    """Visible Arabic text (HTML and SVG) that the browser does not draw as joined Arabic script.

    For every visible text node with Arabic in it: (a) no presentation-form code points (U+FB50-FDFF,
    U+FE70-FEFC: text shaped into fixed glyph forms before it reached the browser); (b) every text with
    two or more pairs of letters that should join is drawn narrower or wider than the same letters split
    by ZERO WIDTH NON-JOINER, measured in probes inside the element itself (equal widths: the letters were not joined,
    whether the text, the font or the CSS is the cause); (c) the first family of the element's
    font-family that draws Arabic is a vendored @font-face (document.fonts), loaded. One readable string
    per problem: kind, text, element.
    """
    problems = []
    for kind, text, where, detail in page.evaluate(_ARABIC_SHAPING_JS):
        line = f"{kind}: {text!r} in {where}: {detail}"
        if line not in problems:
            problems.append(line)
    return problems


def is_rtl(page: Page) -> bool:
    """The page declares dir="rtl" on <html> and its body is laid out right to left."""
    return page.evaluate(
        "document.documentElement.dir === 'rtl' && getComputedStyle(document.body).direction === 'rtl'")


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG named after `name` in DAAM_SCREENSHOTS, else tests/.screenshots/; its path."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or REPO / "tests" / ".screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', name).strip('-') or 'page'}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
