-- A batch of new file versions (`manifest_batch`) into ops.file_manifest: a version re-examined
-- replaces its row, a newly loaded version supersedes every earlier loaded version at its path.
delete from ops.file_manifest f using manifest_batch b
where f.file_path = b.file_path and f.version = b.version;

update ops.file_manifest f set status = 'superseded'
from manifest_batch b
where b.status = 'loaded' and f.file_path = b.file_path and f.version < b.version
  and f.status = 'loaded';

insert into ops.file_manifest by name
select file_path, record_type, school_year, period, school_code, province_code, content_sha256,
       version::integer as version, status, rows_read::bigint as rows_read,
       case when status = 'loaded' then rows_read::bigint end as rows_loaded,
       case when status = 'loaded' then 0 end as rows_quarantined,
       case when status = 'loaded' then 0 end as rows_warned,
       error, extra_columns, loaded_at, encoding, duplicate_of, load_id, error_kind,
       received_at::timestamp as received_at
from manifest_batch;
