-- The warned flag of the staged roster rows of roster_twins, from their open issues: warned when
-- any warning of theirs is open (they are accepted rows: no error quarantines them), as
-- staging/flags.sql flags a row when it is staged.
update staging.students s set is_warned = exists (
    select 1 from ops.row_issue i
    where i.status = 'open' and i.severity = 'warning' and i.file_path = s.file_path
      and i.file_version = s.file_version and i.sheet is not distinct from s.sheet and i.row_number = s.row_number)
from roster_twins t
where s.file_path = t.file_path and s.file_version = t.file_version and s.sheet is not distinct from t.sheet
  and s.row_number = t.row_number;
