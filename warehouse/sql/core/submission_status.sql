-- Completeness and timeliness counted once, per school and record type: what it owes, what
-- arrived, on time or late (of those whose arrival is known). Not reported is not zero: a school
-- that owes nothing for a record type has expected = 0 here, and no row when it sent nothing either.
select school_year, province_code, school_code, record_type,
       count(*) filter (is_expected) as expected,
       count(*) filter (is_expected and is_received) as received,
       count(*) filter (is_expected and not is_received) as not_received,
       count(*) filter (is_expected and is_received and is_on_time) as on_time,
       count(*) filter (is_expected and is_received and not is_on_time) as late,
       count(*) filter (is_expected and is_received and is_on_time is not null) as assessed
from core.fct_submission
group by all
