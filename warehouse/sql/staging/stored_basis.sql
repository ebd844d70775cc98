-- What a record type ($rt) of a partition was last staged against (staging/basis.sql); no row: never staged.
select basis from ops.staging_basis where school_year = $year and province_code = $province and record_type = $rt
