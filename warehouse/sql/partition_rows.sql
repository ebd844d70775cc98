-- Rows of {{table}} in one (school year, directorate) partition.
select count(*) as partition_rows from {{table}} where school_year = $year and province_code = $province
