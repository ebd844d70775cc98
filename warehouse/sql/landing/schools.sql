-- The referential after the scan: schools open now and school versions kept.
select count(*) filter (is_current) as current_schools, count(*) as versions from core.dim_school
