-- Every {{column}} of the partition's rows of {{table}} exists in {{dimension}}.
select count(*) as failing,
       count(*) as orphan_{{column}},
       nullif(array_to_string(list(distinct f.{{column}}::varchar)[1:5], ', '), '') as orphan_{{column}}_examples
from {{table}} f
where f.school_year = $year and f.province_code = $province
  and not exists (select 1 from {{dimension}} d where d.{{dimension_key}} = f.{{column}})
