-- Open the issues of `issues_new` that are not open already (staging/merge_issues.sql resolves,
-- beforehand, those no longer raised).
insert into ops.row_issue by name
select n.file_path, n.record_type, n.school_code, n.sheet, n.row_number::integer as row_number,
       n.severity, n.rule, n.column_name, n.raw_value, n.message_fr, n.message_ar, 'open' as status,
       n.file_version::integer as file_version, n.school_year, n.province_code,
       now() as first_seen_at, null as resolved_at
from issues_new n
where not exists (select 1 from ops.row_issue i
                  where i.status = 'open' and i.file_path is not distinct from n.file_path
                    and i.file_version is not distinct from n.file_version and i.sheet is not distinct from n.sheet
                    and i.row_number is not distinct from n.row_number and i.rule is not distinct from n.rule
                    and i.column_name is not distinct from n.column_name);
