"""Name pools for the demo generator: Moroccan family and first names (Arabic + French
transliteration), school eponyms, douars and communes. Every French string is encodable in
Windows-1256 (no capital accented letters), so the `cp1256` CSV variant never loses a character.
"""

from __future__ import annotations

LAST_NAMES = [
    ("العلوي", "El Alaoui"), ("الإدريسي", "El Idrissi"), ("بنعلي", "Benali"), ("الحسني", "El Hassani"),
    ("التازي", "Tazi"), ("بناني", "Bennani"), ("الفاسي", "El Fassi"), ("أمزيان", "Amezian"),
    ("البوزيدي", "El Bouzidi"), ("المرابط", "El Mrabet"), ("الخطابي", "El Khattabi"), ("أزواغ", "Azouagh"),
    ("بوعزة", "Bouazza"), ("الحمداوي", "El Hamdaoui"), ("الورياغلي", "El Ouariaghli"), ("أشهبار", "Achahbar"),
    ("بلحاج", "Belhaj"), ("الزياني", "Ezzayani"), ("الطاهري", "Taheri"), ("الكبداني", "El Kebdani"),
    ("اليعقوبي", "Yacoubi"), ("الشرقاوي", "Cherkaoui"), ("الزهراوي", "Zahraoui"), ("العمراني", "El Amrani"),
    ("الصديقي", "Seddiki"), ("القادري", "Kadiri"), ("الرحموني", "Rahmouni"), ("الناصري", "Naciri"),
    ("الجراري", "Jirari"), ("الوزاني", "Ouazzani"), ("السعيدي", "Saidi"), ("الحداد", "Haddad"),
    ("النجار", "Najjar"), ("الخياط", "Khayat"), ("بنموسى", "Benmoussa"), ("بنسعيد", "Bensaid"),
    ("بنجلون", "Benjelloun"), ("العثماني", "Othmani"), ("الكتاني", "Kettani"), ("المنصوري", "Mansouri"),
    ("الغزاوي", "Ghazaoui"), ("الحراق", "Harrak"), ("أوعلي", "Ouali"), ("أمغار", "Amghar"),
    ("أقضاض", "Akdad"), ("بوحوت", "Bouhout"), ("الدريوشي", "Driouchi"), ("الناظوري", "Nadori"),
    ("الريفي", "Rifi"), ("التمسماني", "Temsamani"), ("البقالي", "Bakkali"), ("اليزيدي", "Yazidi"),
    ("المرنيسي", "Mernissi"), ("أبركان", "Aberkane"), ("الحموتي", "Hammouti"), ("المحمدي", "Mohammadi"),
    ("الإبراهيمي", "Brahimi"), ("الزروالي", "Zeroual"), ("بلعيد", "Belaid"), ("العزوزي", "Azzouzi"),
    ("الخمليشي", "Khamlichi"), ("بوزيان", "Bouziane"), ("الطالبي", "Talbi"), ("الشاوي", "Chaoui"),
    ("الموساوي", "Moussaoui"), ("البركاني", "Berkani"), ("الجبلي", "Jebli"), ("الصنهاجي", "Sanhaji"),
    ("بنحمو", "Benhammou"), ("العياشي", "Ayachi"), ("التوزاني", "Touzani"), ("الكرواني", "Guerouani"),
]

