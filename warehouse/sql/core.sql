-- core: the Kimball star. Grains and keys are documented in warehouse/README.md.
-- Surrogate keys are deterministic hashes, so a rerun or a rebuild gives the same keys.

create table if not exists core.dim_geography (
  province_code varchar primary key,
  province_name_fr varchar,
  province_name_ar varchar,
  region_code varchar,
  region_name_fr varchar,
  region_name_ar varchar,
  country_code varchar
);

create table if not exists core.dim_school (
  school_key bigint primary key,       -- one per school version (SCD type 2)
  school_code varchar not null,
  name_fr varchar,
  name_ar varchar,
  province_code varchar,
  region_code varchar,
  commune_code varchar,
  commune_name_fr varchar,
  commune_name_ar varchar,
  milieu varchar,                      -- urbain | rural
  cycle varchar,                       -- primaire | college | lycee
  nature varchar,
  parent_school_code varchar,
  sector varchar,
  has_boarding boolean,
  boarding_capacity bigint,
  has_canteen boolean,
  opened_on date,
  closed_on date,
  valid_from date not null,            -- date of the referential snapshot that introduced this version
  valid_to date,                       -- day before the next version, null while current
  is_current boolean,
  source_file varchar
);

create table if not exists core.dim_level (
  level_code varchar primary key,
  cycle varchar,
  rank integer,
  nominal_age integer,
  label_fr varchar,
  label_ar varchar
);

create table if not exists core.dim_date (
  date_key integer primary key,        -- yyyymmdd
  date date,
  month varchar,                       -- YYYY-MM
  school_year varchar,
  school_month_rank integer,           -- 1 = September ... 10 = June
  year integer,
  month_of_year integer,
  day_of_week integer
);

-- School days of each month, from configs/calendar.yaml: the denominator when a file gives none.
create table if not exists core.school_calendar (
  school_year varchar,
  month varchar,                       -- YYYY-MM
  school_days integer
);

create table if not exists core.dim_programme (
  programme_code varchar primary key,
  name_fr varchar,
  name_ar varchar
);

-- Analytical pupil attributes only; names, birth date, CIN live in core.pupil_identity.
create table if not exists core.dim_pupil (
  pupil_key bigint primary key,
  gender varchar,
  birth_year integer,
  last_school_year varchar
);

-- Personal data, kept apart: one row per pupil per partition that lists them on a roster.
create table if not exists core.pupil_identity (
  pupil_key bigint,
  massar_code varchar,
  last_name_ar varchar,
  first_name_ar varchar,
  last_name_fr varchar,
  first_name_fr varchar,
  birth_date date,
  birth_place varchar,
  guardian_cin varchar,
  school_year varchar,
  province_code varchar,
  school_code varchar
);

create table if not exists core.fct_enrolment (
  school_year varchar, province_code varchar, school_key bigint, school_code varchar,
  pupil_key bigint, level_code varchar, class_name varchar, gender varchar,
  is_repeating boolean, boarding_status varchar, has_disability boolean, age_at_sept integer,
  file_path varchar, file_version integer, sheet varchar, row_number integer
);

create table if not exists core.fct_attendance (
  school_year varchar, province_code varchar, school_key bigint, school_code varchar,
  month varchar, date_key integer, pupil_key bigint,
  unjustified_absence_days bigint, justified_absence_days bigint, school_days bigint,
  file_path varchar, file_version integer, sheet varchar, row_number integer
);

create table if not exists core.fct_tayssir_month (
  school_year varchar, province_code varchar, school_key bigint, school_code varchar,
  month varchar, date_key integer, pupil_key bigint, level_code varchar, cycle varchar,
  is_active boolean, attendance_reported boolean, unjustified_absence_days bigint,
  max_unjustified_absence_days bigint, is_compliant boolean, entitlement_mad decimal(14, 2),
  reason_not_paid varchar            -- not_active | no_attendance | over_threshold | level_not_covered
);

create table if not exists core.fct_tayssir_payment (
  school_year varchar, province_code varchar, school_key bigint, school_code varchar,
  pupil_key bigint, payment_ref varchar, instalment integer, period_from varchar, period_to varchar,
  period_school_year varchar, amount_mad decimal(14, 2), status varchar, paid_on date,
  file_path varchar, file_version integer, sheet varchar, row_number integer
);

create table if not exists core.fct_schoolbag (
  school_year varchar, province_code varchar, school_key bigint, school_code varchar,
  level_code varchar, kit_type varchar, enrolled bigint, eligible bigint, kits_requested bigint,
  kits_received bigint, kits_distributed bigint, forecast_next_year bigint,
  file_path varchar, file_version integer, sheet varchar, row_number integer
);

create table if not exists core.fct_boarding_grant (
  school_year varchar, province_code varchar, school_key bigint, school_code varchar,
  pupil_key bigint, grant_type varchar, status varchar, start_month varchar, end_month varchar,
  months_granted integer, monthly_rate_mad decimal(14, 2), amount_mad decimal(14, 2),
  file_path varchar, file_version integer, sheet varchar, row_number integer
);

create table if not exists core.fct_canteen_month (
  school_year varchar, province_code varchar, school_key bigint, school_code varchar,
  month varchar, date_key integer, beneficiaries bigint, meal_days bigint, meals_served bigint,
  meal_rate_mad decimal(14, 2), cost_mad decimal(14, 2),
  file_path varchar, file_version integer, sheet varchar, row_number integer
);

-- Completeness: one row per school x record type x period expected or received.
create table if not exists core.fct_submission (
  school_year varchar, province_code varchar, school_key bigint, school_code varchar,
  record_type varchar, period varchar, is_expected boolean, is_received boolean
);
-- Timeliness: when the first loaded version arrived, its deadline (configs/completeness.yaml), on time?
alter table core.fct_submission add column if not exists received_at timestamp;
alter table core.fct_submission add column if not exists deadline date;
alter table core.fct_submission add column if not exists is_on_time boolean;

-- Programme rules in force, by school year, as loaded from configs/programme_rules.yaml.
create table if not exists core.programme_rule (
  school_year varchar,
  programme varchar,                   -- tayssir | schoolbags | boarding | canteen
  rule varchar,                        -- e.g. monthly_amount_mad, max_unjustified_absence_days
  rule_key varchar,                    -- level, cycle, grant type, month, ... (null for scalars)
  value_num double,
  value_text varchar
);

-- Deterministic pseudonymous pupil key: the same pupil gets the same key on every load.
create or replace macro core.pupil_key(code) as ('0x' || substr(md5('daam-pupil|' || code), 1, 15))::bigint;
