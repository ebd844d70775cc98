-- The indicators of one unit above the schools ($level, $code: a directorate, a region or the
-- nation) for one school year: the sum of the rows of the units just below it
-- (core.geo_ancestor, depth 1), so every level adds up. Run for the directorate, then its region,
-- then the nation.
delete from mart.indicators where school_year = $year and geo_level = $level and geo_code = $code;
insert into mart.indicators by name
select a.ancestor_level as geo_level, a.ancestor_code as geo_code, a.ancestor_name_fr as geo_name_fr,
       a.ancestor_name_ar as geo_name_ar, $year as school_year, i.month, i.indicator, sum(i.value) as value
from mart.indicators i
join core.geo_ancestor a on a.school_year = i.school_year and a.geo_level = i.geo_level and a.geo_code = i.geo_code
                        and a.depth = 1
where i.school_year = $year and a.ancestor_level = $level and a.ancestor_code = $code
group by all;