MALE_NAMES = [
    ("محمد", "Mohamed"), ("أحمد", "Ahmed"), ("يوسف", "Youssef"), ("ياسين", "Yassine"), ("أيوب", "Ayoub"),
    ("حمزة", "Hamza"), ("إلياس", "Ilyas"), ("آدم", "Adam"), ("أنس", "Anas"), ("عمر", "Omar"),
    ("زكرياء", "Zakaria"), ("مهدي", "Mehdi"), ("إسماعيل", "Ismail"), ("عبد الله", "Abdellah"), ("رضا", "Reda"),
    ("سفيان", "Soufiane"), ("بلال", "Bilal"), ("إدريس", "Driss"), ("أمين", "Amine"), ("أسامة", "Oussama"),
    ("ريان", "Rayane"), ("وليد", "Walid"), ("نبيل", "Nabil"), ("سعيد", "Said"), ("هشام", "Hicham"),
    ("عثمان", "Othmane"), ("صلاح الدين", "Salaheddine"), ("نوفل", "Nawfal"), ("عبد الرحمان", "Abderrahmane"),
    ("زياد", "Ziad"), ("طه", "Taha"), ("مروان", "Marouane"), ("إبراهيم", "Brahim"), ("كريم", "Karim"),
    ("أنور", "Anouar"), ("حسن", "Hassan"), ("الحسين", "El Houssine"), ("عادل", "Adil"), ("رشيد", "Rachid"),
    ("جواد", "Jawad"), ("معاذ", "Mouad"), ("سليمان", "Slimane"), ("يونس", "Younes"), ("عماد", "Imad"),
    ("ياسر", "Yasser"), ("مصطفى", "Mustapha"), ("خالد", "Khalid"), ("نزار", "Nizar"), ("أيمن", "Aymane"),
    ("وائل", "Wail"),
]

FEMALE_NAMES = [
    ("فاطمة الزهراء", "Fatima Zahra"), ("مريم", "Meryem"), ("خديجة", "Khadija"), ("سلمى", "Salma"),
    ("هبة", "Hiba"), ("آية", "Aya"), ("إيمان", "Imane"), ("سارة", "Sara"), ("نور", "Nour"),
    ("ياسمين", "Yasmine"), ("زينب", "Zineb"), ("هاجر", "Hajar"), ("أميمة", "Oumaima"), ("كوثر", "Kaoutar"),
    ("شيماء", "Chaimae"), ("نهيلة", "Nouhaila"), ("سكينة", "Soukaina"), ("ليلى", "Leila"), ("حنان", "Hanane"),
    ("أسماء", "Asmae"), ("وئام", "Wiam"), ("رانية", "Rania"), ("دعاء", "Douae"), ("إكرام", "Ikram"),
    ("سلوى", "Salwa"), ("نجلاء", "Najlae"), ("فرح", "Farah"), ("لينا", "Lina"), ("ملاك", "Malak"),
    ("جنات", "Jannat"), ("رحمة", "Rahma"), ("حفصة", "Hafsa"), ("عائشة", "Aicha"), ("نادية", "Nadia"),
    ("سناء", "Sanae"), ("لبنى", "Loubna"), ("بشرى", "Bouchra"), ("حليمة", "Halima"), ("سعاد", "Souad"),
    ("نجاة", "Najat"), ("ابتسام", "Ibtissam"), ("منال", "Manal"), ("غيثة", "Ghita"), ("أسية", "Assia"),
    ("ريم", "Rim"), ("إيناس", "Inass"), ("سندس", "Sondos"), ("ضحى", "Doha"), ("مروة", "Marwa"),
    ("تسنيم", "Tasnim"),
]

