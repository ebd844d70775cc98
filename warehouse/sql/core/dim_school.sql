-- dim_school, slowly changing (type 2): one version per school each time a referential snapshot
-- changes any of its attributes. A snapshot's date (its file name) is when the version starts.
with snapshot_rows as (
    select s.*, strptime(regexp_extract(s.file_path, '([0-9]{4}-[0-9]{2}-[0-9]{2})', 1), '%Y-%m-%d')::date as snapshot_date
    from staging.schools s
    where not s.is_quarantined and not s.is_duplicate_copy
), attributes as (
    select *,
           md5(concat_ws('|', coalesce(name_fr, ''), coalesce(name_ar, ''), coalesce(province_code, ''),
                 coalesce(commune_code, ''), coalesce(commune_name_fr, ''), coalesce(commune_name_ar, ''),
                 coalesce(milieu, ''), coalesce(cycle, ''), coalesce(nature, ''), coalesce(parent_school_code, ''),
                 coalesce(sector, ''), coalesce(has_boarding, ''), coalesce(boarding_capacity::varchar, ''),
                 coalesce(has_canteen, ''), coalesce(opened_on::varchar, ''), coalesce(closed_on::varchar, '')))
             as attr_hash
    from snapshot_rows
), changes as (
    select *, lag(attr_hash) over (partition by school_code order by snapshot_date) as previous_hash
    from attributes
), versions as (
    select * from changes where previous_hash is null or previous_hash <> attr_hash
), dated as (
    select *, lead(snapshot_date) over (partition by school_code order by snapshot_date) as next_from
    from versions
)
select ('0x' || substr(md5(school_code || '|' || snapshot_date::varchar), 1, 15))::bigint as school_key,
       d.school_code, d.name_fr, d.name_ar, d.province_code, g.region_code, d.commune_code,
       d.commune_name_fr, d.commune_name_ar, d.milieu, d.cycle, d.nature, d.parent_school_code, d.sector,
       d.has_boarding = 'true' as has_boarding, d.boarding_capacity, d.has_canteen = 'true' as has_canteen,
       d.opened_on, d.closed_on,
       d.snapshot_date as valid_from,
       (d.next_from - interval 1 day)::date as valid_to,
       d.next_from is null as is_current,
       d.file_path as source_file
from dated d
left join core.dim_geography g using (province_code)
