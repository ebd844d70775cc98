-- Schoolbag needs audit and next-year forecast (تدقيق الحاجيات والتوقعات), royal initiative
-- « un million de cartables ». Both tables are written per (school_year, province_code)
-- partition by warehouse/schoolbags.py; no personal data (counts per school × level only).
-- "Not declared" is null, never zero: a school that sent no needs declaration (or no row for a
-- level) has null declared columns; a school with no accepted roster has null computed columns.
create schema if not exists mart;

-- mart.schoolbag_needs: one row per school × level of the school year, for the levels where the
-- accepted roster has pupils eligible by the rules (core.programme_rule, schoolbags/eligibility,
-- the school's milieu) or the school declared a row (core.fct_schoolbag).
create table if not exists mart.schoolbag_needs (
  school_year varchar not null,
  province_code varchar not null,
  school_key bigint,                   -- the school's referential version for the year
  school_code varchar not null,
  milieu varchar,                      -- urbain | rural (referential version of the year)
  cycle varchar,                       -- primaire | college | lycee
  level_code varchar not null,
  level_rank integer,
  has_roster boolean,                  -- the school has accepted roster rows this year
  is_declared boolean,                 -- the school declared a row for this level
  roster_pupils bigint,                -- pupils of the level on the accepted roster (null: no roster)
  rule_kit_type varchar,               -- full_kit | books_supplies | books_only; null = no kit by the rules
  computed_eligible bigint,            -- roster_pupils when the rules give a kit, else 0 (null: no roster)
  declared_enrolled bigint,            -- fct_schoolbag.enrolled (null: not declared)
  declared_eligible bigint,            -- fct_schoolbag.eligible (null: not declared)
  declared_kit_type varchar,           -- fct_schoolbag.kit_type (null: not declared)
  kits_requested bigint,               -- fct_schoolbag.kits_requested (null: not declared)
  requested_gap bigint,                -- kits_requested - computed_eligible
  eligible_gap bigint,                 -- declared_eligible - computed_eligible
  over_declared boolean,               -- kits_requested > computed_eligible
  kit_type_mismatch boolean,           -- declared kit type <> the rules' (null: not declared)
  kits_received bigint,                -- null: not declared / not reported
  kits_distributed bigint,
  kits_undistributed bigint,           -- kits_received - kits_distributed (negative: over-distributed)
  over_distributed boolean             -- kits_distributed > kits_received
);

-- mart.schoolbag_forecast: one row per school × level of the next school year (forecast_year =
-- school_year + 1), forecast from the school year's accepted roster; formulas in warehouse/schoolbags.py.
create table if not exists mart.schoolbag_forecast (
  school_year varchar not null,        -- Y: the year whose roster the forecast starts from
  forecast_year varchar not null,      -- Y+1
  province_code varchar not null,
  school_key bigint,
  school_code varchar not null,
  milieu varchar,
  cycle varchar,                       -- the school's cycle (else the cycle of most of its roster)
  level_code varchar not null,         -- level in Y+1
  level_rank integer,
  has_roster boolean,
  pupils_current bigint,               -- N: pupils of the level in Y
  repeaters_current bigint,            -- R: repeaters of the level in Y
  repetition_rate double,              -- R / N in Y (null when N = 0)
  repeaters_staying bigint,            -- repetition_rate x N = R: pupils expected to stay in the level
  promoted_in bigint,                  -- N - R of the level below (same cycle), promoted into this level
  intake_forecast bigint,              -- entry level of the cycle only: new-entrant trend, floored at 0
  intake_years integer,                -- years of history the intake trend used (1 to 3)
  forecast_pupils bigint,              -- repeaters_staying + promoted_in + intake_forecast
  rules_year varchar,                  -- year whose eligibility rules apply: Y+1 if configured, else Y
  kit_type_next varchar,               -- kit by those rules for the school's milieu; null = no kit
  kits_needed bigint,                  -- forecast_pupils when kit_type_next is not null, else 0
  declared_forecast bigint,            -- fct_schoolbag.forecast_next_year of the level in Y (null: not declared)
  forecast_gap bigint                  -- declared_forecast - forecast_pupils
);
