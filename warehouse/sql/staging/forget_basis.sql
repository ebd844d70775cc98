-- Forget what the partitions of `forgotten` were staged against: their next staging is whole.
delete from ops.staging_basis b
where exists (select 1 from forgotten f where f.school_year = b.school_year and f.province_code = b.province_code);
