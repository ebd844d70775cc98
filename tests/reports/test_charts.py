"""The charts: the Vega charts' category labels are cut to a number of characters (Vega's
`truncate`), never to a width, in both languages; the heat maps are HTML tables whose rows keep
their units' whole names (the page's CSS cuts them to a width), so two units that share a long
prefix stay two, and whose cells are coloured by their value."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from warehouse.site import charts
from warehouse.site.text import Words

LONG_FR = "ECOLE PRIMAIRE ABDELKRIM EL KHATTABI UNITE CENTRALE"  # 51 characters
LONG_AR = "مجموعة مدارس عبد الكريم الخطابي الوحدة المركزية بالجماعة القروية"
SHORT = "ECOLE IBN BATOUTA"


def _labels(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def _heatmap(markup: str) -> tuple[list[str], list[str], list[list[ET.Element]], ET.Element]:
    """(column headers, row names, cells per row, legend) of a heat map's markup."""
    root = ET.fromstring(f"<root>{markup}</root>")  # markupsafe's escapes are XML's too
    table = root.find("./div/table")
    assert table is not None and table.get("class") == "heatmap"
    columns = [th.text for th in table.findall("./thead/tr/th")]
    rows = table.findall("./tbody/tr")
    names = [tr.find("./th/span").text for tr in rows]
    assert [tr.find("./th").get("title") for tr in rows] == names
    return columns, names, [tr.findall("./td") for tr in rows], root.find("./p")


def _colour(td: ET.Element) -> str | None:
    style = td.get("style")
    return style.removeprefix("background:") if style else None


@pytest.mark.parametrize("lang,long", [("fr", LONG_FR), ("ar", LONG_AR)])
def test_a_heatmap_keeps_every_units_whole_name_in_its_own_row(lang, long):
    frame = pd.DataFrame({"unit": [long, long + " 2", SHORT] * 2, "month": ["m1"] * 3 + ["m2"] * 3,
                          "rate": [0.1, 0.2, 0.3, 0.4, 0.5, None]})
    markup = charts.heatmap(frame, "month", "unit", "rate", Words(lang), columns=["m1", "m2"], title="Complétude",
                            headers=["1", "m2"])
    columns, names, cells, legend = _heatmap(markup)
    assert columns == ["1", "m2"]  # in the page's direction: the browser runs an Arabic table from the right
    assert '<th scope="col" title="m1">1</th><th scope="col">m2</th>' in markup  # a shortened header's whole name
    assert names == [long, long + " 2", SHORT]  # as first met, whole
    assert [len(row) for row in cells] == [2, 2, 2]
    # a unit × month without a value is an empty cell without colour; its tooltip says so
    assert _colour(cells[2][1]) is None and cells[2][1].get("class") is None
    assert cells[2][1].get("title") == f"{SHORT} · m2: –"
    assert cells[0][1].get("class") == "v"
    assert cells[0][1].get("title") == f"{long} · m2: {Words(lang).percent(0.4)}"
    assert legend.find("./span").text == "Complétude"


def test_a_heatmap_follows_the_categories_order_and_colours_each_cell_by_its_rate():
    units = pd.Categorical(["b", "a", "c", "a"], categories=["c", "a", "z", "b"])  # z: no row
    frame = pd.DataFrame({"unit": units, "month": ["m1", "m1", "m2", "m2"], "rate": [0.0, 1.0, 0.5, 1.7]})
    _, names, cells, _ = _heatmap(charts.heatmap(frame, "month", "unit", "rate", Words("fr"),
                                                 columns=["m1", "m2"], title="t"))
    assert names == ["c", "a", "b"]
    colours = [[_colour(td) for td in row] for row in cells]
    assert colours == [[None, charts.BLUES[4]], [charts.BLUES[-1], charts.BLUES[-1]], [charts.BLUES[0], None]]


def test_the_blues_ramp_interpolates_between_its_classes_and_clamps():
    assert charts.blues(0) == "#cfe1f2" and charts.blues(1) == "#0a4a90"
    assert charts.blues(-0.2) == "#cfe1f2" and charts.blues(3) == "#0a4a90"
    assert charts.blues(1 / 16) == "#c4dcee"  # halfway between #cfe1f2 and #b9d6ea; (225+214)/2 = 219.5 -> 220
    ramp = [charts.blues(x / 20) for x in range(21)]
    assert [int(c[1:3], 16) for c in ramp] == sorted((int(c[1:3], 16) for c in ramp), reverse=True)


def test_a_heatmap_of_states_colours_each_state_and_escapes_names():
    states = {"ouvert": "#c9c9c9", "validé": "#6a994e"}
    frame = pd.DataFrame({"unit": ["<b>A&B</b>", "<b>A&B</b>"], "period": ["m1", "année"],
                          "state": ["validé", "ouvert"]})
    markup = charts.heatmap(frame, "period", "unit", "state", Words("fr"), columns=["m1", "année"], title="État",
                            nominal=states)
    assert "<b>" not in markup
    _, names, cells, legend = _heatmap(markup)
    assert names == ["<b>A&B</b>"]
    assert [_colour(td) for td in cells[0]] == ["#6a994e", "#c9c9c9"]
    assert cells[0][0].get("title") == "<b>A&B</b> · m1: validé"
    swatches = legend.findall("./span/i")
    assert [s.get("style") for s in swatches] == ["background:#c9c9c9", "background:#6a994e"]
    assert [s.tail for s in swatches] == ["ouvert", "validé"]


def test_bars_cut_at_the_longer_limit_and_keep_a_name_that_fits():
    frame = pd.DataFrame({"unit": [LONG_FR, SHORT], "pupils": [10, 20]})
    labels = _labels(charts.bars(frame, "unit", "pupils", Words("fr"), title="t"))
    assert LONG_FR[:charts.LONG_LABEL - 1] + "…" in labels and SHORT in labels
    assert all(len(label) <= charts.LONG_LABEL for label in labels)
