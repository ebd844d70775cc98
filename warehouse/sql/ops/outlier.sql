-- Outliers of one monitoring run ($run at $now): every school aggregate scored against its peers
-- (the schools of the same school year, month and metric that share the attributes of
-- $peer_group) with its metric's method (core.outlier_rule), then merged into ops.outlier keeping
-- the statuses people set, their notes and who set them (`daam outlier`). Groups under $min_peers
-- schools are not assessed (but minmax bounds are).

-- School-level aggregates watched for outliers: one row per school, school year, month ('' for
-- yearly metrics) and metric. A school contributes only where it reported (not reported is not 0).
create or replace temp view outlier_metrics as
select school_year, province_code, school_code, month, 'absence_rate' as metric,
       sum(unjustified_absence_days + justified_absence_days)::double / nullif(sum(school_days), 0) as value
from core.fct_attendance group by all
union all
select school_year, province_code, school_code, '' as month, 'kits_requested_per_eligible',
       sum(kits_requested)::double / nullif(sum(eligible), 0)
from core.fct_schoolbag group by all
union all
select school_year, province_code, school_code, month, 'meals_per_beneficiary',
       sum(meals_served)::double / nullif(sum(beneficiaries), 0)
from core.fct_canteen_month group by all
union all
select school_year, province_code, school_code, month, 'entitlement_per_beneficiary',
       sum(entitlement_mad)::double / nullif(count(*) filter (is_active), 0)
from core.fct_tayssir_month group by all;

create or replace temp table outlier_scores as
with valued as (
    -- the peer group: the metric row's own directorate, the school's referential version for the rest
    select m.*, r.method, r.threshold, r.lower_bound as lo, r.upper_bound as hi,
           struct_pack(
               province_code := case when list_contains($peer_group, 'province_code') then m.province_code end,
               region_code := case when list_contains($peer_group, 'region_code') then s.region_code end,
               commune_code := case when list_contains($peer_group, 'commune_code') then s.commune_code end,
               milieu := case when list_contains($peer_group, 'milieu') then s.milieu end,
               cycle := case when list_contains($peer_group, 'cycle') then s.cycle end,
               nature := case when list_contains($peer_group, 'nature') then s.nature end,
               sector := case when list_contains($peer_group, 'sector') then s.sector end) as peers_of
    from outlier_metrics m
    join core.outlier_rule r using (metric)
    join core.school_year_version s on s.school_year = m.school_year and s.school_code = m.school_code
    where m.value is not null
), centred as (
    select v.*, count(*) over w as peers, median(value) over w as med, avg(value) over w as mean,
           stddev_samp(value) over w as sd, mad(value) over w as mad
    from valued v window w as (partition by school_year, month, metric, peers_of)
), spread as (
    select c.*, avg(abs(value - med)) over (partition by school_year, month, metric, peers_of) as mean_ad
    from centred c
), scored as (
    select *,
           case method
             when 'modified_z' then case when mad > 0 then 0.6745 * (value - med) / mad
                                         when mean_ad > 0 then (value - med) / (1.253314 * mean_ad)
                                         else 0 end
             when 'zscore' then case when sd > 0 then (value - mean) / sd else 0 end
             else value end as score
    from spread
)
select school_year, province_code, school_code, month, metric, value, method, threshold, lo, hi,
       score, med as peer_median, peers,
       case when method = 'minmax' then value < lo or value > hi
            else peers >= $min_peers and abs(score) > threshold end as is_outlier
from scored
where method = 'minmax' or peers >= $min_peers;

update ops.outlier o set value = s.value, score = s.score, peer_median = s.peer_median, peers = s.peers,
       last_seen_at = $now, last_run_id = $run
from outlier_scores s
where s.is_outlier and o.school_year = s.school_year and o.month = s.month
  and o.school_code = s.school_code and o.metric = s.metric;

-- An outlier seen again after it was resolved is open again.
update ops.outlier o set status = 'open', resolved_at = null
from outlier_scores s
where s.is_outlier and o.status = 'resolved' and o.school_year = s.school_year and o.month = s.month
  and o.school_code = s.school_code and o.metric = s.metric;

-- a new outlier: reviewed_by and reviewed_at stay null until a monitor follows it up (`daam outlier`)
insert into ops.outlier (school_year, month, province_code, school_code, metric, value, method, threshold,
                         lower_bound, upper_bound, score, peer_median, peers, status, first_seen_at,
                         last_seen_at, resolved_at, last_run_id, note)
select s.school_year, s.month, s.province_code, s.school_code, s.metric, s.value, s.method, s.threshold,
       s.lo, s.hi, s.score, s.peer_median, s.peers, 'open', $now, $now, null, $run, null
from outlier_scores s
where s.is_outlier and not exists (
    select 1 from ops.outlier o where o.school_year = s.school_year and o.month = s.month
      and o.school_code = s.school_code and o.metric = s.metric);

update ops.outlier o set status = 'resolved', resolved_at = $now
where o.status = 'open' and not exists (
    select 1 from outlier_scores s where s.is_outlier and o.school_year = s.school_year
      and o.month = s.month and o.school_code = s.school_code and o.metric = s.metric);

select count(*) as assessed, count(*) filter (is_outlier) as outliers,
       (select count(*) from ops.outlier where first_seen_at = $now) as new,
       (select count(*) from ops.outlier where resolved_at = $now and status = 'resolved') as resolved
from outlier_scores;
