"""The charts' category labels: cut to a number of characters (Vega's `truncate`), never to a width,
in both languages; the rows keep their whole names, so two units that share a long prefix stay two."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from warehouse.site import charts
from warehouse.site.text import Words

LONG_FR = "ECOLE PRIMAIRE ABDELKRIM EL KHATTABI UNITE CENTRALE"  # 51 characters
LONG_AR = "مجموعة مدارس عبد الكريم الخطابي الوحدة المركزية بالجماعة القروية"
SHORT = "ECOLE IBN BATOUTA"


def _labels(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


@pytest.mark.parametrize("lang,long", [("fr", LONG_FR), ("ar", LONG_AR)])
def test_a_heatmap_cuts_long_unit_names_to_their_first_characters(lang, long):
    frame = pd.DataFrame({"unit": [long, long + " 2", SHORT] * 2, "month": ["m1"] * 3 + ["m2"] * 3,
                          "rate": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]})
    svg = charts.heatmap(frame, "month", "unit", "rate", Words(lang), columns=["m1", "m2"], title="t")
    labels = _labels(svg)
    cut = long[:charts.SHORT_LABEL - 1] + "…"
    assert labels.count(cut) == 2  # both units drawn, each with its own row, under the same cut name
    assert SHORT in labels and long not in labels


def test_bars_cut_at_the_longer_limit_and_keep_a_name_that_fits():
    frame = pd.DataFrame({"unit": [LONG_FR, SHORT], "pupils": [10, 20]})
    labels = _labels(charts.bars(frame, "unit", "pupils", Words("fr"), title="t"))
    assert LONG_FR[:charts.LONG_LABEL - 1] + "…" in labels and SHORT in labels
    assert all(len(label) <= charts.LONG_LABEL for label in labels)
