-- The school years a product holds indicators for, latest first.
select distinct school_year from mart.indicators order by school_year desc
