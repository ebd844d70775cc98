-- ops: what was loaded and what was wrong with it. file_manifest and row_issue are the published
-- interface (warehouse-interface.md); their columns come first and keep their meaning.

create table if not exists ops.file_manifest (
  file_path varchar not null,          -- relative to the landing root, '/'-separated
  record_type varchar,
  school_year varchar,                 -- null for the referential
  period varchar,                      -- YYYY-MM for monthly files
  school_code varchar,                 -- null for province-level files
  province_code varchar,
  content_sha256 varchar not null,
  version integer not null,            -- 1 for the first content seen at that path, then 2, 3, ...
  status varchar not null,             -- loaded | rejected | superseded | duplicate
  rows_read bigint,
  rows_loaded bigint,
  rows_quarantined bigint,
  rows_warned bigint,
  error varchar,                       -- why a rejected file was rejected, in plain words
  extra_columns varchar,
  loaded_at timestamp,
  -- beyond the interface:
  encoding varchar,                    -- how the file was decoded: utf-8, utf-8-sig, utf-16, cp1256, xlsx
  duplicate_of varchar,                -- for status duplicate: the path whose identical bytes were loaded
  load_id varchar,                     -- the Dagster run that read this version
  primary key (file_path, version)
);
-- Why, in one word, a rejected file was rejected (configs/file_rejections.yaml words it for schools).
alter table ops.file_manifest add column if not exists error_kind varchar;
-- When this version reached the landing zone (the file's modification time at the scan that found it).
alter table ops.file_manifest add column if not exists received_at timestamp;

create table if not exists ops.row_issue (
  file_path varchar not null,
  record_type varchar,
  school_code varchar,
  sheet varchar,
  row_number integer,
  severity varchar,                    -- error (quarantined) | warning (loaded, flagged)
  rule varchar,                        -- stable rule id, configs/quality_rules.yaml
  column_name varchar,
  raw_value varchar,                   -- the value as read, before normalisation
  message_fr varchar,
  message_ar varchar,
  status varchar,                      -- open | resolved
  -- beyond the interface:
  file_version integer,
  school_year varchar,
  province_code varchar,
  first_seen_at timestamp,
  resolved_at timestamp
);

-- The last scan of the landing root: every file found, where it belongs, or why it was refused.
create table if not exists ops.landing_inventory (
  file_path varchar primary key,
  record_type varchar,
  school_year varchar,
  period varchar,
  school_code varchar,
  province_code varchar,
  size_bytes bigint,
  content_sha256 varchar,
  refusal varchar,                     -- set when the file can not belong to any partition
  scanned_at timestamp
);
alter table ops.landing_inventory add column if not exists modified_at timestamp;

-- One row per Dagster step that wrote to the warehouse (audit of loads).
create table if not exists ops.load_log (
  load_id varchar,
  step varchar,
  partition_key varchar,
  started_at timestamp,
  finished_at timestamp,
  detail varchar
);

-- Quarantined rows with all their rule violations, for monitors (reads raw + row_issue).
create or replace view ops.quarantine as
select i.file_path, i.file_version, i.record_type, i.school_code, i.sheet, i.row_number,
       string_agg(i.rule, ', ' order by i.rule) as rules,
       count(*) as errors
from ops.row_issue i
where i.severity = 'error' and i.status = 'open'
group by all;

-- What each (school year, directorate) partition was last loaded from: `daam load` skips a
-- partition whose inputs (its files, the year's rosters, the referential, configs and code)
-- have not changed since, so a rerun with nothing new costs a scan, not a reload.
create table if not exists ops.partition_load (
  school_year varchar,
  province_code varchar,
  input_fingerprint varchar,
  run_id varchar,
  loaded_at timestamp,
  primary key (school_year, province_code)
);

-- Outliers on school-level aggregates (warehouse/outliers.py): warnings with a follow-up status
-- (open | confirmed | explained | corrected | resolved), one row per school x metric x period.
create table if not exists ops.outlier (
  school_year varchar,
  month varchar,                       -- YYYY-MM, '' for yearly metrics
  province_code varchar,
  school_code varchar,
  metric varchar,                      -- configs/outliers.yaml
  value double,
  method varchar,                      -- modified_z | zscore | minmax
  threshold double,
  lower_bound double,
  upper_bound double,
  score double,
  peer_median double,
  peers integer,                       -- schools in the comparison group
  status varchar,
  first_seen_at timestamp,
  last_seen_at timestamp,
  resolved_at timestamp,
  last_run_id varchar,
  note varchar                         -- the monitor's follow-up note
);

-- Every monitoring run's results, uncapped and never overwritten: per rule, partition and school,
-- how many rows (or submissions, or values) failed out of how many were examined.
create table if not exists ops.quality_history (
  run_id varchar,
  run_at timestamp,
  school_year varchar,
  province_code varchar,
  school_code varchar,                 -- null for a directorate's own files (payments)
  record_type varchar,
  rule varchar,                        -- a catalogue rule, completeness, timeliness or outlier:<metric>
  severity varchar,
  failing_count bigint,
  examined_count bigint
);
