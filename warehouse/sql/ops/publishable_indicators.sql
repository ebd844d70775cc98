-- Temp table publishable_indicators: the values the region and national products publish
-- (levels.md section 4), before suppression. A school's or directorate's value is its signed one
-- where its unit is approved or accepted (ops.approved_value of the signature in force; a row the
-- signature did not freeze is not published until the unit is signed again), else the live one,
-- `provisional`. A region's and the nation's value is the sum of its directorates' published values
-- (every ancestor of a directorate at once, core.geo_ancestor), approved only when every one of them
-- is signed (accepted when all are accepted), else provisional.
create or replace temp table unit_in_force as
select province_code, school_year, period, state, signature_id from ops.approval_unit
where state in ('approved', 'accepted');
create or replace temp table publishable_indicators as
select v.geo_level, v.geo_code, v.geo_name_fr, v.geo_name_ar, v.school_year, v.month, v.indicator, v.value,
       u.state as approval_state
from ops.approved_value v join unit_in_force u using (signature_id)
union all
select i.geo_level, i.geo_code, i.geo_name_fr, i.geo_name_ar, i.school_year, i.month, i.indicator, i.value,
       'provisional'
from ops.indicator_unit i anti join unit_in_force u using (province_code, school_year, period);
insert into publishable_indicators
select a.ancestor_level, a.ancestor_code, a.ancestor_name_fr, a.ancestor_name_ar, p.school_year, p.month,
       p.indicator, sum(p.value),
       ['provisional', 'approved', 'accepted'][min(list_position(['provisional', 'approved', 'accepted'],
                                                                  p.approval_state))]
from publishable_indicators p
join core.geo_ancestor a on a.school_year = p.school_year and a.geo_level = p.geo_level and a.geo_code = p.geo_code
where p.geo_level = 'province'
group by all;
drop table unit_in_force;
