-- Resolve the pupil_on_two_rosters warning of the rows of roster_twins (staging/roster_twins.sql)
-- that must no longer carry it.
update ops.row_issue i set status = 'resolved', resolved_at = now()
from (select * from roster_twins where not warn) t
where i.rule = 'pupil_on_two_rosters' and i.status = 'open' and i.file_path = t.file_path
  and i.file_version = t.file_version and i.sheet is not distinct from t.sheet and i.row_number = t.row_number;
