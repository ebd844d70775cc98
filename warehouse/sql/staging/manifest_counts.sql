-- The current row counts of every loaded file version of {{table}} in one scope (a partition:
-- $year, $province; null: any, as for the referential), from its staged rows.
update ops.file_manifest m set
    rows_read = c.n, rows_loaded = c.n - c.q, rows_quarantined = c.q, rows_warned = c.w
from (
    select file_path, file_version, count(*) as n, count(*) filter (is_quarantined) as q,
           count(*) filter (is_warned) as w
    from {{table}}
    where ($year is null or school_year = $year) and ($province is null or province_code = $province)
    group by all
) c
where m.file_path = c.file_path and m.version = c.file_version and m.status = 'loaded';
