-- ops.approval_drift_file, recomputed whole: the file versions of each unit in force loaded (or
-- rejected) after its approval: the unit's monthly files for a month, every file of the school year
-- and the next year's payment files for `year`, and the referential (it may move or add schools).
delete from ops.approval_drift_file;
insert into ops.approval_drift_file by name
select u.signature_id, u.province_code, u.school_year, u.period, m.file_path, m.version, m.record_type,
       m.school_code, m.status, m.received_at, m.loaded_at
from ops.approval_unit u
join ops.file_manifest m
  on m.loaded_at > u.approved_at
 and (m.record_type = 'schools'
      or (m.province_code = u.province_code
          and ((u.period <> 'year' and m.school_year = u.school_year and m.period = u.period)
               or (u.period = 'year' and m.school_year = u.school_year)
               or (u.period = 'year' and m.record_type = 'tayssir_payments'
                   and m.school_year = (left(u.school_year, 4)::integer + 1) || '-' || (left(u.school_year, 4)::integer + 2)))))
where u.state in ('approved', 'accepted');
