-- fct_attendance: one row per pupil, school and school month from the accepted attendance rows.
with pupil as (
    -- each pupil's key once, not once per month: the keyed hash was 85 % of this model's time
    select massar_code, core.pupil_key(massar_code) as pupil_key
    from (select distinct massar_code from staging.attendance
          where school_year = $year and province_code = $province)
)
select a.school_year, a.province_code, v.school_key, a.school_code, a.period as month,
       (replace(a.period, '-', '') || '01')::integer as date_key,
       k.pupil_key, a.unjustified_absence_days,
       coalesce(a.justified_absence_days, 0) as justified_absence_days,
       -- the month's school days: the file's own column, else the calendar (as the absence range rule)
       coalesce(a.school_days, c.school_days) as school_days,
       a.file_path, a.file_version, a.sheet, a.row_number
from staging.attendance a
left join pupil k on k.massar_code = a.massar_code
join core.school_year_version v on v.school_year = a.school_year and v.school_code = a.school_code
left join core.school_calendar c on c.school_year = a.school_year and c.month = a.period
where a.school_year = $year and a.province_code = $province
  and not a.is_quarantined and not a.is_duplicate_copy
