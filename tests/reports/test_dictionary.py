"""The bilingual data dictionary of the level products and the indicator catalogue: complete against
the registry and indicators.sql, in proper fr and ar, and the programme rules read back from a
product's own core.programme_rule."""

from __future__ import annotations

import re

import duckdb
import pytest

from daam.config import load_settings
from tests.indicator_names import indicator_names_in_sql
from warehouse.registry import AUDIENCES, registry
from warehouse.schema import create_table
from warehouse.seeds import load_seeds
from warehouse.site import dictionary
from warehouse.site.dictionary import (
    DictionaryError,
    Indicator,
    indicator_catalogue,
    indicator_rules,
    product_tables,
    programmes,
    units,
)
from warehouse.suppression import load_rules

ARABIC = re.compile("[\u0621-\u064a]")
YEAR = "2022-2023"


def assert_bilingual(texts: dict[str, str], where: str) -> None:
    assert texts["fr"].strip() and texts["ar"].strip(), where
    assert ARABIC.search(texts["ar"]), f"{where}: Arabic text without Arabic letters"
    assert not ARABIC.search(texts["fr"]), f"{where}: French text with Arabic letters"


@pytest.fixture(scope="module")
def rules_con():
    """An in-memory product with only core.programme_rule, loaded from configs/ by the seed loader."""
    con = duckdb.connect()
    model = registry()["core.programme_rule"]
    con.execute("create schema core")
    con.execute(create_table(model))
    load_seeds(con, load_settings(), [model])
    yield con
    con.close()


# -- the indicator catalogue ---------------------------------------------------------------------

def test_the_catalogue_holds_exactly_the_indicators_of_indicators_sql_and_of_suppression():
    names = indicator_names_in_sql()
    # the parser must see the first and last branches, or this test proves nothing
    assert {"enrolled_pupils", "tayssir_amount_mismatch_count", "canteen_cost_mad", "files_on_time"} <= names
    assert set(indicator_catalogue()) == names
    assert set(indicator_catalogue()) == set(load_rules().classified)


def test_every_indicator_has_a_known_programme_unit_period_and_bilingual_texts():
    cat = indicator_catalogue()
    for ind in cat.values():
        assert ind.programme in programmes(), ind.name
        assert ind.unit in units(), ind.name
        assert ind.period in ("year", "month"), ind.name
        assert_bilingual(ind.label, f"{ind.name}.label")
        assert_bilingual(ind.definition, f"{ind.name}.definition")
    for key, texts in [*units().items(), *programmes().items()]:
        assert_bilingual(texts, key)
    assert units()["pupils"] == {"fr": "élèves", "ar": "تلاميذ"}
    assert programmes()["tayssir"]["ar"] == "تيسير"
    # the monthly indicators are the ones indicators.sql writes per school month
    assert {n for n, i in cat.items() if i.period == "month"} == {
        "tayssir_compliant_pupils", "tayssir_entitlement_mad", "canteen_meals_served", "canteen_cost_mad"}
    assert cat["tayssir_entitlement_mad"].unit == "mad"
    assert cat["tayssir_paid_as_due_count"].unit == "instalments"


def test_every_rule_an_indicator_uses_is_set_for_every_school_year():
    settings = load_settings()
    used = {r for ind in indicator_catalogue().values() for r in ind.rules}
    assert {"tayssir.monthly_amount_mad", "tayssir.max_unjustified_absence_days", "tayssir.instalments",
            "boarding.quarterly_rate_mad", "canteen.meal_rate_mad"} <= used
    for year in settings.school_years:
        year_rules = settings.programme_rules(year)
        for rule in used:
            programme, name = rule.split(".")
            assert name in year_rules[programme], f"{rule} missing in {year}"
    assert indicator_catalogue()["tayssir_compliant_pupils"].rules == (
        "tayssir.max_unjustified_absence_days", "tayssir.monthly_amount_mad")
    assert indicator_catalogue()["enrolled_pupils"].rules == ()


