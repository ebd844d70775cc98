-- The placed files of one (school year, directorate) partition in the last landing scan.
select file_path, record_type, school_year, period, school_code, province_code, content_sha256, refusal, modified_at
from ops.landing_inventory
where school_year = $year and province_code = $province and refusal is null
