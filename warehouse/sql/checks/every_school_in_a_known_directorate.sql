-- Every current school of the referential belongs to one of the directorates of configs/reference.
select count(*) as failing, count(*) as schools_without_directorate
from core.dim_school s
where s.is_current and not exists (select 1 from core.dim_geography g where g.province_code = s.province_code)
