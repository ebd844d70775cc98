-- Submissions expected from a school (open, concerned by the record type) and not received.
select f.school_year, f.province_code, f.school_code, f.record_type, f.period
from core.fct_submission f
where f.is_expected and not f.is_received
  and ($province is null or f.province_code = $province) and ($school is null or f.school_code = $school)
  and ($year is null or f.school_year = $year)
order by f.school_code, f.school_year, f.record_type, f.period
