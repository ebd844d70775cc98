-- Open issues per rule ($province: null for all): rows, schools and files concerned, errors first.
select rule, severity, count(*) as open_issues, count(distinct school_code) as schools,
       count(distinct file_path) as files
from ops.row_issue
where status = 'open' and ($province is null or province_code = $province)
group by all order by severity, open_issues desc limit $limit
