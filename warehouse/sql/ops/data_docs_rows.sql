-- The current raw rows of {{table}} of one school year ($year; null for the referential) in a
-- directorate ($province; null: all), as staging reads them. With $max_rows, a deterministic sample:
-- the rows with the smallest hash of (file, sheet, row number), so that every run, and a corrected
-- file's next version, samples the same rows.
with scoped as (
    select r.* exclude (load_id, content_sha256), hash(r.file_path, r.sheet, r.row_number) as sample_hash
    from {{table}} r
    join ops.file_manifest m on m.file_path = r.file_path and m.version = r.file_version
    where m.status = 'loaded' and r.school_year is not distinct from $year
      and ($province is null or r.province_code = $province)
)
select * exclude (sample_hash) from scoped
where $max_rows is null
   or sample_hash <= (select max(sample_hash) from (select sample_hash from scoped order by sample_hash limit $max_rows))
order by file_path, sheet, row_number
