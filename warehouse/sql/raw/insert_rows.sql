-- The rows the readers wrote to the Parquet files $parquet (text with lineage) into {{table}}, but
-- for the files that are not loaded (bytes already loaded from another path: duplicates): only the
-- files $loaded.
insert into {{table}} by name
select * from read_parquet($parquet)
where file_path in (select unnest($loaded));
