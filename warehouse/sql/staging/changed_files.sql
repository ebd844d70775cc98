-- The files of one record type ($rt) of a partition whose staged rows are not those of their
-- current version: new files, new versions, and files no longer loaded (superseded). A loaded file
-- without a data row has nothing staged and is not a change.
with current_versions as (
    select file_path, version from ops.file_manifest
    where record_type = $rt and school_year = $year and province_code = $province and status = 'loaded'
      and coalesce(rows_read, 0) > 0
), staged as (
    select distinct file_path, file_version as version from {{table}}
    where school_year = $year and province_code = $province
)
select file_path from (from current_versions except from staged)
union
select file_path from (from staged except from current_versions)
order by file_path
