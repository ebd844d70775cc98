-- Pupils of the partition with attendance at two schools in the same month. Examples name schools
-- and months, never a pupil: the check's metadata is shown to everyone.
with twice as (
    select * from core.pupils_at_two_schools($year, 'attendance', $province)
)
select count(*) as failing, count(*) as pupil_months_in_two_schools, count(distinct pupil_key) as pupils,
       nullif(array_to_string(list(distinct array_to_string(school_codes, '+') || ' ' || month)[1:5], ', '), '')
         as examples
from twice
