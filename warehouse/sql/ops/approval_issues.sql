-- What is still wrong in a unit's files ($province, $year, $period: a month, or `year` for the yearly
-- files): open errors (quarantined rows) per rule, and rejected files not replaced since.
with unit_files as (
    select * from ops.file_manifest
    where province_code = $province and school_year = $year and coalesce(period, 'year') = $period
), latest as (
    select * from unit_files qualify row_number() over (partition by file_path order by version desc) = 1
)
select 'open_error' as kind, i.rule as item, count(*) as n, count(distinct i.school_code) as schools
from ops.row_issue i join unit_files f on f.file_path = i.file_path and f.version = i.file_version
where i.status = 'open' and i.severity = 'error'
group by all
union all
select 'rejected_file', file_path, 1, 1 from latest where status = 'rejected'
order by kind, n desc, item
