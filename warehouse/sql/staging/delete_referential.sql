-- The staged referential, before it is staged again whole.
delete from staging.schools;
