-- The version of each school that applies to a school year: the latest snapshot published by the
-- end of that year (30 June), else the earliest one.
with years as (select distinct school_year from core.dim_date),
candidates as (
    select y.school_year, s.*,
           row_number() over (partition by y.school_year, s.school_code
                              order by (s.valid_from <= make_date(left(y.school_year, 4)::integer + 1, 6, 30)) desc,
                                       case when s.valid_from <= make_date(left(y.school_year, 4)::integer + 1, 6, 30)
                                            then s.valid_from end desc nulls last,
                                       s.valid_from) as pick
    from years y cross join core.dim_school s
)
select * exclude (pick) from candidates where pick = 1
