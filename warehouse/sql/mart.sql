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
