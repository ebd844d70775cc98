-- A partition loaded successfully from these inputs ($fingerprint), by run $run.
insert or replace into ops.partition_load values ($year, $province, $fingerprint, $run, now());