# School eponyms (Arabic, French as in NOM_ETABL: upper case, no accents).
EPONYMS = [
    ("ابن رشد", "IBN ROCHD"), ("ابن خلدون", "IBN KHALDOUN"), ("ابن سينا", "IBN SINA"), ("الفارابي", "AL FARABI"),
    ("المسيرة", "AL MASSIRA"), ("الأمل", "AL AMAL"), ("النهضة", "ANNAHDA"), ("طارق بن زياد", "TARIK IBN ZIAD"),
    ("يوسف بن تاشفين", "YOUSSEF IBN TACHFINE"), ("محمد الخامس", "MOHAMMED V"), ("الحسن الثاني", "HASSAN II"),
    ("عبد الكريم الخطابي", "ABDELKRIM EL KHATTABI"), ("الأندلس", "AL ANDALOUS"), ("القدس", "AL QODS"),
    ("الوحدة", "AL WAHDA"), ("علال الفاسي", "ALLAL EL FASSI"), ("الإمام مالك", "IMAM MALIK"),
    ("ابن بطوطة", "IBN BATTOUTA"), ("الشريف الإدريسي", "CHARIF AL IDRISSI"), ("المختار السوسي", "MOKHTAR SOUSSI"),
    ("الزرقطوني", "ZERKTOUNI"), ("عقبة بن نافع", "OKBA IBN NAFII"), ("الخوارزمي", "AL KHAWARIZMI"),
    ("المتنبي", "AL MOUTANABBI"), ("الجاحظ", "AL JAHID"), ("ابن الهيثم", "IBN AL HAYTHAM"),
    ("المنصور الذهبي", "AL MANSOUR ADDAHBI"), ("أبو بكر الصديق", "ABOU BAKR ASSIDDIK"),
    ("عمر بن الخطاب", "OMAR IBN AL KHATTAB"), ("عثمان بن عفان", "OTHMANE IBN AFFANE"),
    ("علي بن أبي طالب", "ALI IBN ABI TALEB"), ("الفتح", "AL FATH"), ("النور", "ANNOUR"), ("الفلاح", "AL FALAH"),
    ("الرازي", "AR-RAZI"), ("المعتمد بن عباد", "AL MOUATAMID IBN ABBAD"), ("الحسن الأول", "HASSAN I"),
    ("مولاي إسماعيل", "MOULAY ISMAIL"), ("للا مريم", "LALLA MERIEME"), ("للا أسماء", "LALLA ASMAE"),
    ("ابن زيدون", "IBN ZAIDOUNE"), ("أبو القاسم الشابي", "ABOU AL KACEM ACHABBI"), ("الزلاقة", "AZZALLAKA"),
    ("وادي المخازن", "OUED AL MAKHAZINE"), ("أنوال", "ANOUAL"), ("الانبعاث", "AL INBIAAT"), ("الرشاد", "ARRACHAD"),
    ("السلام", "ASSALAM"), ("إدريس الثاني", "IDRISS II"), ("المهدي بن بركة", "MEHDI BEN BARKA"),
]

DOUARS = [
    ("أولاد علي", "OULED ALI"), ("أيت يحيى", "AIT YAHIA"), ("تيزي", "TIZI"), ("إغزر", "IGHZER"), ("تالا", "TALA"),
    ("أزغار", "AZGHAR"), ("بوعرورة", "BOUAROURA"), ("الكدية", "EL KEDIA"), ("العين", "EL AIN"),
    ("إفري", "IFRI"), ("أمسون", "AMSOUN"), ("الحمري", "EL HAMRI"), ("تزركين", "TIZARKIN"), ("تاسريرت", "TASSRIRT"),
    ("أولاد عيسى", "OULED AISSA"), ("بني حسان", "BNI HASSANE"), ("الشعبة", "ECHAABA"), ("سيدي موسى", "SIDI MOUSSA"),
    ("إسوكن", "ISSOUKEN"), ("تمدة", "TAMDA"), ("أغبال", "AGHBAL"), ("إكوزولن", "IGOUZOULEN"),
    ("أولاد بوطيب", "OULED BOUTAYEB"), ("الزاوية", "ZAOUIA"), ("بوسردون", "BOUSERDOUN"), ("الخربة", "EL KHERBA"),
    ("ثيزة", "TIZA"), ("إحدادن", "IHADDADEN"), ("تلات", "TLAT"), ("أكني", "AGNI"),
]

