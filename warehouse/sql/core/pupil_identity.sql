-- The personal data of the partition's accepted roster rows, kept apart from the analytical tables.
select core.pupil_key(massar_code) as pupil_key, massar_code, last_name_ar, first_name_ar, last_name_fr,
       first_name_fr, birth_date, birth_place, guardian_cin, school_year, province_code, school_code
from staging.students
where school_year = $year and province_code = $province and not is_quarantined and not is_duplicate_copy
