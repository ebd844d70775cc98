-- The school and directorate rows of mart.indicators with their approval unit (levels.md section 4):
-- the directorate (a school's, in the school year's referential), the school year, and the period
-- (the month of a monthly indicator, `year` for a yearly one).
select coalesce(s.province_code, i.geo_code) as province_code, coalesce(i.month, 'year') as period,
       i.geo_level, i.geo_code, i.geo_name_fr, i.geo_name_ar, i.school_year, i.month, i.indicator, i.value
from mart.indicators i
left join core.school_year_version s
  on i.geo_level = 'school' and s.school_code = i.geo_code and s.school_year = i.school_year
where i.geo_level in ('school', 'province')
