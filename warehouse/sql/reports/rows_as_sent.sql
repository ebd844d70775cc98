-- The raw rows of {{table}} that issues point at (`issue_rows`: file, version, sheet, row), as sent.
select r.*
from {{table}} r
join issue_rows k on k.file_path = r.file_path and k.file_version = r.file_version
 and k.sheet is not distinct from r.sheet and k.row_number = r.row_number
