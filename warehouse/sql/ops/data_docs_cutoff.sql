-- The sample's cutoff for ops/data_docs_rows.sql: the largest of the $max_rows smallest hashes of
-- (file, sheet, row number) among the current raw rows of {{table}} in scope. Found from those three
-- columns alone, and passed to the rows' query as a constant, which DuckDB then applies while it
-- scans (as a subquery of the rows' query, a national year of attendance, 70 M rows of text, was
-- read whole first: 5 GB of memory and a minute for a 200,000-row sample).
select max(sample_hash) as cutoff
from (select hash(r.file_path, r.sheet, r.row_number) as sample_hash
      from {{table}} r
      join ops.file_manifest m on m.file_path = r.file_path and m.version = r.file_version
      where m.status = 'loaded' and r.school_year is not distinct from $year
        and ($province is null or r.province_code = $province)
      order by sample_hash limit $max_rows)
