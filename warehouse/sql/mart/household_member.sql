-- Pupils of one school year ($year) by guardian: the guardian CIN of the rosters, hashed. A pupil
-- whose rosters name two guardians belongs to both households.
with beneficiaries as (
    select distinct pupil_key from core.fct_tayssir_month where school_year = $year and is_active
)
select distinct i.school_year, core.guardian_key(i.guardian_cin) as guardian_key, i.pupil_key,
       i.school_code, i.province_code, b.pupil_key is not null as is_tayssir_beneficiary
from core.pupil_identity i
left join beneficiaries b on b.pupil_key = i.pupil_key
where i.school_year = $year and nullif(trim(i.guardian_cin), '') is not null
