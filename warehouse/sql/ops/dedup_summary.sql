-- What the de-duplication of one school year ($year, computed at $now) found, for the run's metadata.
select (select count(distinct pupil_key) filter (where kind = 'roster')
        from mart.pupil_in_two_schools where school_year = $year) as pupils_on_two_rosters,
       (select count(*) filter (where kind = 'tayssir')
        from mart.pupil_in_two_schools where school_year = $year) as pupil_months_on_two_tayssir_lists,
       (select count(distinct pupil_key) filter (where kind = 'tayssir')
        from mart.pupil_in_two_schools where school_year = $year) as pupils_on_two_tayssir_lists,
       (select count(distinct pupil_key) filter (where crosses_directorates)
        from mart.pupil_in_two_schools where school_year = $year) as pupils_across_directorates,
       (select count(*) from mart.household where school_year = $year) as households,
       (select count(*) filter (where schools > 1) from mart.household where school_year = $year)
         as households_across_schools,
       (select count(*) filter (where directorates > 1) from mart.household where school_year = $year)
         as households_across_directorates,
       (select count(*) filter (where resolved_at is null)
        from ops.duplicate_candidate where school_year = $year) as candidates_open,
       (select count(*) filter (where first_seen_at = $now)
        from ops.duplicate_candidate where school_year = $year) as candidates_new,
       (select count(*) filter (where resolved_at = $now)
        from ops.duplicate_candidate where school_year = $year) as candidates_resolved,
       (select count(*) filter (where resolved_at is null and state = 'needs_review')
        from ops.duplicate_candidate where school_year = $year) as candidates_needs_review
