-- Remember what a record type of a partition was staged against (staging/basis.sql).
insert or replace into ops.staging_basis (school_year, province_code, record_type, basis, staged_at)
values ($year, $province, $rt, $basis, now())
