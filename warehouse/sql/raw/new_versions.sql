-- The files of `incoming` (inventory rows) whose content is not that of the latest version the
-- manifest has of their path, with their next version number: a file put back to an earlier
-- content (a school re-sends its first file after a wrong correction) is a new version, read again,
-- and supersedes the correction. A file refused only because its school was not yet in the
-- referential ($reexamined: the start of that refusal) is examined again under its existing version
-- once the scan says something else about it (its school is now known): a late referential entry
-- lets it in, and a refusal that stays the same is not written again.
select i.*, coalesce(r.version, coalesce(m.last_version, 0) + 1) as version
from incoming i
left join (select file_path, max(version) as last_version from ops.file_manifest group by 1) m
  using (file_path)
left join ops.file_manifest r
  on r.file_path = i.file_path and r.content_sha256 = i.content_sha256
 and r.status = 'rejected' and starts_with(r.error, $reexamined)
where not exists (select 1 from ops.file_manifest f
                  where f.file_path = i.file_path and f.content_sha256 = i.content_sha256
                    and f.version = m.last_version
                    and not (f.status = 'rejected' and starts_with(f.error, $reexamined)
                             and i.refusal is distinct from f.error))
order by i.file_path
