-- A seed ({{table}}) replaced whole by the rows made from configs/ (`seed_frame`).
delete from {{table}};
insert into {{table}} by name select * from seed_frame;