# Communes: (French, Arabic, urban?). Nador and Driouch from the domain brief; other provinces
# get their municipality plus rural communes drawn from GENERIC_RURAL_COMMUNES.
COMMUNES = {
    "110": [
        ("Nador", "الناظور", True), ("Zaio", "زايو", True), ("Selouane", "سلوان", True), ("Al Aaroui", "العروي", True),
        ("Bni Ansar", "بني انصار", True), ("Zeghanghane", "زغنغن", True), ("Ras El Ma", "رأس الماء", True),
        ("Iksane", "إكسان", False), ("Iaazzanene", "إعزانن", False), ("Bni Oukil Oulad M'hand", "بني وكيل أولاد امحند", False),
        ("Bni Chiker", "بني شيكر", False), ("Arekmane", "أركمان", False), ("Ihaddadene", "إحدادن", False),
        ("Tiztoutine", "تزطوطين", False), ("Hassi Berkane", "حاسي بركان", False), ("Bouarg", "بوعرك", False),
        ("Bni Sidel Louta", "بني سيدال لوطا", False), ("Bni Sidel Jbel", "بني سيدال الجبل", False),
        ("Bni Bouifrour", "بني بويفرور", False), ("Al Barkanyene", "البركانيين", False), ("Afsou", "أفسو", False),
        ("Oulad Settout", "أولاد ستوت", False), ("Oulad Daoud Zkhanine", "أولاد داود الزخانين", False),
    ],
    "111": [
        ("Driouch", "الدريوش", True), ("Midar", "ميضار", True), ("Ben Taieb", "بن الطيب", True),
        ("Tafersit", "تفرسيت", False), ("Dar El Kebdani", "دار الكبداني", False), ("Ain Zohra", "عين الزهرة", False),
        ("Tazaghine", "تازاغين", False), ("Mhajer", "امهاجر", False), ("Ouardana", "وردانة", False),
        ("Tsaft", "تسافت", False), ("Amejjaou", "امجاو", False), ("Boudinar", "بودينار", False), ("Azlaf", "أزلاف", False),
        ("Mtalsa", "امطالسة", False), ("Oulad Amghar", "أولاد امغار", False), ("Bni Marghnine", "بني مرغنين", False),
        ("Iferni", "إفرني", False), ("Trougout", "تروكوت", False), ("Temsamane", "تمسمان", False),
        ("Rouadi", "الرواضي", False), ("Ijermaouas", "إجرماواس", False), ("Talilit", "تليليت", False),
        ("Oulad Boubker", "أولاد بوبكر", False),
    ],
}

GENERIC_RURAL_COMMUNES = [
    ("Sidi Ali", "سيدي علي"), ("Ouled Ayad", "أولاد عياد"), ("Ait Ouallal", "أيت والال"), ("Sidi Boubker", "سيدي بوبكر"),
    ("Lamhara", "المهارة"), ("Ouled Hamdane", "أولاد حمدان"), ("Bni Oulid", "بني وليد"), ("Ain Chair", "عين الشعير"),
    ("Tamellalt", "تاملالت"), ("Sidi Bouzid", "سيدي بوزيد"), ("Ait Hamza", "أيت حمزة"), ("Ouled Ghanem", "أولاد غانم"),
    ("El Gour", "الكور"), ("Bouchaouene", "بوشاون"), ("Had Kourt", "حد كورت"), ("Sebt Gzoula", "سبت كزولة"),
    ("Tnine Ourika", "ثلاثاء أوريكا"), ("Ain Leuh", "عين اللوح"), ("Ouled Said", "أولاد سعيد"), ("Bni Tadjite", "بني تجيت"),
    ("Ait Sedrate", "أيت سدرات"), ("Ighil", "إغيل"), ("Taghazout", "تغازوت"), ("Sidi Yahya", "سيدي يحيى"),
    ("Oulad Ali", "أولاد علي"), ("Zaouiat Cheikh", "زاوية الشيخ"), ("Ait Bouguemez", "أيت بوكماز"),
    ("Bni Hadifa", "بني حذيفة"), ("Tafrant", "تافرانت"), ("Laayayda", "العيايدة"),
]

# Letter prefixes of guardians' CIN (1-2 capital letters); each province draws a few.
CIN_PREFIXES = [
    "S", "SH", "SJ", "F", "FA", "FB", "FH", "FJ", "FK", "A", "AB", "AD", "B", "BE", "BH", "BJ", "BK", "C", "CB", "CD",
    "D", "DA", "DC", "E", "EE", "G", "GA", "GB", "GK", "H", "HA", "HH", "I", "IA", "IB", "J", "JA", "JB", "JC", "JE",
    "JH", "JK", "JM", "K", "KA", "KB", "L", "LA", "LB", "LC", "M", "MA", "MC", "N", "NA", "P", "PA", "PB", "Q", "R",
    "T", "TA", "U", "UA", "V", "W", "WA", "X", "Y", "Z", "ZG", "ZT",
]
