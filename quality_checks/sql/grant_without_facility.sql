-- Warning on a grant (`prepared`) at a school whose referential says it has no boarding (internat,
-- demi-pension) or no canteen (cantine_college).
select p._row_id, 'grant_without_facility' as rule, 'warning' as severity,
       'grant_type' as column_name, p.grant_type__raw as raw_value
from prepared p join core.dim_school s on s.school_code = p.school_code and s.is_current
where (p.grant_type in ('internat', 'demi_pension') and not coalesce(s.has_boarding, false))
   or (p.grant_type = 'cantine_college' and not coalesce(s.has_canteen, false))
