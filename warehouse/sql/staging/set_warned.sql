-- Flag as warned the staged rows of `twins` (`_row_id`s of {{prepared}}, which a rule reading the
-- staged rows found).
update {{table}} s set is_warned = true
from (select p.file_path, p.file_version, p.sheet, p.row_number
      from {{prepared}} p join twins t using (_row_id)) w
where s.file_path = w.file_path and s.file_version = w.file_version
  and s.sheet is not distinct from w.sheet and s.row_number = w.row_number;
