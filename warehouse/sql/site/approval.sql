-- The approval state of each directorate's months and year in the page's scope, for the page's
-- school year and the one before (the state of the values the change is computed from).
select school_year, province_code, province_name_fr, province_name_ar, period, state, approved_by, accepted_by,
       drift
from mart.approval_status where school_year in ($year, $previous)
order by school_year, province_code, period
