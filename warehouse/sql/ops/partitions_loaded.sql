-- The inputs each partition was last loaded from.
select school_year, province_code, input_fingerprint from ops.partition_load
