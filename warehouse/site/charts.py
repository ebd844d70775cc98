"""The reports' charts: Vega-Lite specifications written with Altair and rendered to SVG at build
time by vl-convert (no browser, no network), then inlined in the page; the heat maps are HTML
tables of coloured cells (`heatmap`). A page therefore carries the marks it draws and nothing
else: no data file, no JavaScript, so a suppressed value that is not in the product cannot reach
the reader through a chart either.

Right to left: in the Arabic pages the category axes are mirrored (months run from the right, the
value axis stands on the right, bars grow leftwards; a heat map's table runs from the right like
the page); the browser shapes the Arabic text of the SVG like the rest of the page, in the
vendored fonts (static/fonts.css).

Why the heat maps are not Vega: vl-convert measures every label it lays out, and an Arabic one
costs it ~2.5 ms (below). A heat map names up to 120 units, and a directorate's Arabic page has
two: 0.42 s each against 0.08 s in French. As tables, the nation's 196 pages are drawn in 59 s
instead of 110. A table costs nothing to lay out at build time, the browser cuts a long name to the
width its own font gives it, and a screen reader reads it as the table it is."""

from __future__ import annotations

import altair as alt
import pandas as pd
import vl_convert
from markupsafe import escape

from warehouse.site.text import Words, missing

FONT = "daam-latin, daam-ar, sans-serif"
WIDTH = 560
BAR_STEP = 18
PALETTE = ["#1f6f8b", "#e07a1f", "#6a994e", "#bc4749", "#7b6d8d", "#a98467"]
STATE_COLOURS = {"open": "#c9c9c9", "approved": "#6a994e", "accepted": "#1f6f8b"}
NO_STATE = "#ffffff"  # a state without a colour of its own (none today)
# Vega's "blues" scheme (the Vega heat maps' colours) read at 0, 1/8, ..., 1: its lightest blue stays
# visible on the page's white, where an empty cell is white
BLUES = ("#cfe1f2", "#b9d6ea", "#9cc8e2", "#7bb6d9", "#5ba3cf", "#408ec4", "#2978b8", "#1661a8", "#0a4a90")


# Category labels of the Vega charts (schools, directorates, measures) are cut to a number of
# characters by Vega's `truncate`, not to a width by the axis' `labelLimit`: vl-convert measures a
# label once to lay the axis out and once more against a width limit, and a label drawn in a system
# font (every Arabic label: the Liberation Sans vl-convert carries has no Arabic) costs it ~2.5 ms a
# measurement, the font file mapped anew each time (perf: two thirds of it in the kernel, mapping and
# unmapping); an Arabic page's charts took 2.2 s against 0.5 s in French. Cutting by characters is
# no coarser: the widths it measures are those of its own fonts, not of the page's (static/fonts.css).
LONG_LABEL = 40  # characters, "…" included: about 260 px at 11 px


def _cut(chars: int) -> str:
    """A label expression: the label cut to `chars` characters, the last one "…"."""
    return f"truncate(datum.label, {chars})"


def _config(chart: alt.Chart) -> alt.Chart:
    return chart.configure(font=FONT).configure_view(stroke=None).configure_axis(
        labelFontSize=11, titleFontSize=12, labelLimit=0).configure_legend(
        labelFontSize=11, titleFontSize=12, orient="bottom")


def render(chart: alt.Chart, words: Words) -> str:
    """The chart as an SVG element, numbers formatted with the page's locale."""
    # not validated against the Vega-Lite schema again (a tenth of a page): the charts are built in code
    # here, the tests draw each kind, and vl_convert refuses an invalid specification
    svg = vl_convert.vegalite_to_svg(_config(chart).to_dict(validate=False), format_locale=words.d3_locale())
    # the background rectangle would paint over the page's colours; the page styles the figure
    return svg.replace('<rect width="', '<rect class="background" fill-opacity="0" width="', 1)


def _value_axis(words: Words, title: str, fmt: str) -> alt.Axis:
    return alt.Axis(title=title, format=fmt, orient="right" if words.rtl else "left")


def bars(frame: pd.DataFrame, category: str, value: str, words: Words, *, title: str, fmt: str = ",.0f",
         colour: str | None = None, order: list[str] | None = None) -> str:
    """Horizontal bars, one per `category` (in `order`, else by value), value axis mirrored in Arabic."""
    sort = order if order is not None else alt.EncodingSortField(field=value, order="descending")
    encoding = {
        "y": alt.Y(f"{category}:N", sort=sort, title=None,
                   axis=alt.Axis(orient="right" if words.rtl else "left", labelExpr=_cut(LONG_LABEL))),
        "x": alt.X(f"{value}:Q", title=title, axis=alt.Axis(format=fmt), scale=alt.Scale(reverse=words.rtl)),
    }
    if colour:
        encoding["color"] = alt.Color(f"{colour}:N", title=None, scale=alt.Scale(range=PALETTE))
        encoding["yOffset"] = alt.YOffset(f"{colour}:N")
    else:
        encoding["color"] = alt.value(PALETTE[0])
    rows = frame[category].nunique() * (frame[colour].nunique() if colour else 1)
    chart = alt.Chart(frame).mark_bar().encode(**encoding).properties(width=WIDTH - 220,
                                                                     height=max(BAR_STEP * rows, 40))
    return render(chart, words)


