-- What each placed (school year, directorate) partition is loaded from, as one hash (the code's is
-- added by warehouse/fingerprint.py): its own current files, its rosters among them (another
-- directorate's roster reloads nothing here: the roster-twins step after the load carries a pupil
-- on two directorates' rosters over, warehouse/build/roster_twins.py); the directorate's operator
-- files of the next year (payments are counted by the school year of their period); the
-- establishments referential of the directorate. $year and $province: only that partition (null:
-- every one; the mart records its own partition's after each load, and the whole inventory is
-- 200,000 files).
with placed as (
    select * from ops.landing_inventory where refusal is null and record_type <> 'schools'
), own as (
    select school_year, province_code,
           md5(string_agg(file_path || '=' || content_sha256, ',' order by file_path)) as h
    from placed
    where ($year is null or school_year = $year) and ($province is null or province_code = $province)
    group by all
), next_payments as (
    select province_code, school_year,
           md5(string_agg(file_path || '=' || content_sha256, ',' order by file_path)) as h
    from placed where record_type = 'tayssir_payments' group by all
), referential as (
    select province_code,
           md5(string_agg(school_key::varchar || coalesce(valid_to::varchar, ''), ',' order by school_key)) as h
    from core.dim_school group by all
)
select o.school_year, o.province_code,
       md5(concat_ws('|', o.h, coalesce(n.h, ''), coalesce(s.h, ''))) as fingerprint
from own o
left join next_payments n on n.province_code = o.province_code
     and n.school_year = (left(o.school_year, 4)::integer + 1) || '-' || (left(o.school_year, 4)::integer + 2)
left join referential s on s.province_code = o.province_code
