-- fct_submission: one row per school x record type x period of the partition that the school owes
-- (core.submission_rule: the school is open that year, or that month for monthly files, and its
-- referential version meets every condition of the record type) or sent (a version of the file
-- loaded), with when it arrived and its deadline (core.submission_deadline).
with open_schools as (
    select * from core.school_year_version
    where school_year = $year and province_code = $province
      and (opened_on is null or opened_on <= make_date(left($year, 4)::integer + 1, 6, 30))
      and (closed_on is null or closed_on >= make_date(left($year, 4)::integer, 9, 1))
), months as (
    select distinct month from core.dim_date where school_year = $year
), rules as (
    select record_type, any_value(frequency) as frequency,
           count(distinct attribute) as conditions
    from core.submission_rule group by 1
), met as (
    -- a condition names a column of the school's referential version; its value is compared as text
    select s.school_key, r.record_type, count(distinct r.attribute) as conditions_met
    from open_schools s
    join core.submission_rule r on json_extract_string(to_json(s), r.attribute) = r.value
    group by all
), owing as (
    select s.school_key, s.school_code, s.opened_on, s.closed_on, r.record_type, r.frequency
    from open_schools s
    cross join rules r
    left join met m on m.school_key = s.school_key and m.record_type = r.record_type
    where r.conditions = coalesce(m.conditions_met, 0)
), expected as (
    select school_key, school_code, record_type, null as period from owing where frequency = 'yearly'
    union all
    -- a school that opens or closes during the year owes only the months it is open: a
    -- completeness rate can then never pass 100 %
    select o.school_key, o.school_code, o.record_type, m.month
    from owing o
    join months m on (o.opened_on is null or o.opened_on <= last_day((m.month || '-01')::date))
                 and (o.closed_on is null or o.closed_on >= (m.month || '-01')::date)
    where o.frequency = 'monthly'
), received as (
    -- received when a version loaded; when: the first version that loaded (a later
    -- correction does not make an on-time submission late)
    select school_code, record_type, period, min(received_at) as received_at
    from ops.file_manifest
    where status in ('loaded', 'superseded') and school_year = $year and province_code = $province
      and school_code is not null
    group by all
    having count(*) filter (status = 'loaded') > 0
), submissions as (
    select coalesce(e.school_key, v.school_key) as school_key, coalesce(e.school_code, r.school_code) as school_code,
           coalesce(e.record_type, r.record_type) as record_type, coalesce(e.period, r.period) as period,
           e.school_code is not null as is_expected, r.school_code is not null as is_received, r.received_at
    from expected e
    full join received r on r.school_code = e.school_code and r.record_type = e.record_type
                        and r.period is not distinct from e.period
    left join core.school_year_version v on v.school_year = $year and v.school_code = r.school_code
)
select $year as school_year, $province as province_code, s.school_key, s.school_code, s.record_type, s.period,
       s.is_expected, s.is_received, s.received_at, d.deadline,
       case when s.is_received and d.deadline is not null and s.received_at is not null
            then s.received_at < d.deadline + interval 1 day end as is_on_time
from submissions s
left join core.submission_deadline d on d.school_year = $year and d.record_type = s.record_type
                                    and d.period is not distinct from s.period