# -- the tables and columns of each product ------------------------------------------------------

@pytest.mark.parametrize("kind", AUDIENCES)
def test_every_published_model_and_column_has_fr_and_ar_text(kind):
    fr, ar = product_tables(kind, "fr"), product_tables(kind, "ar")
    assert [t.name for t in fr] == [t.name for t in ar] == [m.name for m in registry().visible_to(kind)]
    for t_fr, t_ar in zip(fr, ar, strict=True):
        assert_bilingual({"fr": t_fr.title, "ar": t_ar.title}, f"{t_fr.name} title")
        assert_bilingual({"fr": t_fr.grain, "ar": t_ar.grain}, f"{t_fr.name} grain")
        assert t_fr.columns, t_fr.name
        assert [c.name for c in t_fr.columns] == [c.name for c in t_ar.columns]
        for c_fr, c_ar in zip(t_fr.columns, t_ar.columns, strict=True):
            assert c_fr.type and not re.search(r"\b(?:not null|default|check)\b", c_fr.type), c_fr
            assert_bilingual({"fr": c_fr.text, "ar": c_ar.text}, f"{t_fr.name}.{c_fr.name}")


def test_product_tables_of_a_region_are_exactly_its_models_with_their_published_columns():
    tables = {t.name: t for t in product_tables("region", "ar")}
    assert list(tables) == [m.name for m in registry().visible_to("region")]
    assert "core.pupil_identity" not in tables and "core.fct_enrolment" not in tables
    indicators = tables["mart.indicators"]
    assert indicators.title == "المؤشرات"
    assert indicators.grain.startswith("سطر واحد لكل")
    assert indicators.keys == ("geo_level", "geo_code", "school_year", "month", "indicator")
    # suppression and approval columns are added to the region and national products only
    assert [c.name for c in indicators.columns][-3:] == ["suppressed", "flag", "approval_state"]
    province = {t.name: t for t in product_tables("province", "fr")}
    assert "suppressed" not in [c.name for c in province["mart.indicators"].columns]
    # a view declares no columns: they come from its SQL
    status = {c.name: c for c in tables["core.submission_status"].columns}
    assert list(status) == ["school_year", "province_code", "school_code", "record_type", "expected",
                            "received", "not_received", "on_time", "late", "assessed"]
    assert status["late"].type == "bigint"
    assert status["late"].text == "الملفات المتوصل بها بعد الأجل"
    # a per-table override wins over the column's common text; constraints are not part of a type
    outlier = {c.name: c for c in {t.name: t for t in product_tables("region", "fr")}["ops.outlier"].columns}
    assert outlier["status"].text.startswith("Statut du suivi")
    dupes = {c.name: c for c in province["ops.duplicate_candidate"].columns}
    assert dupes["state"].type == "varchar" and dupes["state"].text.startswith("Décision")


def test_no_dictionary_entry_names_something_no_product_publishes():
    doc = dictionary._dictionary()
    models = [m for kind in AUDIENCES for m in registry().visible_to(kind)]
    published = {name for kind in AUDIENCES for m in registry().visible_to(kind)
                 for name, _ in dictionary.published_columns(m, kind)}
    assert set(doc["tables"]) <= {m.name for m in models}
    assert set(doc["columns"]) <= published


def test_an_undocumented_model_or_column_is_refused_by_name(monkeypatch):
    doc = dictionary._dictionary()
    without_table = {**doc, "tables": {k: v for k, v in doc["tables"].items() if k != "core.dim_level"}}
    monkeypatch.setattr(dictionary, "_dictionary", lambda: without_table)
    with pytest.raises(ValueError, match=r"no entry for core\.dim_level, which the national product"):
        product_tables("national", "fr")

    without_column = {**doc, "columns": {k: v for k, v in doc["columns"].items() if k != "nominal_age"}}
    monkeypatch.setattr(dictionary, "_dictionary", lambda: without_column)
    with pytest.raises(DictionaryError, match=r"column nominal_age of core\.dim_level.*has no text"):
        product_tables("region", "ar")

    no_arabic = {**doc, "tables": {**doc["tables"], "mart.indicators": {
        **doc["tables"]["mart.indicators"], "columns": {"value": {"fr": "Valeur", "ar": ""}}}}}
    monkeypatch.setattr(dictionary, "_dictionary", lambda: no_arabic)
    with pytest.raises(DictionaryError, match=r"tables\.mart\.indicators\.columns\.value: no ar text"):
        product_tables("province", "fr")


