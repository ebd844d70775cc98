-- The attendance deadlines of a school year: a month is complete once its deadline has passed.
select period as month, deadline from core.submission_deadline
where school_year = $year and record_type = 'attendance' order by period
