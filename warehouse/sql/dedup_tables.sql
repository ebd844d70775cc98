-- De-duplication of beneficiaries (warehouse/dedup.py): exact duplicates (one Massar code at two
-- schools), households (one guardian CIN), fuzzy candidates (one person under two Massar codes).
-- Only pseudonymous keys and school codes here: names, birth dates and CINs stay in
-- core.pupil_identity.

create schema if not exists core;
create schema if not exists mart;
create schema if not exists ops;

-- Deterministic pseudonymous guardian key (as core.pupil_key): spaces dropped, upper case.
create or replace macro core.guardian_key(cin) as ('0x' || substr(md5('daam-guardian|' || upper(replace(replace(cin, ' ', ''), chr(9), ''))), 1, 15))::bigint;

-- A pupil (one Massar code) on two or more schools' accepted rosters in a school year, or active
-- on two or more schools' Tayssir lists in the same month; all directorates of the year together.
create table if not exists mart.pupil_in_two_schools (
  school_year varchar not null,
  kind varchar not null,               -- roster | tayssir
  month varchar not null,              -- YYYY-MM: every school month for rosters, the month for Tayssir
  pupil_key bigint not null,
  schools integer,                     -- how many schools list the pupil (that month, for Tayssir)
  school_codes varchar[],              -- those schools, by code
  province_codes varchar[],            -- the directorate of each, in the order of school_codes
  crosses_directorates boolean,        -- the schools are in more than one directorate
  attendance_schools integer,          -- how many of them reported the pupil's attendance that month
  holding_school_code varchar,         -- the school that holds the pupil that month (see holding_basis)
  holding_province_code varchar,
  holding_basis varchar                -- attendance | attendance+latest_roster | latest_roster
);

-- Pupils of a school year by guardian (the CIN on the rosters), one row per pupil and school.
create table if not exists mart.household_member (
  school_year varchar not null,
  guardian_key bigint not null,        -- core.guardian_key(guardian_cin)
  pupil_key bigint not null,
  school_code varchar,
  province_code varchar,
  is_tayssir_beneficiary boolean       -- active on a Tayssir list in at least one month of the year
);

-- One row per guardian and school year (the schools themselves: mart.household_member).
create table if not exists mart.household (
  school_year varchar not null,
  guardian_key bigint not null,
  children integer,                    -- distinct pupils
  schools integer,
  directorates integer,
  tayssir_beneficiaries integer        -- children active on a Tayssir list in at least one month
);

-- Possibly one person under two Massar codes: the same normalised Arabic full name, birth date
-- and commune (of the school) in a school year. A reviewer sets `state`; recomputing keeps it.
create table if not exists ops.duplicate_candidate (
  school_year varchar not null,
  pupil_key_a bigint not null,         -- pupil_key_a < pupil_key_b
  pupil_key_b bigint not null,
  school_code_a varchar,
  province_code_a varchar,
  school_code_b varchar,
  province_code_b varchar,
  commune_code varchar,
  evidence varchar,                    -- what matched: name, birth_date, commune, then any of name_as_written, gender, birth_place, guardian_cin, same_school
  state varchar not null default 'needs_review' check (state in ('unique', 'duplicate', 'needs_review')),
  reviewed_by varchar,
  reviewed_at timestamp,
  note varchar,
  first_seen_at timestamp,
  last_seen_at timestamp,              -- the last computation that found the pair
  resolved_at timestamp                -- set when a computation no longer finds it; cleared if it comes back
);
