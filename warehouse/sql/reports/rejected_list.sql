-- The first $n rejected files with the reason.
select file_path, error from ops.file_manifest where status = 'rejected' order by file_path limit $n
