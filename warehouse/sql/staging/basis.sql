-- What the staged rows of one record type of a partition ($year, $province) are checked against,
-- as one hash (ops.staging_basis): the code and configs ($code), the directorate's referential (a
-- grant at a school without the facility), and, for a record type checked against a roster
-- ($roster 'school' or 'directorate') and for the roster itself ('self': a pupil on two of its
-- schools' rosters), the directorate's current roster files (its accepted pupils). Another
-- directorate's roster is not in it: the warning of a pupil on two directorates' rosters is made
-- true on both by the roster-twins step after the load (warehouse/build/roster_twins.py).
select md5(concat_ws('|', $code,
    (select coalesce(md5(string_agg(school_key::varchar || coalesce(valid_to::varchar, ''), ',' order by school_key)), '')
     from core.dim_school where province_code = $province),
    (select coalesce(md5(string_agg(file_path || '=' || version, ',' order by file_path)), '')
     from ops.file_manifest
     where record_type = 'students' and status = 'loaded' and school_year = $year and province_code = $province
       and $roster in ('self', 'school', 'directorate'))
)) as basis
