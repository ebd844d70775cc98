-- Functions of the core schema, created with the schema (warehouse/schema.py).

-- HMAC-SHA256 (RFC 2104) of `msg` under the pseudonym secret, as 64 hex digits. The secret's
-- inner and outer pads are session variables that warehouse/pseudonyms.py binds on every
-- connection that computes keys: they are never stored in the warehouse file, and a connection
-- without them fails with this message instead of falling back to an unkeyed hash.
create or replace macro core.hmac_hex(msg) as
    case when getvariable('daam_hmac_opad') is null
         then error('the pseudonym secret is not bound to this connection (warehouse.pseudonyms.bind_secret)')
         else sha256(getvariable('daam_hmac_opad') || unhex(sha256(getvariable('daam_hmac_ipad') || encode(msg))))
    end;

-- Pseudonymous pupil key: the same pupil gets the same key on every load under the same secret;
-- without the secret it can not be recomputed from a Massar code. 60 bits of the HMAC.
create or replace macro core.pupil_key(code) as ('0x' || substr(core.hmac_hex('daam-pupil|' || code), 1, 15))::bigint;

-- Pseudonymous guardian key (as core.pupil_key), of the CIN with spaces dropped, upper case.
create or replace macro core.guardian_key(cin) as ('0x' || substr(core.hmac_hex('daam-guardian|' || upper(replace(replace(cin, ' ', ''), chr(9), ''))), 1, 15))::bigint;
