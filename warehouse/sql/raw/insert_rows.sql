-- The rows the readers wrote to the Parquet files $parquet (text with lineage) into {{table}}, with
-- the id of the load that inserts them ($load_id: the files may have been read ahead, during the
-- previous partition's load), but for the files that are not loaded (bytes already loaded from
-- another path: duplicates): only the files $loaded.
insert into {{table}} by name
select *, $load_id as load_id from read_parquet($parquet)
where file_path in (select unnest($loaded));
