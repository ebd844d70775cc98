-- Fuzzy duplicates of one school year ($year): two Massar codes with the same normalised Arabic
-- full name (last name then first name, daam.arabic.name_key), the same birth date and the same
-- commune of their schools. Needs the temp table dedup_names (raw, name_key) of the year's
-- distinct last names, first names and birth places, normalised in Python (warehouse/build/ops.py).
-- Merged into ops.duplicate_candidate by (school_year, pupil_key_a, pupil_key_b): reviewers'
-- states are kept, new pairs added, pairs no longer found get resolved_at (never deleted).

-- Pupils that share (full name, birth date, commune) with another Massar code, one row per pupil
-- and such key (a pupil listed at two schools of one commune counts once, at the first school).
create or replace temp table dedup_person as
with identity as (
    select i.pupil_key, i.school_code, i.province_code, v.commune_code, i.birth_date,
           ln.name_key || fn.name_key as full_key
    from core.pupil_identity i
    join core.school_year_version v on v.school_year = i.school_year and v.school_code = i.school_code
    join dedup_names ln on ln.raw = i.last_name_ar
    join dedup_names fn on fn.raw = i.first_name_ar
    where i.school_year = $year and i.birth_date is not null and nullif(v.commune_code, '') is not null
      and ln.name_key <> '' and fn.name_key <> ''
), shared as (
    select full_key, birth_date, commune_code from identity
    group by full_key, birth_date, commune_code having min(pupil_key) <> max(pupil_key)
)
select pupil_key, full_key, birth_date, commune_code,
       min(school_code) as school_code, arg_min(province_code, school_code) as province_code
from identity
semi join shared using (full_key, birth_date, commune_code)
group by pupil_key, full_key, birth_date, commune_code;

-- What else those pupils' records say, compared below without being kept: the names as written
-- (identical or not), the normalised birth place, the keyed guardian CIN (core.guardian_key).
create or replace temp table dedup_evidence as
select i.pupil_key, i.school_code,
       min(trim(i.last_name_ar) || '|' || trim(i.first_name_ar)) as written_names,
       min(nullif(bp.name_key, '')) as birth_place_key,
       min(core.guardian_key(nullif(trim(i.guardian_cin), ''))) as guardian_key
from core.pupil_identity i
left join dedup_names bp on bp.raw = i.birth_place
where i.school_year = $year and i.pupil_key in (select pupil_key from dedup_person)
group by i.pupil_key, i.school_code;

create or replace temp table dedup_pair as
select a.pupil_key as pupil_key_a, b.pupil_key as pupil_key_b,
       a.school_code as school_code_a, a.province_code as province_code_a,
       b.school_code as school_code_b, b.province_code as province_code_b, a.commune_code,
       concat_ws(', ', 'name', 'birth_date', 'commune',
                 case when ea.written_names = eb.written_names then 'name_as_written' end,
                 case when pa.gender = pb.gender then 'gender' end,
                 case when ea.birth_place_key = eb.birth_place_key then 'birth_place' end,
                 case when ea.guardian_key = eb.guardian_key then 'guardian_cin' end,
                 case when a.school_code = b.school_code then 'same_school' end) as evidence
from dedup_person a
join dedup_person b on b.full_key = a.full_key and b.birth_date = a.birth_date
                   and b.commune_code = a.commune_code and a.pupil_key < b.pupil_key
left join dedup_evidence ea on ea.pupil_key = a.pupil_key and ea.school_code = a.school_code
left join dedup_evidence eb on eb.pupil_key = b.pupil_key and eb.school_code = b.school_code
left join core.dim_pupil pa on pa.pupil_key = a.pupil_key
left join core.dim_pupil pb on pb.pupil_key = b.pupil_key
qualify row_number() over (partition by a.pupil_key, b.pupil_key
                           order by a.commune_code, a.school_code, b.school_code) = 1;

-- Found again: refresh what the computation says, keep what the reviewer said.
update ops.duplicate_candidate c
set school_code_a = p.school_code_a, province_code_a = p.province_code_a,
    school_code_b = p.school_code_b, province_code_b = p.province_code_b,
    commune_code = p.commune_code, evidence = p.evidence, last_seen_at = $now, resolved_at = null
from dedup_pair p
where c.school_year = $year and c.pupil_key_a = p.pupil_key_a and c.pupil_key_b = p.pupil_key_b;

insert into ops.duplicate_candidate (school_year, pupil_key_a, pupil_key_b, school_code_a, province_code_a,
                                     school_code_b, province_code_b, commune_code, evidence,
                                     first_seen_at, last_seen_at)
select $year, p.pupil_key_a, p.pupil_key_b, p.school_code_a, p.province_code_a, p.school_code_b,
       p.province_code_b, p.commune_code, p.evidence, $now, $now
from dedup_pair p
where not exists (select 1 from ops.duplicate_candidate c
                  where c.school_year = $year and c.pupil_key_a = p.pupil_key_a and c.pupil_key_b = p.pupil_key_b);

-- No longer found (a roster corrected, a pupil gone): resolved, kept with its review.
update ops.duplicate_candidate c set resolved_at = $now
where c.school_year = $year and c.resolved_at is null
  and not exists (select 1 from dedup_pair p where p.pupil_key_a = c.pupil_key_a and p.pupil_key_b = c.pupil_key_b);

drop table dedup_pair;
drop table dedup_evidence;
drop table dedup_person;
drop table dedup_names;
