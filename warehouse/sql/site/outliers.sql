-- Outliers to follow up (open or confirmed) in the page's scope, with the school's name and the
-- metric's label; value and score are null where the product suppressed them.
select o.school_year, o.month, o.province_code, o.school_code, s.name_fr as school_name_fr,
       s.name_ar as school_name_ar, o.metric, r.label_fr as metric_fr, r.label_ar as metric_ar, o.value,
       o.peer_median, o.score, o.status, o.note, o.* exclude (school_year, month, province_code, school_code,
       metric, value, peer_median, score, status, note)
from ops.outlier o
left join core.school_year_version s on s.school_year = o.school_year and s.school_code = o.school_code
left join core.outlier_rule r on r.metric = o.metric
where o.school_year = $year and o.status in ('open', 'confirmed')
order by o.status desc, o.province_code, o.school_code, o.month, o.metric
