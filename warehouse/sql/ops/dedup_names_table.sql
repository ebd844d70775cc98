-- The year's distinct names with their normalised keys (`dedup_names_frame`, made in Python by
-- daam.arabic), as the temp table the candidates' matching joins.
create or replace temp table dedup_names as
select raw::varchar as raw, name_key::varchar as name_key from dedup_names_frame;
