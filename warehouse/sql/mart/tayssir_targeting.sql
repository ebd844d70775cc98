-- mart.tayssir_targeting for one (school year, directorate). A pupil is eligible when his level
-- has a Tayssir amount that year and his cycle is eligible in the school's milieu
-- (configs/programme_rules.yaml tayssir.targeting); a beneficiary is a pupil active on the
-- school's accepted Tayssir list. Beneficiaries not eligible are inclusion errors; eligible pupils
-- not on the list are exclusion candidates (the family's RAMED / AMO status is not in school data).
with covered_levels as (
    select rule_key as level_code from core.programme_rule
    where school_year = $year and programme = 'tayssir' and rule = 'monthly_amount_mad'
), eligible_milieus as (
    select rule_key as cycle, value_text as milieu from core.programme_rule
    where school_year = $year and programme = 'tayssir' and rule = 'targeting'
), pupils as (
    select e.school_code, e.pupil_key, e.level_code, l.cycle, s.milieu, s.commune_code,
           e.level_code in (select level_code from covered_levels) as level_covered,
           exists (select 1 from eligible_milieus m where m.cycle = l.cycle and m.milieu = s.milieu) as milieu_ok
    from core.fct_enrolment e
    join core.dim_level l using (level_code)
    join core.school_year_version s on s.school_year = e.school_year and s.school_code = e.school_code
    where e.school_year = $year and e.province_code = $province
), listed as (
    select distinct school_code, pupil_key from core.fct_tayssir_month
    where school_year = $year and province_code = $province and is_active
), flagged as (
    select p.*, p.level_covered and p.milieu_ok as is_eligible, b.pupil_key is not null as is_beneficiary
    from pupils p left join listed b using (school_code, pupil_key)
)
select $year as school_year, $province as province_code, any_value(commune_code) as commune_code, school_code,
       count(distinct pupil_key) as enrolled_pupils,
       count(distinct pupil_key) filter (is_eligible) as eligible_pupils,
       count(distinct pupil_key) filter (is_beneficiary) as beneficiaries,
       count(distinct pupil_key) filter (is_eligible and is_beneficiary) as covered_eligible,
       count(distinct pupil_key) filter (is_beneficiary and not is_eligible) as inclusion_errors,
       count(distinct pupil_key) filter (is_beneficiary and not level_covered) as inclusion_level_not_covered,
       count(distinct pupil_key) filter (is_beneficiary and level_covered and not milieu_ok) as inclusion_milieu,
       count(distinct pupil_key) filter (is_eligible and not is_beneficiary) as exclusion_candidates
from flagged
group by school_code
