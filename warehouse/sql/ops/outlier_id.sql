-- The short id a monitor names an outlier by (`daam outlier`): the first 10 hex digits of the
-- SHA-256 of its key. Stable across monitoring runs (the key never changes), computed when read,
-- never stored. A temp macro: the follow-up queries run this file first, on any connection.
create or replace temp macro outlier_id(school_year, month, school_code, metric) as
    left(sha256(school_year || '|' || month || '|' || school_code || '|' || metric), 10);
