-- Every distinct last name, first name and birth place of the rosters of one school year ($year):
-- what the de-duplication normalises (daam.arabic) before matching in SQL.
select distinct v as raw from (
    select last_name_ar as v from core.pupil_identity where school_year = $year
    union all select first_name_ar from core.pupil_identity where school_year = $year
    union all select birth_place from core.pupil_identity where school_year = $year
) where v is not null
