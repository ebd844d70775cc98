-- What closing a month of a directorate found, for the run's metadata: the month's approval state
-- (signed when every school closed used signed values) and how many schools were provisional.
select count(*) as schools, coalesce(sum(compliant_pupils), 0) as compliant_pupils,
       coalesce(sum(entitlement_mad), 0)::double as entitlement_mad,
       count(*) filter (attendance_expected and not attendance_received) as schools_without_attendance,
       count(*) filter (approval_state = 'provisional') as schools_provisional,
       case when count(*) filter (approval_state = 'provisional') > 0 or count(*) = 0 then 'provisional'
            else min(approval_state) end as approval_state
from mart.tayssir_month_close where month = $month and province_code = $province
