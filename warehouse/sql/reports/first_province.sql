-- The first directorate with indicators (the demo's summary shows it).
select geo_code from mart.indicators where geo_level = 'province' order by geo_code limit 1
