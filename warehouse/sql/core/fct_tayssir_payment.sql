-- fct_tayssir_payment: one row per accepted line of the payment operator's files. The pupil's
-- school is the school of the province whose accepted roster holds the pupil (the first by code
-- when two do, so that money is never counted twice).
with roster as (
    select pupil_key, min(school_code) as school_code
    from core.fct_enrolment
    where school_year = $year and province_code = $province
    group by 1
)
select p.school_year, p.province_code, v.school_key, r.school_code, r.pupil_key,
       p.payment_ref, regexp_extract(p.file_path, '_([1-3])\.[A-Za-z]+$', 1)::integer as instalment,
       p.period_from, p.period_to,
       case when right(p.period_from, 2)::integer >= 9
            then left(p.period_from, 4) || '-' || (left(p.period_from, 4)::integer + 1)
            else (left(p.period_from, 4)::integer - 1) || '-' || left(p.period_from, 4) end as period_school_year,
       p.amount_mad, p.status, p.paid_on, p.file_path, p.file_version, p.sheet, p.row_number
from staging.tayssir_payments p
join roster r on r.pupil_key = core.pupil_key(p.massar_code)
join core.school_year_version v on v.school_year = p.school_year and v.school_code = r.school_code
where p.school_year = $year and p.province_code = $province
  and not p.is_quarantined and not p.is_duplicate_copy
