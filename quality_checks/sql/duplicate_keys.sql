-- The same key twice in one file version (`prepared`, with the key helpers of
-- daam/landing/prepare.py): a conflict (error on every row of the key) when the contents differ,
-- identical copies (warning on the copies; the first row stays clean) otherwise. $key_column names
-- the key's first column in ops.row_issue. Keys are grouped first (a hash aggregate), and only the
-- rows of keys seen twice are looked at again. `_content` is a hash, never null, so the contents
-- differ exactly when its min and max do: a count(distinct) per key costs four times as much.
with keyed as (
    select _row_id, file_path, file_version, _key, _key_raw, _content
    from prepared where _key is not null
), twice as (
    select file_path, file_version, _key, min(_content) <> max(_content) as conflict, min(_row_id) as first_row
    from keyed
    group by all
    having count(*) > 1
)
select k._row_id,
       case when t.conflict then 'duplicate_key_conflict' else 'duplicate_key_identical' end as rule,
       case when t.conflict then 'error' else 'warning' end as severity,
       $key_column as column_name,
       k._key_raw as raw_value
from keyed k
join twice t on t.file_path = k.file_path and t.file_version is not distinct from k.file_version and t._key = k._key
where t.conflict or k._row_id <> t.first_row
order by k._row_id
