-- Tayssir targeting per commune of a directorate (its product only), with the commune's names.
with names as (
    select commune_code, any_value(commune_name_fr) as name_fr, any_value(commune_name_ar) as name_ar
    from core.school_year_version where school_year = $year group by 1
)
select t.commune_code as geo_code, n.name_fr, n.name_ar, t.eligible_pupils, t.beneficiaries,
       t.covered_eligible, t.exclusion_candidates
from mart.tayssir_targeting_by_commune t left join names n using (commune_code)
where t.school_year = $year
