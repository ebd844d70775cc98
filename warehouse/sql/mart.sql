-- mart.indicators: the published indicators (warehouse-interface.md), exactly these columns.
create table if not exists mart.indicators (
  geo_level varchar not null,          -- school | province | region | national
  geo_code varchar not null,           -- school code, province code, region code, or MA
  geo_name_fr varchar,
  geo_name_ar varchar,
  school_year varchar not null,
  month varchar,                       -- YYYY-MM for monthly indicators, null for yearly ones
  indicator varchar not null,
  value double
);

-- Tayssir payment reconciliation (sql/mart/tayssir_reconciliation.sql): one row per pupil and
-- instalment of a school year, entitlement (plus what was carried over) against what was paid.
create table if not exists mart.tayssir_reconciliation (
  school_year varchar, province_code varchar, school_code varchar, pupil_key bigint,
  instalment integer,
  months_due integer,                  -- compliant months of the instalment
  entitlement_mad decimal(14, 2),      -- sum of the months' entitlements
  carried_over_mad decimal(14, 2),     -- unclaimed or cancelled in the previous instalment
  due_mad decimal(14, 2),              -- entitlement + carried over: the instalment's due list
  paid_mad decimal(14, 2),             -- payment lines with status paid
  not_collected_mad decimal(14, 2),    -- payment lines unclaimed or cancelled
  payment_lines integer,
  reasons_not_due varchar,             -- why months of the instalment were not due (fct_tayssir_month)
  class varchar                        -- paid_as_due | unpaid_due | paid_not_due | amount_mismatch | nothing_due
);

-- Targeting (sql/mart/tayssir_targeting.sql): per school, who the rules make eligible and who is
-- on the Tayssir list. Numerators and denominators, never ratios, so every level adds up.
create table if not exists mart.tayssir_targeting (
  school_year varchar, province_code varchar, commune_code varchar, school_code varchar,
  enrolled_pupils integer,
  eligible_pupils integer,             -- level covered and (cycle, milieu) eligible that year
  beneficiaries integer,               -- active on the school's accepted Tayssir list
  covered_eligible integer,            -- eligible and beneficiary: coverage = covered / eligible
  inclusion_errors integer,            -- beneficiaries the rules do not make eligible
  inclusion_level_not_covered integer, --   of which: level outside the programme
  inclusion_milieu integer,            --   of which: cycle not eligible in the school's milieu
  exclusion_candidates integer         -- eligible pupils not on the list
);

-- Boarding capacity (sql/mart/boarding_capacity.sql): grantees against the referential's capacity.
create table if not exists mart.boarding_capacity (
  school_year varchar, province_code varchar, school_code varchar,
  has_boarding boolean, boarding_capacity integer,
  internat_grantees integer, demi_pension_grantees integer, cantine_grantees integer,
  grant_mad decimal(14, 2),
  over_capacity boolean                -- more boarding (internat) grantees than places
);

-- Targeting by commune (analysts' first question): the schools' numerators and denominators summed.
create or replace view mart.tayssir_targeting_by_commune as
select school_year, province_code, commune_code, count(*) as schools,
       sum(enrolled_pupils) as enrolled_pupils, sum(eligible_pupils) as eligible_pupils,
       sum(beneficiaries) as beneficiaries, sum(covered_eligible) as covered_eligible,
       sum(inclusion_errors) as inclusion_errors, sum(exclusion_candidates) as exclusion_candidates
from mart.tayssir_targeting
group by all;

-- The monthly Tayssir cycle (sql/mart/tayssir_month_close.sql): per school and school month,
-- after the attendance deadline, what the month owes and what is still missing.
create table if not exists mart.tayssir_month_close (
  school_year varchar, month varchar, province_code varchar, school_code varchar,
  active_beneficiaries integer, compliant_pupils integer, entitlement_mad decimal(14, 2),
  not_paid_over_threshold integer, not_paid_no_attendance integer, not_paid_level integer,
  attendance_expected boolean, attendance_received boolean, attendance_on_time boolean,
  closed_at timestamp
);
