-- Make ops.row_issue say exactly `issues_new` for one record type ($rt) of one scope (a partition:
-- $year, $province; null: any, as for the referential; $files: only these files, any version; null:
-- every file): issues no longer raised are resolved; staging/open_issues.sql then opens the new ones.
update ops.row_issue i set status = 'resolved', resolved_at = now()
where i.status = 'open' and i.record_type = $rt
  and ($year is null or i.school_year = $year) and ($province is null or i.province_code = $province)
  and ($files is null or i.file_path in (select unnest($files)))
  and not exists (select 1 from issues_new n
                  where i.file_path is not distinct from n.file_path and i.file_version is not distinct from n.file_version
                    and i.sheet is not distinct from n.sheet and i.row_number is not distinct from n.row_number
                    and i.rule is not distinct from n.rule and i.column_name is not distinct from n.column_name);