def stacked_bars(frame: pd.DataFrame, category: str, value: str, part: str, words: Words, *, title: str,
                 parts: list[str]) -> str:
    """Horizontal stacked bars (e.g. covered eligible pupils and exclusion candidates per unit)."""
    chart = alt.Chart(frame).mark_bar().encode(
        y=alt.Y(f"{category}:N", title=None, sort=alt.EncodingSortField(field=value, op="sum", order="descending"),
                axis=alt.Axis(orient="right" if words.rtl else "left", labelExpr=_cut(LONG_LABEL))),
        x=alt.X(f"{value}:Q", title=title, stack="zero", scale=alt.Scale(reverse=words.rtl),
                axis=alt.Axis(format=",.0f")),
        color=alt.Color(f"{part}:N", title=None, sort=parts, scale=alt.Scale(domain=parts, range=PALETTE)),
        order=alt.Order("part_order:Q"),
    ).transform_calculate(part_order=f"indexof({parts!r}, datum['{part}'])").properties(
        width=WIDTH - 220, height=max(BAR_STEP * frame[category].nunique(), 40))
    return render(chart, words)


def month_lines(frame: pd.DataFrame, month_label: str, value: str, series: str, words: Words, *, months: list[str],
                title: str, fmt: str = ".0%") -> str:
    """One line per `series` over the school months (September first; from the right in Arabic)."""
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X(f"{month_label}:O", sort=months, title=None, scale=alt.Scale(reverse=words.rtl),
                axis=alt.Axis(labelAngle=-40)),
        y=alt.Y(f"{value}:Q", axis=_value_axis(words, title, fmt)),
        color=alt.Color(f"{series}:N", title=None, scale=alt.Scale(range=PALETTE)),
    ).properties(width=WIDTH - 80, height=240)
    return render(chart, words)


def month_bars(frame: pd.DataFrame, month_label: str, value: str, words: Words, *, months: list[str], title: str,
               fmt: str = ",.0f") -> str:
    """Vertical bars over the school months (from the right in Arabic)."""
    chart = alt.Chart(frame).mark_bar(color=PALETTE[0]).encode(
        x=alt.X(f"{month_label}:O", sort=months, title=None, scale=alt.Scale(reverse=words.rtl),
                axis=alt.Axis(labelAngle=-40)),
        y=alt.Y(f"{value}:Q", axis=_value_axis(words, title, fmt)),
    ).properties(width=WIDTH - 80, height=220)
    return render(chart, words)


def heatmap(frame: pd.DataFrame, column: str, row: str, value: str, words: Words, *, columns: list[str],
            title: str, nominal: dict[str, str] | None = None, headers: list[str] | None = None) -> str:
    """Units × periods as an HTML table of coloured cells: a rate in [0, 1] (the BLUES ramp) or, with
    `nominal` (value → colour), a state per cell. Rows in the order of `row` (its categories when it
    is categorical, else as first met), columns in the order of `columns`, headed by `headers` (shorter
    names, the whole one in their tooltip) when given; a unit × period without a value is an empty,
    uncoloured cell. Each cell names its unit, period and value in its tooltip.

    Why a table and not Vega (see the module's text): the browser lays a table out from right to
    left on an Arabic page by itself, cuts a long name to the width its own font gives it (CSS), and
    draws the page's fonts; vl-convert had to measure every unit name, ~2.5 ms an Arabic one, and a
    directorate's Arabic page has two heat maps of up to 120 schools."""
    units = (list(frame[row].cat.categories[frame[row].cat.categories.isin(frame[row])])
             if isinstance(frame[row].dtype, pd.CategoricalDtype) else list(dict.fromkeys(frame[row])))
    cells = {(u, c): v for u, c, v in zip(frame[row], frame[column], frame[value], strict=True)
             if not missing(v)}

    def shown(v) -> str:
        return str(v) if nominal else words.percent(v)

    def colour(v) -> str:
        return nominal.get(v, NO_STATE) if nominal else blues(v)

    head = "".join(f'<th scope="col">{escape(c)}</th>' if h == c else
                   f'<th scope="col" title="{escape(c)}">{escape(h)}</th>'
                   for c, h in zip(columns, headers or columns, strict=True))
    body = []
    for unit in units:
        tds = []
        for c in columns:
            v = cells.get((unit, c))
            tip = escape(f"{unit} · {c}: {'–' if v is None else shown(v)}")
            tds.append(f'<td title="{tip}"></td>' if v is None else
                       f'<td class="v" style="background:{colour(v)}" title="{tip}"></td>')
        body.append(f'<tr><th scope="row" title="{escape(unit)}"><span>{escape(unit)}</span></th>{"".join(tds)}</tr>')
    if nominal:
        legend = "".join(f'<span><i class="swatch" style="background:{c}"></i>{escape(v)}</span>'
                         for v, c in nominal.items())
    else:
        ramp = ", ".join(BLUES)
        legend = (f"<span>{escape(words.percent(0, 0))}</span><i class=\"ramp\" style=\"background:linear-gradient("
                  f"to {'left' if words.rtl else 'right'}, {ramp})\"></i><span>{escape(words.percent(1, 0))}</span>")
    return (f'<div class="table-wrap"><table class="heatmap" aria-label="{escape(title)}"><thead><tr><td></td>{head}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
            f'<p class="heatmap-legend"><span class="title">{escape(title)}</span>{legend}</p>')


def blues(rate: float) -> str:
    """The colour of `rate` (clamped to [0, 1]) on the BLUES ramp (the colours between its nine
    interpolated), as #rrggbb."""
    x = min(max(float(rate), 0.0), 1.0) * (len(BLUES) - 1)
    i = min(int(x), len(BLUES) - 2)
    a, b = (tuple(int(h[k:k + 2], 16) for k in (1, 3, 5)) for h in (BLUES[i], BLUES[i + 1]))
    return "#" + "".join(f"{round(p + (q - p) * (x - i)):02x}" for p, q in zip(a, b, strict=True))
