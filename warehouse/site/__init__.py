"""The reports site: a static, bilingual (Arabic, French) HTML report per directorate, region and
the nation, each built only from its own level's product (`warehouse/products.py`), with charts
rendered to SVG at build time so a page works offline and carries no data beyond what it shows."""
