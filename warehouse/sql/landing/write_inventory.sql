-- The scan (`inventory`) becomes ops.landing_inventory. Only the rows that differ are written: a
-- nation's 200,000 rows deleted and inserted again at every scan made each scan's commit write a
-- log big enough to checkpoint the whole warehouse (3.7 s of a 5 s scan). A row's scanned_at is
-- therefore when the scan first saw the file as it is now.
create or replace temp table inventory_now as
select file_path, record_type, school_year, period, school_code, province_code, size_bytes::bigint as size_bytes,
       content_sha256, refusal, modified_at::timestamp as modified_at, stat_key, scanned_at::timestamp as scanned_at
from inventory;

create or replace temp table inventory_changed as
select file_path from (
    select * exclude (scanned_at) from inventory_now
    except
    select file_path, record_type, school_year, period, school_code, province_code, size_bytes, content_sha256,
           refusal, modified_at, stat_key
    from ops.landing_inventory);

delete from ops.landing_inventory
where file_path not in (select file_path from inventory_now)
   or file_path in (select file_path from inventory_changed);

insert into ops.landing_inventory by name
select * from inventory_now where file_path in (select file_path from inventory_changed);

drop table inventory_now;
drop table inventory_changed;

-- manifest versions recorded before arrival times were kept get the time of the bytes still in place
update ops.file_manifest m set received_at = i.modified_at
from ops.landing_inventory i
where m.received_at is null and i.modified_at is not null
  and m.file_path = i.file_path and m.content_sha256 = i.content_sha256;
