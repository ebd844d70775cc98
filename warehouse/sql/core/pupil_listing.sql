-- Where each pupil is listed: on a school's accepted roster of the year (month null), in its
-- accepted attendance of a month, on its active Tayssir list of a month. The roster side reads the
-- staged rows, so that a partition's own roster warning (pupil_on_two_rosters) sees them as soon as
-- they are staged.
select school_year, 'roster' as source, null::varchar as month, core.pupil_key(massar_code) as pupil_key,
       school_code, province_code
from staging.students
where not is_quarantined and not is_duplicate_copy
union all
select school_year, 'attendance', month, pupil_key, school_code, province_code
from core.fct_attendance
union all
select school_year, 'tayssir', month, pupil_key, school_code, province_code
from core.fct_tayssir_month
where is_active
