-- Per school year and record type ($province: null for all): submissions expected, received, on
-- time, not reported (core.submission_status), with the rates a monitor reads.
select school_year, record_type,
       sum(expected) as expected, sum(received) as received, sum(on_time) as on_time,
       sum(not_received) as not_reported,
       round(100.0 * sum(received) / nullif(sum(expected), 0), 1) as received_pct,
       -- of the submissions received whose arrival time is known
       round(100.0 * sum(on_time) / nullif(sum(assessed), 0), 1) as on_time_pct
from core.submission_status
where $province is null or province_code = $province
group by all having sum(expected) > 0
order by school_year, record_type
