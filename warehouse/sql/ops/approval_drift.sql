-- ops.approval_drift, recomputed whole ($now): every unit in force (approved or accepted), its signed
-- values against the live rows it covers (ops.indicator_unit). Values are compared to 4 decimals (a
-- sum of doubles may differ in its last bit between two computations). A value already seen keeps
-- its first_seen_at.
create or replace temp table approval_drift_before as
select signature_id, geo_level, geo_code, month, indicator, change, first_seen_at from ops.approval_drift;
delete from ops.approval_drift;
insert into ops.approval_drift by name
with in_force as (
    select province_code, school_year, period, signature_id from ops.approval_unit
    where state in ('approved', 'accepted')
), signed as (
    select v.* from ops.approved_value v join in_force using (signature_id)
), live as (
    select u.signature_id, i.* from ops.indicator_unit i join in_force u using (province_code, school_year, period)
), compared as (
    select coalesce(s.signature_id, l.signature_id) as signature_id,
           coalesce(s.province_code, l.province_code) as province_code,
           coalesce(s.school_year, l.school_year) as school_year, coalesce(s.period, l.period) as period,
           coalesce(s.geo_level, l.geo_level) as geo_level, coalesce(s.geo_code, l.geo_code) as geo_code,
           coalesce(s.month, l.month) as month, coalesce(s.indicator, l.indicator) as indicator,
           case when s.indicator is null then 'added' when l.indicator is null then 'removed' else 'changed' end
               as change,
           s.value as signed_value, l.value as live_value, l.value - s.value as difference
    from signed s
    full join live l
      on l.signature_id = s.signature_id and l.geo_level = s.geo_level and l.geo_code = s.geo_code
     and l.month is not distinct from s.month and l.indicator = s.indicator
    where s.indicator is null or l.indicator is null or round(s.value, 4) is distinct from round(l.value, 4)
)
select c.*, coalesce(b.first_seen_at, $now) as first_seen_at, $now as computed_at
from compared c
left join approval_drift_before b
  on b.signature_id = c.signature_id and b.geo_level = c.geo_level and b.geo_code = c.geo_code
 and b.month is not distinct from c.month and b.indicator = c.indicator and b.change = c.change;
drop table approval_drift_before;
