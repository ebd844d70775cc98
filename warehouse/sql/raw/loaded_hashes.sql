-- (content hash, sender) -> the first path where those bytes were loaded from that sender, for the
-- hashes $h of a batch of new file versions. The sender is the school, else the directorate (the
-- operator's files), else the centre.
select content_sha256,
       case when school_code is not null then 'school:' || school_code
            when province_code is not null then 'province:' || province_code
            else 'centre:' || record_type end as sender,
       min(file_path) as file_path
from ops.file_manifest
where status = 'loaded' and rows_read > 0 and content_sha256 in (select unnest($h))
group by 1, 2
