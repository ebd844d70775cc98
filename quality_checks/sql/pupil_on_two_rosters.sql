-- Warning on an accepted roster row (`prepared` rows in `accepted`, already staged) whose pupil
-- another school lists on its accepted roster the same year, in this directorate or another one
-- (core.pupils_at_two_schools, the one definition of a pupil at two schools).
with twice as (
    select pupil_key, school_codes from core.pupils_at_two_schools($year, 'roster', $province)
)
select p._row_id, 'pupil_on_two_rosters' as rule, 'warning' as severity,
       'massar_code' as column_name, p.massar_code__raw as raw_value
from prepared p
join accepted a using (_row_id)
join twice t on t.pupil_key = core.pupil_key(p.massar_code) and list_contains(t.school_codes, p.school_code)
