-- The scan (`inventory`) replaces ops.landing_inventory; manifest versions recorded before arrival
-- times were kept get the time of the bytes still in place.
delete from ops.landing_inventory;

insert into ops.landing_inventory by name select * from inventory;

update ops.file_manifest m set received_at = i.modified_at
from ops.landing_inventory i
where m.received_at is null and i.modified_at is not null
  and m.file_path = i.file_path and m.content_sha256 = i.content_sha256;
