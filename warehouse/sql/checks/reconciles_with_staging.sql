-- The partition's rows of {{table}} are exactly the accepted, de-duplicated rows of {{source}}.
with facts as (
    select count(*) as n from {{table}} where school_year = $year and province_code = $province
), source as (
    select count(*) as n from {{source}}
    where school_year = $year and province_code = $province and not is_quarantined and not is_duplicate_copy
)
select (facts.n <> source.n)::integer as failing, facts.n as fact_rows, source.n as accepted_staging_rows
from facts, source
