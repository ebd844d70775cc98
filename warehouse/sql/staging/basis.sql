-- What the staged rows of one record type of a partition ($year, $province) are checked against,
-- as one hash (ops.staging_basis): the code and configs ($code), the directorate's referential (a
-- grant at a school without the facility), and the rosters: for a record type checked against a
-- roster ($roster 'school' or 'directorate'), the directorate's current roster files (its accepted
-- pupils); for the roster itself ('self'), every roster of the school year (a pupil on two rosters).
select md5(concat_ws('|', $code,
    (select coalesce(md5(string_agg(school_key::varchar || coalesce(valid_to::varchar, ''), ',' order by school_key)), '')
     from core.dim_school where province_code = $province),
    (select coalesce(md5(string_agg(file_path || '=' || version, ',' order by file_path)), '')
     from ops.file_manifest
     where record_type = 'students' and status = 'loaded' and school_year = $year
       and ($roster = 'self' or province_code = $province) and $roster in ('self', 'school', 'directorate'))
)) as basis
