-- mart.schoolbag_needs for one (school year, directorate): the school's declared needs
-- (core.fct_schoolbag) against the pupils its accepted roster (core.fct_enrolment) makes eligible
-- by the year's rules (core.programme_rule: schoolbags / eligibility / '<milieu>|<level>').
-- Parameters: $year, $province: the partition's rows (the builder replaces that partition).
--
-- **`mart.schoolbag_needs`** — one row per school × level where the accepted roster has pupils
-- eligible by the rules, or the school declared a row:
--
-- - `rule_kit_type`: the kit that `configs/programme_rules.yaml` (`schoolbags.eligibility`, as
--   flattened in `core.programme_rule`) gives the level in the school's milieu that year
--   (`full_kit`, `books_supplies`, `books_only`; null: no kit);
-- - `computed_eligible` = pupils of the level on the accepted roster (`core.fct_enrolment`) when
--   the rules give a kit, else 0;
-- - `declared_eligible`, `kits_requested`, `declared_kit_type`, `kits_received`,
--   `kits_distributed`: the school's declaration (`core.fct_schoolbag`), null when not declared;
-- - `requested_gap` = kits_requested − computed_eligible; `eligible_gap` = declared_eligible −
--   computed_eligible; `over_declared` = kits_requested > computed_eligible;
--   `kit_type_mismatch` = declared kit type ≠ the rules' (a kit declared for a level the rules
--   give none is a mismatch); `kits_undistributed` = kits_received − kits_distributed;
--   `over_distributed` = kits_distributed > kits_received.
with rules as (
    select split_part(rule_key, '|', 1) as milieu, split_part(rule_key, '|', 2) as level_code,
           value_text as kit_type
    from core.programme_rule
    where school_year = $year and programme = 'schoolbags' and rule = 'eligibility'
), roster as (
    select school_code, level_code, count(distinct pupil_key) as pupils
    from core.fct_enrolment
    where school_year = $year and province_code = $province
    group by all
), declared as (
    select school_code, level_code, min(kit_type) as kit_type, sum(enrolled) as enrolled,
           sum(eligible) as eligible, sum(kits_requested) as kits_requested,
           sum(kits_received) as kits_received, sum(kits_distributed) as kits_distributed
    from core.fct_schoolbag
    where school_year = $year and province_code = $province
    group by all
), schools as (
    select p.school_code, v.school_key, v.milieu, v.cycle, p.school_code in (select school_code from roster) as has_roster
    from (select school_code from roster union select school_code from declared) p
    left join core.school_year_version v on v.school_year = $year and v.school_code = p.school_code
), candidates as (
    -- levels with pupils eligible by the rules, and every level the school declared
    select r.school_code, r.level_code
    from roster r
    join schools s using (school_code)
    join rules ru on ru.milieu = s.milieu and ru.level_code = r.level_code
    union
    select school_code, level_code from declared
), measured as (
    select s.school_key, c.school_code, s.milieu, s.cycle, c.level_code, l.rank as level_rank, s.has_roster,
           d.school_code is not null as is_declared,
           case when s.has_roster then coalesce(r.pupils, 0) end as roster_pupils,
           ru.kit_type as rule_kit_type,
           case when s.has_roster then case when ru.kit_type is not null then coalesce(r.pupils, 0) else 0 end
           end as computed_eligible,
           d.enrolled as declared_enrolled, d.eligible as declared_eligible, d.kit_type as declared_kit_type,
           d.kits_requested, d.kits_received, d.kits_distributed
    from candidates c
    join schools s using (school_code)
    left join roster r on r.school_code = c.school_code and r.level_code = c.level_code
    left join declared d on d.school_code = c.school_code and d.level_code = c.level_code
    left join rules ru on ru.milieu = s.milieu and ru.level_code = c.level_code
    left join core.dim_level l on l.level_code = c.level_code
)
select $year as school_year, $province as province_code, school_key, school_code, milieu, cycle, level_code,
       level_rank, has_roster, is_declared, roster_pupils, rule_kit_type, computed_eligible,
       declared_enrolled, declared_eligible, declared_kit_type, kits_requested,
       kits_requested - computed_eligible as requested_gap,
       declared_eligible - computed_eligible as eligible_gap,
       kits_requested > computed_eligible as over_declared,
       case when is_declared then declared_kit_type is distinct from rule_kit_type end as kit_type_mismatch,
       kits_received, kits_distributed,
       kits_received - kits_distributed as kits_undistributed,
       kits_distributed > kits_received as over_distributed
from measured
