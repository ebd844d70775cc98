-- Every current school's names and directorate.
select school_code, name_ar, name_fr, province_code from core.dim_school where is_current
