-- What the drift computation found, for the run's metadata and the load log (counts only).
select (select count(*) from ops.approval_unit where state in ('approved', 'accepted')) as units_in_force,
       (select count(distinct signature_id) from ops.approval_drift) as units_drifting,
       (select count(*) from ops.approval_drift) as values_drifting,
       (select count(*) from ops.approval_drift_file) as files_after
