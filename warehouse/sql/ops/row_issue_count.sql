-- Row issues per school × rule, counts only: no value as sent, no message, no row number.
select school_year, province_code, school_code, record_type, rule, severity, status,
       count(*) as issues,
       count(distinct (file_path, file_version, sheet, row_number)) as rows,
       count(distinct file_path) as files
from ops.row_issue
group by all
