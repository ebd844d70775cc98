-- A reviewer's decision on a duplicate candidate pair ($a < $b): kept across recomputations.
update ops.duplicate_candidate
set state = $state, reviewed_by = $who, reviewed_at = $at, note = coalesce($note, note)
where school_year = $year and pupil_key_a = $a and pupil_key_b = $b;
