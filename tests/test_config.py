"""configs/ is read into typed settings; programme rules by year; a missing year names itself."""

from __future__ import annotations

import pytest

from daam.codes import is_valid_school_code, make_school_code, school_check_letter
from daam.config import ConfigError, load_settings


def test_reference_data_is_complete():
    s = load_settings()
    assert len(s.regions) == 12 and len(s.provinces) == 82
    assert {p.region_code for p in s.provinces.values()} == set(s.regions)
    assert s.provinces["110"].name_fr == "Nador" and s.provinces["110"].name_ar == "الناظور"
    assert sum(p.region_code == "02" for p in s.provinces.values()) == 8


def test_programme_rules_for_a_year():
    rules = load_settings().programme_rules("2022-2023")
    assert rules["tayssir"]["monthly_amount_mad"] == {
        "1AP": 60, "2AP": 60, "3AP": 80, "4AP": 80, "5AP": 100, "6AP": 100, "1AC": 140, "2AC": 140, "3AC": 140}
    assert rules["tayssir"]["max_unjustified_absence_days"] == {"primaire": 4, "college": 6}
    assert rules["boarding"]["quarterly_rate_mad"]["internat"] == 1800
    assert rules["canteen"]["meal_rate_mad"] == 2


def test_a_year_without_rules_is_a_clear_error():
    with pytest.raises(ConfigError, match="2031-2032.*programme_rules.yaml|programme_rules.yaml.*2031-2032"):
        load_settings().programme_rules("2031-2032")


def test_a_year_missing_one_rule_names_the_rule():
    import dataclasses

    s = load_settings()
    broken = {**s._rules, "2022-2023": {"canteen": {"meal_rate_mad": 3}}}
    broken["defaults"] = {k: v for k, v in s._rules["defaults"].items() if k != "boarding"}
    settings = dataclasses.replace(s, _rules=broken)
    with pytest.raises(ConfigError, match=r"school year 2022-2023 has no `boarding.quarterly_rate_mad`"):
        settings.programme_rules("2022-2023")
    # a year's own block overrides one key and keeps the rest of the defaults
    assert dataclasses.replace(s, _rules={**s._rules, "2022-2023": {"canteen": {"meal_rate_mad": 3}}}
                               ).programme_rules("2022-2023")["canteen"]["meal_rate_mad"] == 3


def test_calendar():
    s = load_settings()
    assert s.months_of("2022-2023") == ["2022-09", "2022-10", "2022-11", "2022-12", "2023-01", "2023-02",
                                        "2023-03", "2023-04", "2023-05", "2023-06"]
    assert s.school_days("2022-2023", 10) == 19
    assert s.school_days("2024-2025", 10) == 17  # the year's own override


@pytest.mark.parametrize("code", ["16698Z", "16699A", "16701C", "16851R", "55976T"])
def test_real_school_codes_pass_the_check_letter(code):
    assert is_valid_school_code(code)


def test_check_letter_rule():
    assert school_check_letter("01234") == "R"  # the made-up 01234A of the contract fails
    assert not is_valid_school_code("01234A")
    assert make_school_code(16698) == "16698Z"
