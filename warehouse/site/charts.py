"""The reports' charts: Vega-Lite specifications written with Altair and rendered to SVG at build
time by vl-convert (no browser, no network), then inlined in the page. A page therefore carries
the marks it draws and nothing else: no data file, no JavaScript, so a suppressed value that is not
in the product cannot reach the reader through a chart either.

Right to left: in the Arabic pages the category axes are mirrored (months run from the right, the
value axis stands on the right, bars grow leftwards); the browser shapes the Arabic text of the
SVG like the rest of the page, in the vendored fonts (static/fonts.css)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import vl_convert

from warehouse.site.text import Words

FONT = "daam-latin, daam-ar, sans-serif"
WIDTH = 560
BAR_STEP = 18
PALETTE = ["#1f6f8b", "#e07a1f", "#6a994e", "#bc4749", "#7b6d8d", "#a98467"]
STATE_COLOURS = {"open": "#c9c9c9", "approved": "#6a994e", "accepted": "#1f6f8b"}


# Category labels (schools, directorates, measures) are cut to a number of characters by Vega's
# `truncate`, not to a width by the axis' `labelLimit`: vl-convert measures a label once to lay the
# axis out and once more against a width limit, and a label drawn in a system font (every Arabic
# label: the Liberation Sans vl-convert carries has no Arabic) costs it ~2.5 ms a measurement, the
# font file mapped anew each time (perf); an Arabic page's charts took 2.2 s against 0.5 s in
# French. Cutting by characters is no coarser: the widths it measures are those of its own fonts,
# not of the page's (static/fonts.css).
SHORT_LABEL, LONG_LABEL = 34, 40  # characters, "…" included: about 220 and 260 px at 11 px


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
            title: str, fmt: str = ".0%", nominal: dict[str, str] | None = None) -> str:
    """Units × periods: a rate (`fmt`) or, with `nominal` (value → colour), a state per cell."""
    if nominal:
        colour = alt.Color(f"{value}:N", title=title, scale=alt.Scale(domain=list(nominal), range=list(
            nominal.values())))
    else:
        colour = alt.Color(f"{value}:Q", title=title, scale=alt.Scale(scheme="blues", domain=[0, 1]),
                           legend=alt.Legend(format=fmt))
    rows = frame[row].nunique()
    chart = alt.Chart(frame).mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=alt.X(f"{column}:O", sort=columns, title=None, scale=alt.Scale(reverse=words.rtl),
                axis=alt.Axis(labelAngle=-40, orient="top")),
        y=alt.Y(f"{row}:N", title=None, sort=None, axis=alt.Axis(orient="right" if words.rtl else "left",
                                                                 labelExpr=_cut(SHORT_LABEL))),
        color=colour,
    ).properties(width=WIDTH - 220, height=max(min(14 * rows, 14 * 120), 30))
    return render(chart, words)
