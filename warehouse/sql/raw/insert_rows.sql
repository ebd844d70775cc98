-- A batch of rows read from new file versions (`raw_batch`, text with lineage) into {{table}}.
insert into {{table}} by name select * from raw_batch;
