-- The files of the last scan that were read and hashed, with their size and modification time: a
-- file found again with both unchanged is not read again (daam/landing/inventory.py::scan).
select file_path, size_bytes, modified_at, content_sha256
from ops.landing_inventory
where size_bytes is not null and modified_at is not null and content_sha256 is not null
