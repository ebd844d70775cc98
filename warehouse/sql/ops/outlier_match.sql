-- The outliers each of $prefixes names (`daam outlier confirm | dismiss | reopen`): those whose short
-- id (ops/outlier_id.sql) starts with it. A prefix that names none has one row of nulls; the caller
-- refuses it, and one that names several.
select p.prefix, outlier_id(o.school_year, o.month, o.school_code, o.metric) as id,
       o.school_code, o.metric, coalesce(nullif(o.month, ''), o.school_year) as period, o.status, o.note
from unnest($prefixes::varchar[]) as p(prefix)
left join ops.outlier o on starts_with(outlier_id(o.school_year, o.month, o.school_code, o.metric), p.prefix)
order by p.prefix, id
