-- Functions of the core schema, created with the schema (warehouse/schema.py).

-- Deterministic pseudonymous pupil key: the same pupil gets the same key on every load.
create or replace macro core.pupil_key(code) as ('0x' || substr(md5('daam-pupil|' || code), 1, 15))::bigint;

-- Deterministic pseudonymous guardian key (as core.pupil_key): spaces dropped, upper case.
create or replace macro core.guardian_key(cin) as ('0x' || substr(md5('daam-guardian|' || upper(replace(replace(cin, ' ', ''), chr(9), ''))), 1, 15))::bigint;

