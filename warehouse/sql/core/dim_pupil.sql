-- dim_pupil for the pupils of the partition's rosters: the attributes of each pupil's latest
-- accepted roster row, over every partition (a pupil's row is one, whichever roster made it).
-- Two such rows of one year and school are told apart by their lineage, not by staging's order.
delete from core.dim_pupil where pupil_key in (
    select core.pupil_key(massar_code) from staging.students
    where school_year = $year and province_code = $province);
insert into core.dim_pupil
select pupil_key, gender, birth_year, school_year as last_school_year
from (
    select core.pupil_key(s.massar_code) as pupil_key, s.gender, year(s.birth_date)::integer as birth_year,
           s.school_year,
           row_number() over (partition by s.massar_code
                              order by s.school_year desc, s.school_code, s.file_path, s.sheet, s.row_number) as latest
    from staging.students s
    where not s.is_quarantined and not s.is_duplicate_copy
      and s.massar_code in (select massar_code from staging.students
                            where school_year = $year and province_code = $province)
)
where latest = 1;
