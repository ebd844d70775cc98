-- The partition's rows of {{table}} are its accepted beneficiaries ({{source}}) times the school
-- months of the year: every beneficiary has all ten months, due or not.
with facts as (
    select count(*) as n from {{table}} where school_year = $year and province_code = $province
), source as (
    select count(*) * (select count(distinct month) from core.dim_date where school_year = $year) as n
    from {{source}}
    where school_year = $year and province_code = $province and not is_quarantined and not is_duplicate_copy
)
select (facts.n <> source.n)::integer as failing, facts.n as fact_rows, source.n as accepted_staging_rows
from facts, source
