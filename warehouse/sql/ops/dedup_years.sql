-- The school years that have rosters or Tayssir lists in core.
select school_year from core.pupil_identity
union select school_year from core.fct_enrolment
union select school_year from core.fct_tayssir_month
order by 1
