-- mart.boarding_capacity for one (school year, directorate): granted pupils per grant type at each
-- school with grants or boarding, against the referential's boarding capacity.
with grants as (
    select school_code,
           count(distinct pupil_key) filter (grant_type = 'internat') as internat,
           count(distinct pupil_key) filter (grant_type = 'demi_pension') as demi_pension,
           count(distinct pupil_key) filter (grant_type = 'cantine_college') as cantine,
           sum(amount_mad) as grant_mad
    from core.fct_boarding_grant
    where school_year = $year and province_code = $province and status = 'granted'
    group by 1
)
select $year as school_year, $province as province_code, s.school_code, s.has_boarding, s.boarding_capacity,
       coalesce(g.internat, 0) as internat_grantees, coalesce(g.demi_pension, 0) as demi_pension_grantees,
       coalesce(g.cantine, 0) as cantine_grantees, coalesce(g.grant_mad, 0) as grant_mad,
       coalesce(g.internat, 0) > coalesce(s.boarding_capacity, 0) as over_capacity
from core.school_year_version s
left join grants g using (school_code)
where s.school_year = $year and s.province_code = $province and (s.has_boarding or g.school_code is not null)
