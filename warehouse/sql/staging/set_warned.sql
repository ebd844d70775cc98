-- Flag as warned the staged rows of `warned_rows` (a rule that reads staged rows found them).
update {{table}} s set is_warned = true
from warned_rows w
where s.file_path = w.file_path and s.file_version = w.file_version
  and s.sheet is not distinct from w.sheet and s.row_number = w.row_number;
