-- Each school year with staged rosters: what its rosters are as staged ($code and the partitions'
-- digests of staging.students, ops.partition_digest, taken in the transaction that staged them) and
-- what they were when the year's roster warnings were last reconciled (ops.roster_twins). $year:
-- only that school year (null: every one).
select d.school_year,
       md5(concat_ws('|', $code, string_agg(d.province_code || ':' || d.rows || ':' || coalesce(d.digest::varchar, ''),
                                            ',' order by d.province_code))) as basis,
       any_value(t.basis) as reconciled_basis
from ops.partition_digest d
left join ops.roster_twins t using (school_year)
where d.model = 'staging.students' and ($year is null or d.school_year = $year)
group by d.school_year
order by d.school_year
