"""Snapshot of what the Definitions expose, so a refactor cannot silently drop an asset, check or job."""

from __future__ import annotations

from dagster import AssetKey, build_schedule_context

from pipelines.definitions import defs

EXPECTED_ASSETS = sorted(
    ["ops/landing_inventory", "raw/schools", "staging/schools", "core/dim_school", "core/dim_geography",
     "core/dim_level", "core/dim_date", "core/dim_programme", "core/programme_rule",
     # configuration as tables (seeds), so that SQL joins it instead of pasting it in
     "core/school_calendar", "core/submission_rule", "core/submission_deadline", "core/quality_rule",
     "core/outlier_rule", "core/quality_score_weight",
     "core/dim_pupil", "core/pupil_identity", "core/fct_submission", "mart/indicators",
     "ops/outlier", "ops/quality_history", "ops/data_docs",
     "mart/tayssir_reconciliation", "mart/tayssir_targeting", "mart/boarding_capacity",
     "mart/schoolbag_needs", "mart/schoolbag_forecast", "mart/tayssir_month_close",
     "mart/pupil_in_two_schools", "mart/household", "mart/household_member", "ops/duplicate_candidate",
     "landing/sql_extract",
     # the drift of the signed units (warehouse/build/approval.py) and the roster warnings across
     # directorates (warehouse/build/roster_twins.py), then the snapshot
     "ops/approval_drift", "ops/approval_drift_file", "ops/roster_twins", "ops/published_snapshot",
     # the level products (warehouse/products.py), after the snapshot
     "published/province_products", "published/region_products", "published/national_product",
     # the reports site (warehouse/site/), after the products
     "published/report_site"]
    + [f"raw/{t}" for t in ("students", "tayssir_beneficiaries", "attendance", "schoolbags", "boarding_grants",
                             "canteen_meals", "tayssir_payments")]
    + [f"staging/{t}" for t in ("students", "tayssir_beneficiaries", "attendance", "schoolbags", "boarding_grants",
                                 "canteen_meals", "tayssir_payments")]
    + [f"core/{f}" for f in ("fct_enrolment", "fct_attendance", "fct_tayssir_month", "fct_tayssir_payment",
                              "fct_schoolbag", "fct_boarding_grant", "fct_canteen_month")]
)


def test_asset_keys_snapshot():
    graph = defs.resolve_asset_graph()
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == EXPECTED_ASSETS


def test_check_keys_snapshot():
    graph = defs.resolve_asset_graph()
    checks = sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys)
    facts = ("fct_enrolment", "fct_attendance", "fct_tayssir_month", "fct_tayssir_payment", "fct_schoolbag",
             "fct_boarding_grant", "fct_canteen_month")
    expected = (
        ["core/dim_school:every_school_in_a_known_directorate", "mart/indicators:levels_add_up",
         "staging/students:file_accounting", "core/fct_attendance:no_pupil_in_two_schools_same_month",
         "ops/outlier:no_new_outliers", "ops/approval_drift:no_new_drift", "core/dim_pupil:one_row_per_pupil"]
        + [f"core/{f}:{c}" for f in facts for c in ("referential_integrity", "reconciles_with_staging")]
        + [f"staging/{t}:quality_suite" for t in ("students", "tayssir_beneficiaries", "attendance", "schoolbags",
                                                  "boarding_grants", "canteen_meals", "tayssir_payments")]
    )
    assert checks == sorted(expected)


def test_blocking_checks_guard_the_mart():
    graph = defs.resolve_asset_graph()
    blocking = {f"{c.asset_key.to_user_string()}:{c.name}"
                for c in graph.asset_check_keys if graph.get_check_spec(c).blocking}
    assert "mart/indicators:levels_add_up" in blocking
    assert "core/fct_tayssir_month:reconciles_with_staging" in blocking
    assert "core/fct_enrolment:referential_integrity" in blocking


def test_jobs_and_partitions():
    job = defs.resolve_job_def("partition_load")
    keys = job.partitions_def.get_partition_keys()
    assert len(keys) == 7 * 82  # configured school years x directorates, never per school
    assert defs.resolve_job_def("landing_scan").partitions_def is None
    monitoring = defs.resolve_job_def("quality_monitoring")
    assert monitoring.partitions_def is None
    assert {k.to_user_string() for k in monitoring.asset_layer.executable_asset_keys} == {
        "ops/outlier", "ops/quality_history", "ops/data_docs", "mart/pupil_in_two_schools", "mart/household",
        "mart/household_member", "ops/duplicate_candidate", "core/outlier_rule", "core/quality_rule",
        "core/quality_score_weight"}
    publish = defs.resolve_job_def("publish_snapshot")
    assert {k.to_user_string() for k in publish.asset_layer.executable_asset_keys} == {
        "ops/approval_drift", "ops/approval_drift_file", "ops/roster_twins", "ops/published_snapshot",
        "published/province_products", "published/region_products", "published/national_product",
        "published/report_site"}
    snapshot = defs.resolve_asset_graph().get(AssetKey(["ops", "published_snapshot"]))
    assert AssetKey(["ops", "roster_twins"]) in snapshot.parent_keys  # copied once the warnings are true


def test_schedules_and_sensors(monkeypatch):
    schedule = defs.resolve_schedule_def("nightly_quality_monitoring")
    assert schedule.job_name == "quality_monitoring" and schedule.cron_schedule == "30 2 * * *"
    assert schedule.execution_timezone == "Africa/Casablanca"
    sensor = defs.resolve_sensor_def("failed_check_sensor")
    assert "alert_notifier" in sensor.required_resource_keys
    landing = defs.resolve_sensor_def("landing_sensor")
    assert {j.name for j in landing.jobs} == {"landing_scan", "partition_load", "publish_snapshot"}
    nightly_full = defs.resolve_schedule_def("sql_extract_nightly_full")
    assert nightly_full.job_name == "sql_extract"
    from dagster import validate_run_config

    monkeypatch.setenv("DAAM_SQL_URL", "sqlite:///replica.db")  # the URL is read at run time only
    validate_run_config(defs.resolve_job_def("sql_extract"), nightly_full.evaluate_tick(
        build_schedule_context()).run_requests[0].run_config)
    cycle = defs.resolve_schedule_def("tayssir_monthly_cycle")
    assert cycle.job_name == "tayssir_monthly_cycle" and cycle.cron_schedule == "0 6 11 * *"


def test_monthly_partitions_per_directorate():
    job = defs.resolve_job_def("tayssir_monthly_cycle")
    keys = job.partitions_def.get_partition_keys()
    assert len(keys) == 82 * 82  # calendar months 2019-09 .. 2026-06 x directorates: thousands, not millions
    assert "2022-10|110" in keys


def test_every_asset_is_documented():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, key


def test_assets_are_the_registry_models_and_jobs_select_by_tag():
    """Every table of the registry a builder writes is an asset, described by its registry entry, in
    the group of its schema; a job runs exactly the assets tagged with its name."""
    from warehouse.registry import registry

    graph = defs.resolve_asset_graph()
    for model in registry().models.values():
        if model.is_view or model.built_by == "none":
            continue
        node = graph.get(key := AssetKey(model.name.split(".")))
        assert node.description == model.description, key
        assert node.group_name == model.schema, key
    partition_load = defs.resolve_job_def("partition_load").asset_layer.executable_asset_keys
    tagged = {k for k in graph.get_all_asset_keys() if graph.get(k).tags.get("daam/job") == "partition_load"}
    assert partition_load == tagged and AssetKey(["core", "fct_enrolment"]) in tagged
