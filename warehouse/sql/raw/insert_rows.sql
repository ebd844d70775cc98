-- The rows the readers wrote to the Parquet files $parquet (text, each with the number `_file` of
-- its file in that Parquet file) into {{table}}, with the lineage that is the same for all of a
-- file's rows (the registered frame `files`: one row per file whose rows load, found by Parquet
-- file and `_file`) and the id of the load that inserts them ($load_id: the files may have been
-- read ahead, during the previous partition's load). A file not in `files` (bytes already loaded
-- from another path: a duplicate) adds no row.
insert into {{table}} by name
select r.* exclude (filename, _file), f.* exclude (filename, _file), $load_id as load_id
from read_parquet($parquet, filename = true) as r
join files as f on f.filename = r.filename and f._file = r._file;
