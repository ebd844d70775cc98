-- fct_enrolment: one row per pupil on a school's accepted roster in a school year.
select s.school_year, s.province_code, v.school_key, s.school_code,
       core.pupil_key(s.massar_code) as pupil_key,
       s.level as level_code, s.class_name, s.gender,
       s.repeating = 'true' as is_repeating, s.boarding_status, s.disability = 'true' as has_disability,
       date_sub('year', s.birth_date, make_date(left(s.school_year, 4)::integer, 9, 1))::integer as age_at_sept,
       s.file_path, s.file_version, s.sheet, s.row_number
from staging.students s
join core.school_year_version v on v.school_year = s.school_year and v.school_code = s.school_code
where s.school_year = $year and s.province_code = $province
  and not s.is_quarantined and not s.is_duplicate_copy
