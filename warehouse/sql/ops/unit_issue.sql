-- What is still wrong in each approval unit's files (directorate, school year, period: the file's
-- month, `year` for yearly files): rows quarantined by an open error, per rule and school, and the
-- files whose latest version is rejected.
with unit_files as (
    select *, coalesce(period, 'year') as unit_period from ops.file_manifest where school_year is not null
), latest as (
    select * from unit_files qualify row_number() over (partition by file_path order by version desc) = 1
)
select f.province_code, f.school_year, f.unit_period as period, 'open_error' as kind, i.rule as item,
       f.school_code, count(*) as n
from ops.row_issue i join unit_files f on f.file_path = i.file_path and f.version = i.file_version
where i.status = 'open' and i.severity = 'error'
group by all
union all
select province_code, school_year, unit_period, 'rejected_file', file_path, school_code, 1
from latest where status = 'rejected'
