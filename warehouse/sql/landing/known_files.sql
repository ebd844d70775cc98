-- The files of the last scan that were read and hashed, with what their status said then
-- (daam/landing/inventory.py::stat_key): a file whose status says the same is not read again.
select file_path, stat_key, content_sha256
from ops.landing_inventory
where stat_key is not null and content_sha256 is not null