def test_unknown_kind_or_language_is_refused():
    with pytest.raises(ValueError, match="unknown product kind"):
        product_tables("commune", "fr")
    with pytest.raises(ValueError, match="unknown language"):
        product_tables("region", "en")


# -- programme rules from the product ------------------------------------------------------------

def test_indicator_rules_reads_the_products_rule_values_per_school_year(rules_con):
    entitlement = indicator_catalogue()["tayssir_entitlement_mad"]
    values = indicator_rules(rules_con, entitlement, "fr")
    by = {(v.rule, v.school_year): v for v in values}
    assert {v.school_year for v in values} == set(load_settings().school_years)
    amount = by[("tayssir.monthly_amount_mad", YEAR)]
    assert amount.text == "1AP 60, 2AP 60, 3AP 80, 4AP 80, 5AP 100, 6AP 100, 1AC 140, 2AC 140, 3AC 140"
    assert amount.label == "Montant mensuel Tayssir par niveau (MAD)"
    assert by[("tayssir.max_unjustified_absence_days", YEAR)].text == "primaire 4, collège 6"

    ar = {(v.rule, v.school_year): v for v in indicator_rules(rules_con, entitlement, "ar")}
    threshold = ar[("tayssir.max_unjustified_absence_days", YEAR)]
    assert threshold.text == "الابتدائي 4، الإعدادي 6"
    assert ar[("tayssir.monthly_amount_mad", YEAR)].text.startswith("1AP 60، 2AP 60، 3AP 80")

    recon = {(v.rule, v.school_year): v.text
             for v in indicator_rules(rules_con, indicator_catalogue()["tayssir_unpaid_due_mad"], "fr")}
    assert recon[("tayssir.instalments", YEAR)] == "1: 9, 10, 11; 2: 12, 1, 2, 3; 3: 4, 5, 6"
    boarding = indicator_rules(rules_con, indicator_catalogue()["boarding_grant_mad"], "ar")
    rates = "داخلية 1800، نصف داخلية 900، مطعم إعدادي 900"
    assert {v.text for v in boarding} == {rates}
    canteen = indicator_rules(rules_con, indicator_catalogue()["canteen_cost_mad"], "fr")
    assert [(v.school_year, v.text) for v in canteen][:2] == [("2019-2020", "2"), ("2020-2021", "2")]
    assert indicator_rules(rules_con, indicator_catalogue()["enrolled_pupils"], "fr") == []


def test_nested_rule_keys_read_by_milieu_then_level(rules_con):
    kits = Indicator("kits", "schoolbags", "kits", "year", {}, {}, ("schoolbags.eligibility",))
    text = {v.school_year: v.text for v in indicator_rules(rules_con, kits, "fr")}[YEAR]
    assert text.startswith("rural — 1AP: kit complet, 2AP: livres et fournitures, ")
    assert "1AC: livres et fournitures; urbain — 1AP: kit complet, 2AP: livres seulement" in text


def test_a_product_without_a_rule_the_indicator_uses_is_refused():
    con = duckdb.connect()
    con.execute("create schema core")
    con.execute(create_table(registry()["core.programme_rule"]))
    with pytest.raises(DictionaryError, match="no values for canteen.meal_rate_mad"):
        indicator_rules(con, indicator_catalogue()["canteen_cost_mad"], "fr")
