-- fct_schoolbag: one row per school, level and school year (the school's needs declaration).
select s.school_year, s.province_code, v.school_key, s.school_code, s.level as level_code, s.kit_type,
       s.enrolled, s.eligible, s.kits_requested, s.kits_received, s.kits_distributed, s.forecast_next_year,
       s.file_path, s.file_version, s.sheet, s.row_number
from staging.schoolbags s
join core.school_year_version v on v.school_year = s.school_year and v.school_code = s.school_code
where s.school_year = $year and s.province_code = $province
  and not s.is_quarantined and not s.is_duplicate_copy
