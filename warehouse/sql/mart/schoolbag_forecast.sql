-- mart.schoolbag_forecast for one (school year Y, directorate): pupils and kits per school × level
-- in Y+1, from Y's accepted roster (core.fct_enrolment), against the school's declared
-- forecast_next_year (core.fct_schoolbag of Y).
-- Parameters: $year, $province: the partition's rows (the builder replaces that partition).
--
-- **`mart.schoolbag_forecast`** — one row per school × level of year Y+1, from year Y's roster.
-- For level L in Y with N_L pupils of whom R_L repeat, the repetition rate is ρ_L = R_L / N_L and:
--
-- - repeaters_staying(L) = ρ_L · N_L = R_L (they stay in L);
-- - promoted_in(L+1) = (1 − ρ_L) · N_L = N_L − R_L, L+1 being the level of next rank
--   (`core.dim_level.rank`) in the school's cycle; pupils of the cycle's last level leave;
-- - intake at the cycle's entry level (1AP in primary; 1AC in collège, TC in lycée) = new entrants
--   (pupils of the entry level not repeating) over the last up-to-3 years ≤ Y in which the school
--   has roster rows in the directorate, extended one year by least squares:
--   ŷ(Y+1) = ȳ + b · (x_{Y+1} − x̄), b = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)², x = the year's first
--   calendar year; with one year, that year's value; rounded, floored at 0. 20, 24, 28 → 32;
-- - forecast_pupils(L) = repeaters_staying(L) + promoted_in(L) + intake(L);
-- - kits_needed(L) = forecast_pupils(L) when the rules give L a kit in the school's milieu, else 0,
--   with Y+1's rules when `configs/programme_rules.yaml` lists Y+1, else Y's (`rules_year`);
-- - forecast_gap = the school's declared `forecast_next_year` for L (in Y) − forecast_pupils(L).
--
-- The school's milieu and cycle are those of its referential version for Y
-- (`core.school_year_version`); a school without a cycle takes the cycle of most of its roster.
with years as (
    select left($year, 4)::integer as y0,
           (left($year, 4)::integer + 1) || '-' || (left($year, 4)::integer + 2) as next_year
), rules_year as (
    -- Y+1's rules when configs/programme_rules.yaml has that year, else Y's
    select case when exists (select 1 from core.programme_rule, years
                             where school_year = next_year and programme = 'schoolbags' and rule = 'eligibility')
                then (select next_year from years) else $year end as rules_year
), rules as (
    select split_part(rule_key, '|', 1) as milieu, split_part(rule_key, '|', 2) as level_code,
           value_text as kit_type
    from core.programme_rule
    where school_year = (select rules_year from rules_year) and programme = 'schoolbags' and rule = 'eligibility'
), roster as (
    select e.school_code, e.level_code, count(distinct e.pupil_key) as pupils,
           count(distinct e.pupil_key) filter (e.is_repeating) as repeaters
    from core.fct_enrolment e
    where e.school_year = $year and e.province_code = $province
    group by all
), declared as (
    select school_code, level_code, sum(forecast_next_year) as declared_forecast
    from core.fct_schoolbag
    where school_year = $year and province_code = $province
    group by all
), roster_cycle as (
    select r.school_code, arg_max(r.cycle, r.pupils) as cycle
    from (select school_code, l.cycle, sum(pupils) as pupils from roster join core.dim_level l using (level_code)
          group by all) r
    group by all
), schools as (
    select p.school_code, v.school_key, v.milieu, coalesce(v.cycle, rc.cycle) as cycle,
           p.school_code in (select school_code from roster) as has_roster
    from (select school_code from roster union select school_code from declared) p
    left join core.school_year_version v on v.school_year = $year and v.school_code = p.school_code
    left join roster_cycle rc on rc.school_code = p.school_code
), entry as (
    -- the cycle's first level (1AP in primary): new pupils arrive there
    select s.school_code, arg_min(l.level_code, l.rank) as entry_level
    from schools s join core.dim_level l on l.cycle = s.cycle
    where s.has_roster
    group by all
), promoted as (
    -- pupils not repeating move up one rank, within the school's cycle; the cycle's last level leaves
    select r.school_code, nx.level_code, sum(r.pupils - r.repeaters) as promoted_in
    from roster r
    join schools s using (school_code)
    join core.dim_level l on l.level_code = r.level_code
    join core.dim_level nx on nx.rank = l.rank + 1 and nx.cycle = s.cycle
    group by all
), history as (
    -- new entrants (not repeating) at the entry level, in each year the school has roster rows,
    -- up to Y, within the directorate
    select e.school_code, left(e.school_year, 4)::integer as x,
           count(distinct e.pupil_key) filter (e.level_code = n.entry_level and not coalesce(e.is_repeating, false))
             as y
    from core.fct_enrolment e
    join entry n using (school_code)
    where e.province_code = $province and e.school_year <= $year
    group by all
), recent as (
    select * from history qualify row_number() over (partition by school_code order by x desc) <= 3
), intake as (
    -- least-squares line through the last (up to) 3 years, read at Y+1; one year: that year's value
    select r.school_code, n.entry_level as level_code, count(*)::integer as intake_years,
           greatest(0, round(case when count(*) = 1 then max(r.y)
                                  else avg(r.y) + regr_slope(r.y, r.x) * ((select y0 from years) + 1 - avg(r.x))
                             end))::bigint as intake_forecast
    from recent r join entry n using (school_code)
    group by all
), targets as (
    select school_code, level_code from roster
    union select school_code, level_code from promoted
    union select school_code, level_code from intake
    union select school_code, level_code from declared
), forecast as (
    select t.school_code, t.level_code, s.school_key, s.milieu, s.cycle, s.has_roster,
           case when s.has_roster then coalesce(r.pupils, 0) end as pupils_current,
           case when s.has_roster then coalesce(r.repeaters, 0) end as repeaters_current,
           r.repeaters::double / nullif(r.pupils, 0) as repetition_rate,
           case when s.has_roster then coalesce(r.repeaters, 0) end as repeaters_staying,
           case when s.has_roster then coalesce(p.promoted_in, 0) end as promoted_in,
           i.intake_forecast, i.intake_years,
           d.declared_forecast
    from targets t
    join schools s using (school_code)
    left join roster r on r.school_code = t.school_code and r.level_code = t.level_code
    left join promoted p on p.school_code = t.school_code and p.level_code = t.level_code
    left join intake i on i.school_code = t.school_code and i.level_code = t.level_code
    left join declared d on d.school_code = t.school_code and d.level_code = t.level_code
), totals as (
    select *, repeaters_staying + promoted_in + coalesce(intake_forecast, 0) as forecast_pupils from forecast
)
select $year as school_year, (select next_year from years) as forecast_year, $province as province_code,
       f.school_key, f.school_code, f.milieu, f.cycle, f.level_code, l.rank as level_rank, f.has_roster,
       f.pupils_current, f.repeaters_current, f.repetition_rate, f.repeaters_staying, f.promoted_in,
       f.intake_forecast, f.intake_years, f.forecast_pupils,
       (select rules_year from rules_year) as rules_year, ru.kit_type as kit_type_next,
       case when f.forecast_pupils is null then null when ru.kit_type is not null then f.forecast_pupils else 0 end
         as kits_needed,
       f.declared_forecast,
       f.declared_forecast - f.forecast_pupils as forecast_gap
from totals f
left join core.dim_level l on l.level_code = f.level_code
left join rules ru on ru.milieu = f.milieu and ru.level_code = f.level_code
