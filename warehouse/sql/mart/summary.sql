-- What a partition's mart build wrote, for the run's metadata: the schoolbag audit's and
-- forecast's counts, the indicators' rows in the school year.
with needs as (
    select count(*) as needs_rows, count(distinct school_code) as schools,
           count(*) filter (is_declared) as levels_declared,
           count(*) filter (not is_declared and computed_eligible > 0) as levels_eligible_not_declared,
           count(*) filter (over_declared) as over_declared, count(*) filter (kit_type_mismatch) as kit_type_mismatch,
           count(*) filter (over_distributed) as over_distributed,
           coalesce(sum(computed_eligible), 0)::bigint as computed_eligible,
           coalesce(sum(kits_requested), 0)::bigint as kits_requested
    from mart.schoolbag_needs where school_year = $year and province_code = $province
), forecast as (
    select count(*) as forecast_rows, coalesce(sum(forecast_pupils), 0)::bigint as forecast_pupils,
           coalesce(sum(kits_needed), 0)::bigint as kits_needed_next_year,
           coalesce(sum(declared_forecast), 0)::bigint as declared_forecast
    from mart.schoolbag_forecast where school_year = $year and province_code = $province
)
select needs, forecast, (select count(*) from mart.indicators where school_year = $year) as indicator_rows
from needs, forecast
