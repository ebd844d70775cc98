-- Open issues in the order a school works through them: file, sheet, row ($province, $school,
-- $year: null for all).
select i.school_year, i.province_code, i.school_code, i.record_type, i.file_path, i.file_version,
       i.sheet, i.row_number, i.column_name, i.raw_value, i.severity, i.rule, i.message_fr, i.message_ar
from ops.row_issue i
where i.status = 'open'
  and ($province is null or i.province_code = $province) and ($school is null or i.school_code = $school)
  and ($year is null or i.school_year = $year)
order by i.school_code, i.school_year, i.file_path, i.sheet, i.row_number, i.rule, i.column_name
