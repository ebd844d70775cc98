-- What closing a month of a directorate found, for the run's metadata.
select count(*) as schools, coalesce(sum(compliant_pupils), 0) as compliant_pupils,
       coalesce(sum(entitlement_mad), 0)::double as entitlement_mad,
       count(*) filter (attendance_expected and not attendance_received) as schools_without_attendance
from mart.tayssir_month_close where month = $month and province_code = $province
