-- The signed units whose drift started in this computation (their first drifting value was first
-- seen now): one alert each time a unit starts to drift, not at every load while it stays so.
with units as (
    select signature_id, province_code, school_year, period, min(first_seen_at) as since, max(computed_at) as computed,
           count(*) as drifting_values
    from ops.approval_drift group by all
)
select count(*) filter (since = computed) as failing,
       count(*) filter (since = computed) as units_started_drifting,
       count(*) as units_drifting,
       coalesce(sum(drifting_values) filter (since = computed), 0)::bigint as values_changed_in_new_units,
       nullif(array_to_string(list(province_code || ' ' || school_year || ' ' || period
                                   order by province_code, school_year, period) filter (since = computed)[1:5], ', '), '')
           as examples
from units
