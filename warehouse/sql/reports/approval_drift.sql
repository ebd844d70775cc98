-- Signed units whose live values moved since the signature ($province: null for all).
select province_code, school_year, period, state, approved_by, approved_at, values_changed, values_added,
       values_removed, files_after_signature, drift_since
from mart.approval_status
where drift and ($province is null or province_code = $province)
order by province_code, school_year, period = 'year', period
