-- Open the pupil_on_two_rosters warning of the rows of twins_elsewhere that must carry it
-- (`issues_new`: those rows as issues, with their messages), as staging/merge_issues.sql opens one.
insert into ops.row_issue by name
select n.file_path, n.record_type, n.school_code, n.sheet, n.row_number::integer as row_number,
       n.severity, n.rule, n.column_name, n.raw_value, n.message_fr, n.message_ar, 'open' as status,
       n.file_version::integer as file_version, n.school_year, n.province_code,
       now() as first_seen_at, null as resolved_at
from issues_new n;
