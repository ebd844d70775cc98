-- Each pupil of the partition's rosters (its enrolment facts) has one row in the pupil dimension:
-- its key is unique without an index (warehouse/sql/core/models.yml). Counts only: a key is never shown.
select count(*) as failing, count(*) as pupils_with_two_rows
from (select pupil_key
      from {{table}}
      where pupil_key in (select pupil_key from core.fct_enrolment
                          where school_year = $year and province_code = $province)
      group by pupil_key
      having count(*) > 1)
