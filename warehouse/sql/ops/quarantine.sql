-- Quarantined rows with all their rule violations, for monitors.
select i.file_path, i.file_version, i.record_type, i.school_code, i.sheet, i.row_number,
       string_agg(i.rule, ', ' order by i.rule) as rules,
       count(*) as errors
from ops.row_issue i
where i.severity = 'error' and i.status = 'open'
group by all
