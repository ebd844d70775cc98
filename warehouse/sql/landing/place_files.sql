-- Each school file of `entries` (the scan) gets its directorate through the current referential;
-- a file of a school the referential does not know is refused ($unknown: the refusal's start, which
-- the raw load recognises to examine the file again once its school is known).
select e.* replace (
    coalesce(e.province_code, s.province_code) as province_code,
    case when e.refusal is not null then e.refusal
         when e.school_code is not null and s.school_code is null then
           $unknown || ' ' || e.school_code || ': it is not in the establishments referential '
           || '(check the file name, or send the school''s referential entry first)'
    end as refusal)
from entries e
left join (select school_code, province_code from core.dim_school where is_current) s
  using (school_code)
order by e.file_path
