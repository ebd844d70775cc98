-- Files still in the landing zone whose latest version was rejected: to be sent again. A file
-- refused for its unknown school has no directorate of its own: the referential's.
with rejected as (
    select m.school_year, coalesce(m.province_code, s.province_code) as province_code, m.school_code,
           m.record_type, m.period, m.file_path, m.error_kind, m.error
    from ops.file_manifest m
    left join (select school_code, province_code from core.dim_school where is_current) s using (school_code)
    where m.status = 'rejected'
      and m.version = (select max(version) from ops.file_manifest x where x.file_path = m.file_path)
      -- a rejected file since taken away from the landing zone is no longer owed
      and m.file_path in (select file_path from ops.landing_inventory)
)
select * from rejected
where ($province is null or province_code = $province) and ($school is null or school_code = $school)
  and ($year is null or school_year = $year)
order by school_code, file_path
