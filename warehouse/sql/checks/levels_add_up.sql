-- Each directorate's, region's and the nation's indicators of the school year equal the sums of
-- the units just below (core.geo_ancestor, depth 1), indicator by indicator and month by month.
with below as (
    select a.ancestor_level as geo_level, a.ancestor_code as geo_code, coalesce(i.month, '') as month,
           i.indicator, sum(i.value) as v
    from mart.indicators i
    join core.geo_ancestor a on a.school_year = i.school_year and a.geo_level = i.geo_level
                            and a.geo_code = i.geo_code and a.depth = 1
    where i.school_year = $year
    group by all
), above as (
    select geo_level, geo_code, coalesce(month, '') as month, indicator, value as v
    from mart.indicators where school_year = $year and geo_level <> 'school'
), mismatches as (
    select coalesce(a.geo_level, b.geo_level) || ' ' || coalesce(a.geo_code, b.geo_code) || ' '
           || coalesce(a.indicator, b.indicator) as what
    from below a full join above b using (geo_level, geo_code, month, indicator)
    where abs(coalesce(a.v, 0) - coalesce(b.v, 0)) > 1e-6
)
select count(*) as failing, count(*) as mismatches,
       nullif(array_to_string(list(what order by what)[1:5], '; '), '') as examples
from mismatches
