-- The quality rules with the most rows in error or warning in the page's scope (every school and
-- directorate of the product), with their titles.
select c.record_type, c.rule, any_value(c.severity) as severity, sum(c.issues)::bigint as issues,
       sum(c.rows)::bigint as rows, count(distinct c.school_code) as schools,
       any_value(r.title_fr) as title_fr, any_value(r.title_ar) as title_ar
from ops.row_issue_count c
left join core.quality_rule r on r.record_type = c.record_type and r.rule = c.rule
where c.school_year = $year and c.status = 'open'
group by c.record_type, c.rule
order by issues desc, c.record_type, c.rule
limit $n
