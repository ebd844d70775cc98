-- A monitor's follow-up of the outliers whose short ids (ops/outlier_id.sql) are $ids: status $status
-- (confirmed, explained, or back to open), who and when, and the note (kept when $note is null).
-- Kept across monitoring runs (ops/outlier.sql). A resolved outlier is never changed here.
update ops.outlier
set status = $status, reviewed_by = $who, reviewed_at = $at, note = coalesce($note, note)
where status <> 'resolved' and list_contains($ids::varchar[], outlier_id(school_year, month, school_code, metric));
