-- The rows of mart.indicators a report page reads: its own unit and the units below it that it
-- shows, for the page's school year and the one before (the change from the previous year).
select * from mart.indicators
where school_year in ($year, $previous) and geo_level in $levels
