-- The same key twice in one file version (`prepared`, with the key helpers of
-- daam/landing/prepare.py): a conflict (error on every row of the key) when the contents differ,
-- identical copies (warning on the copies; the first row stays clean) otherwise. $key_column names
-- the key's first column in ops.row_issue.
with keyed as (
    select _row_id, file_path, file_version, _key, _key_raw, _content
    from prepared where _key is not null
), grouped as (
    select *, count(*) over w as n, count(distinct _content) over w as contents,
           row_number() over (partition by file_path, file_version, _key order by _row_id) as copy_rank
    from keyed
    window w as (partition by file_path, file_version, _key)
)
select _row_id,
       case when contents > 1 then 'duplicate_key_conflict' else 'duplicate_key_identical' end as rule,
       case when contents > 1 then 'error' else 'warning' end as severity,
       $key_column as column_name,
       _key_raw as raw_value
from grouped
where n > 1 and (contents > 1 or copy_rank > 1)
