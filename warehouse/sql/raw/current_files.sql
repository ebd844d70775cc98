-- Current (loaded) file versions of one partition, per record type.
select record_type, count(*) as files from ops.file_manifest
where school_year = $year and province_code = $province and status = 'loaded'
group by 1
