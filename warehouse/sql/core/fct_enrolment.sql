-- fct_enrolment: one row per pupil on a school's accepted roster in a school year.
delete from core.fct_enrolment where school_year = $year and province_code = $province;
insert into core.fct_enrolment
select s.school_year, s.province_code, v.school_key, s.school_code,
       core.pupil_key(s.massar_code) as pupil_key,
       s.level as level_code, s.class_name, s.gender,
       s.repeating = 'true' as is_repeating, s.boarding_status, s.disability = 'true' as has_disability,
       date_sub('year', s.birth_date, make_date(left(s.school_year, 4)::integer, 9, 1))::integer as age_at_sept,
       s.file_path, s.file_version, s.sheet, s.row_number
from staging.students s
join core.school_year_version v on v.school_year = s.school_year and v.school_code = s.school_code
where s.school_year = $year and s.province_code = $province
  and not s.is_quarantined and not s.is_duplicate_copy;

-- dim_pupil and the personal data kept apart, for the pupils of this partition.
delete from core.pupil_identity where school_year = $year and province_code = $province;
insert into core.pupil_identity
select core.pupil_key(massar_code), massar_code, last_name_ar, first_name_ar, last_name_fr, first_name_fr,
       birth_date, birth_place, guardian_cin, school_year, province_code, school_code
from staging.students
where school_year = $year and province_code = $province and not is_quarantined and not is_duplicate_copy;
delete from core.dim_pupil where pupil_key in (
    select core.pupil_key(massar_code) from staging.students
    where school_year = $year and province_code = $province);
insert into core.dim_pupil
select pupil_key, gender, birth_year, school_year
from (
    select core.pupil_key(s.massar_code) as pupil_key, s.gender, year(s.birth_date)::integer as birth_year,
           s.school_year,
           row_number() over (partition by s.massar_code order by s.school_year desc, s.school_code) as latest
    from staging.students s
    where not s.is_quarantined and not s.is_duplicate_copy
      and s.massar_code in (select massar_code from staging.students
                            where school_year = $year and province_code = $province)
)
where latest = 1;
