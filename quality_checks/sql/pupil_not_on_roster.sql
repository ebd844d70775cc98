-- A pupil a file names (`prepared`) must be on an accepted roster of the year: the same school's
-- ($same_school) or, for the operator's files, any school's of the directorate.
select p._row_id, 'pupil_not_on_roster' as rule, 'error' as severity,
       'massar_code' as column_name, p.massar_code__raw as raw_value
from prepared p
where p.massar_code is not null
  and regexp_full_match(p.massar_code, '[A-Z][0-9]{9}')
  and not exists (
      select 1 from staging.students r
      where r.school_year = $year and r.province_code = $province and not r.is_quarantined
        and r.massar_code = p.massar_code and (not $same_school or r.school_code = p.school_code))
