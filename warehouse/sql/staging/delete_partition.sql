-- The staged rows of {{table}} of one partition, before it is staged again.
delete from {{table}} where school_year = $year and province_code = $province;
