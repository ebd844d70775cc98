-- The nation's latest quality score (the last month with a run, the latest school year).
select score as national_score, validity, completeness, timeliness from mart.quality_score
where geo_level = 'national' and run_month = (select max(run_month) from mart.quality_score)
order by school_year desc limit 1
