-- Per record type, in load order ($order): files by status and rows read / loaded / quarantined / warned.
select record_type,
       count(*) filter (status = 'loaded') as files_loaded,
       count(*) filter (status = 'rejected') as files_rejected,
       count(*) filter (status = 'duplicate') as files_duplicate,
       count(*) filter (status = 'superseded') as versions_superseded,
       coalesce(sum(rows_read) filter (status = 'loaded'), 0)::bigint as rows_read,
       coalesce(sum(rows_loaded) filter (status = 'loaded'), 0)::bigint as rows_loaded,
       coalesce(sum(rows_quarantined) filter (status = 'loaded'), 0)::bigint as rows_quarantined,
       coalesce(sum(rows_warned) filter (status = 'loaded'), 0)::bigint as rows_warned
from ops.file_manifest
group by record_type
order by list_position($order, record_type) nulls last
