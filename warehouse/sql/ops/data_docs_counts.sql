-- Rows of the current file versions of {{table}} per school year, in a scope ($year, $province;
-- null: any), for the Data Docs. The referential ($periodic false) belongs to no school year.
select r.school_year, count(*) as rows
from {{table}} r
join ops.file_manifest m on m.file_path = r.file_path and m.version = r.file_version
where m.status = 'loaded' and ($province is null or r.province_code = $province)
  and (not $periodic or (r.school_year is not null and ($year is null or r.school_year = $year)))
group by all
order by 1 nulls first
