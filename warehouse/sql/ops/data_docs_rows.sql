-- The current raw rows of {{table}} of one school year ($year; null for the referential) in a
-- directorate ($province; null: all), as staging reads them. With $cutoff (ops/data_docs_cutoff.sql),
-- a deterministic sample: the rows whose hash of (file, sheet, row number) is at most the cutoff, so
-- that every run, and a corrected file's next version, samples the same rows.
select r.* exclude (load_id, content_sha256)
from {{table}} r
join ops.file_manifest m on m.file_path = r.file_path and m.version = r.file_version
where m.status = 'loaded' and r.school_year is not distinct from $year
  and ($province is null or r.province_code = $province)
  and ($cutoff is null or hash(r.file_path, r.sheet, r.row_number) <= $cutoff)
order by r.file_path, r.sheet, r.row_number
