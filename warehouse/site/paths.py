"""Where a page lives in the site, relative to its language folder (`ar/`, `fr/`)."""

from __future__ import annotations


def page_name(kind: str, code: str) -> str:
    """The report of a unit: `national.html`, `region-02.html`, `province-110.html`."""
    return "national.html" if kind == "national" else f"{kind}-{code}.html"


def dictionary_name(kind: str) -> str:
    """The data dictionary of a product kind: `dictionary-region.html`."""
    return f"dictionary-{kind}.html"
