-- The SHA-256 fingerprint of a unit's values (temp table unit_values: the rows of ops.indicator_unit
-- or ops.approved_value of one unit): a header naming the unit, then one line per value,
-- `geo_level|geo_code|month|indicator|value` with the value to 4 decimals, in a fixed order. Anyone
-- can recompute it from ops.approved_value.
select count(*) as values_signed,
       sha256('daam approval v1|' || $province || '|' || $year || '|' || $period || chr(10)
              || coalesce(string_agg(geo_level || '|' || geo_code || '|' || coalesce(month, '') || '|' || indicator
                                     || '|' || coalesce(printf('%.4f', value), 'null'), chr(10)
                                     order by geo_level, geo_code, month nulls first, indicator), '')) as fingerprint
from unit_values
