-- The year's roster warnings reconciled, against these rosters ($basis: staging/roster_twins_due.sql).
insert or replace into ops.roster_twins (school_year, basis, rows_warned, rows_cleared, directorates, reconciled_at)
values ($year, $basis, $warned, $cleared, $directorates, $at)
