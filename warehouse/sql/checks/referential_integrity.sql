-- Every {{column}} of the partition's rows of {{table}} exists in {{dimension}}.
-- Examples (warehouse/checks.py chooses): for a school, date or level key, the orphan keys
-- themselves (metadata orphan_<column>_examples); for a key of a person (a pupil key: pseudonymous,
-- but still a pupil's), the schools whose rows hold the orphans (orphan_<column>_schools), never
-- the keys. Check metadata is shown in the Dagster UI and sent in alerts.
select count(*) as failing,
       count(*) as orphan_{{column}},
       nullif(array_to_string(list(distinct {{example}}::varchar order by {{example}}::varchar)[1:5], ', '), '')
         as orphan_{{column}}_{{examples}}
from {{table}} f
where f.school_year = $year and f.province_code = $province
  and not exists (select 1 from {{dimension}} d where d.{{dimension_key}} = f.{{column}})
