-- The four social-support programmes.
select * from (values
    ('tayssir', 'Tayssir (transferts monétaires conditionnels)', 'تيسير'),
    ('schoolbags', 'Initiative royale « un million de cartables »', 'المبادرة الملكية مليون محفظة'),
    ('boarding', 'Bourses d''internat et de demi-pension', 'منح الداخليات'),
    ('canteen', 'Cantines scolaires (complément alimentaire)', 'المطاعم المدرسية')
) p(programme_code, name_fr, name_ar)
