-- Make ops.row_issue say exactly `issues_new` for one record type ($rt) of one scope (a partition:
-- $year, $province; null: any, as for the referential; $files: only these files, any version; null:
-- every file): issues no longer raised are resolved, new ones open.
update ops.row_issue i set status = 'resolved', resolved_at = now()
where i.status = 'open' and i.record_type = $rt
  and ($year is null or i.school_year = $year) and ($province is null or i.province_code = $province)
  and ($files is null or i.file_path in (select unnest($files)))
  and not exists (select 1 from issues_new n
                  where i.file_path is not distinct from n.file_path and i.file_version is not distinct from n.file_version
                    and i.sheet is not distinct from n.sheet and i.row_number is not distinct from n.row_number
                    and i.rule is not distinct from n.rule and i.column_name is not distinct from n.column_name);

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
