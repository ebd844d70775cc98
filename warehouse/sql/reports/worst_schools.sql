-- The lowest scores of the latest monitoring run ($province: null for all).
select q.school_year, q.geo_code as school_code, s.name_fr, s.province_code, q.score,
       round(100 * q.validity, 1) as validity_pct, round(100 * q.completeness, 1) as completeness_pct,
       round(100 * q.timeliness, 1) as timeliness_pct, q.rule_failures, q.open_outliers
from mart.quality_score q
join core.dim_school s on s.school_code = q.geo_code and s.is_current
where q.geo_level = 'school' and q.run_month = (select max(run_month) from mart.quality_score)
  and q.score is not null and ($province is null or s.province_code = $province)
order by q.score, q.geo_code limit $limit
