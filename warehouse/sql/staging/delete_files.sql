-- The staged rows of {{table}} of one partition, from the files $files (any version): they are
-- staged again from their current version.
delete from {{table}}
where school_year = $year and province_code = $province and file_path in (select unnest($files));
