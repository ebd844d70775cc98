-- Targeting by commune (analysts' first question): the schools' numerators and denominators summed.
select school_year, province_code, commune_code, count(*) as schools,
       sum(enrolled_pupils) as enrolled_pupils, sum(eligible_pupils) as eligible_pupils,
       sum(beneficiaries) as beneficiaries, sum(covered_eligible) as covered_eligible,
       sum(inclusion_errors) as inclusion_errors, sum(exclusion_candidates) as exclusion_candidates
from mart.tayssir_targeting
group by all
