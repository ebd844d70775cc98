-- One row per guardian of one school year ($year): children, schools, directorates and Tayssir
-- beneficiaries, from mart.household_member.
with per_pupil as (
    select guardian_key, pupil_key, bool_or(is_tayssir_beneficiary) as beneficiary
    from mart.household_member where school_year = $year
    group by guardian_key, pupil_key
), children as (
    select guardian_key, count(*) as children, count(*) filter (where beneficiary) as beneficiaries
    from per_pupil group by guardian_key
), per_school as (
    select distinct guardian_key, school_code, province_code from mart.household_member where school_year = $year
), schools as (
    select guardian_key, count(*) as schools, count(distinct province_code) as directorates
    from per_school group by guardian_key
)
select $year as school_year, guardian_key, c.children::integer as children, s.schools::integer as schools,
       s.directorates::integer as directorates, c.beneficiaries::integer as tayssir_beneficiaries
from children c join schools s using (guardian_key)
