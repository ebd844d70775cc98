-- Units waiting for approval (open, with values), per directorate and school year ($province: null for all).
select province_code, school_year, count(*) as units_open,
       array_to_string(list(period order by period = 'year', period), ' ') as periods,
       sum(open_errors)::bigint as open_errors, sum(rejected_files)::bigint as rejected_files
from mart.approval_status
where state = 'open' and ($province is null or province_code = $province)
group by all
order by province_code, school_year
