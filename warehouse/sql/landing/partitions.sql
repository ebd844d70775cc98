-- (school year, directorate) pairs that have at least one placeable file in the last scan.
select distinct school_year, province_code from ops.landing_inventory
where refusal is null and record_type <> 'schools'
order by 1, 2
