-- Each flagged row's flags from its issues (`row_issues`): an error quarantines it, a warning warns
-- it unless it is quarantined, and an identical copy of a row of its file is marked a copy.
create or replace temp table {{target}} as
select _row_id,
       bool_or(severity = 'error') as is_quarantined,
       bool_or(severity = 'warning') and not bool_or(severity = 'error') as is_warned,
       bool_or(rule = 'duplicate_key_identical') as is_duplicate_copy
from row_issues
group by _row_id;
