-- Where each unit (directorate, school year, period) stands: every unit with indicator values or an
-- approval action; its state, signature and drift; what to look at before signing.
with units as (
    select distinct province_code, school_year, period from ops.indicator_unit where geo_level = 'province'
    union
    select province_code, school_year, period from ops.approval_unit
), drift as (
    select signature_id, count(*) filter (change = 'changed') as values_changed,
           count(*) filter (change = 'added') as values_added, count(*) filter (change = 'removed') as values_removed,
           min(first_seen_at) as drift_since
    from ops.approval_drift group by 1
), files_after as (
    select signature_id, count(*) as files_after from ops.approval_drift_file group by 1
), issues as (
    select province_code, school_year, period, coalesce(sum(n) filter (kind = 'open_error'), 0) as open_errors,
           count(distinct school_code) filter (kind = 'open_error') as schools_with_errors,
           count(*) filter (kind = 'rejected_file') as rejected_files
    from ops.unit_issue group by all
)
select u.province_code, g.name_fr as province_name_fr, g.name_ar as province_name_ar, g.region_code,
       u.school_year, u.period, coalesce(a.state, 'open') as state,
       a.approved_by, a.approved_at, a.accepted_by, a.accepted_at, a.fingerprint, a.values_signed,
       coalesce(d.values_changed + d.values_added + d.values_removed, 0) > 0 as drift,
       coalesce(d.values_changed, 0) as values_changed, coalesce(d.values_added, 0) as values_added,
       coalesce(d.values_removed, 0) as values_removed, d.drift_since,
       coalesce(f.files_after, 0) as files_after_signature,
       coalesce(e.open_errors, 0) as open_errors, coalesce(e.schools_with_errors, 0) as schools_with_errors,
       coalesce(e.rejected_files, 0) as rejected_files,
       a.last_action, a.last_actor, a.last_action_at
from units u
left join ops.approval_unit a using (province_code, school_year, period)
left join drift d on d.signature_id = a.signature_id
left join files_after f on f.signature_id = a.signature_id
left join issues e using (province_code, school_year, period)
left join core.geo_unit g on g.school_year = u.school_year and g.geo_level = 'province' and g.geo_code = u.province_code
