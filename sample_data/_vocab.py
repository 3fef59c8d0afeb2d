"""Vocabularies and fill-in templates for generate.py (data only: no randomness here).

Prose templates use {slot} placeholders (filled by generate.fill), code templates @slot@.
Nothing in this file is a real person, address, key or number: emails, phones, cards,
SSNs, IBANs and keys are documentation/test values or random strings made at run time.
"""
import string


def W(s):
    return s.split("|")


# ------------------------------------------------------------------ English prose
FIRST = W("Alice|Ben|Chloe|Daniel|Elena|Farid|Grace|Hiro|Ingrid|Jamal|Kira|Liam|Maya|Nikolai|Olivia|Pedro|Quinn|Rosa|Samir|Tara|Umar|Vera|Wes|Yuki|Zara")
FEMALE = W("Alice|Chloe|Elena|Grace|Ingrid|Kira|Maya|Olivia|Rosa|Tara|Vera|Yuki|Zara")
LAST = W("Abbott|Brennan|Castillo|Dubois|Eriksen|Fischer|Garcia|Hoffman|Iwata|Jensen|Kowalski|Lindqvist|Moreau|Novak|Okafor|Patel|Quintero|Rossi|Schmidt|Tanaka|Ueda|Varga|Walsh|Yilmaz|Zhou")
CITIES = W("Portland|Leeds|Adelaide|Calgary|Denver|Glasgow|Austin|Rotterdam|Tucson|Halifax|Boise|Dunedin|Cork|Raleigh|Geelong|Bergen")
MONTHS = W("January|February|March|April|May|June|July|August|September|October|November|December")
ADJ = W("affordable|reliable|lightweight|modern|compact|durable|popular|overlooked|ambitious|controversial|practical|seasonal|surprising|simple|expensive|quiet|versatile|traditional|noisy|fragile")
JOBS = W("researcher|consultant|chef|engineer|teacher|analyst|nurse|architect|journalist|economist|farmer|pilot")
TOPICS = {k: W(v) for k, v in {
    "technology": "laptop|smartphone|router|chip|browser|headset|battery|smartwatch|server|app|keyboard|drone",
    "health": "vitamin|workout|diet|sleep tracker|clinic|vaccine|treadmill|meditation app|running shoe|blood test",
    "travel": "hotel|rail pass|backpack|itinerary|airport|ferry|hostel|guidebook|road trip|campsite",
    "finance": "savings account|mortgage|index fund|budget|credit score|pension|stock|loan|tax return|credit card",
    "gardening": "tomato plant|raised bed|compost bin|seed tray|hedge|greenhouse|rose bush|lawn|orchard|herb garden",
    "sports": "league|stadium|coach|sneaker|bicycle|marathon|season|goalkeeper|transfer|tournament",
    "cooking": "skillet|recipe|sourdough starter|spice blend|oven|knife|casserole|broth|pantry|cookbook",
    "science": "telescope|experiment|fossil|satellite|microscope|enzyme|glacier|particle detector|vaccine trial|rover",
    "housing": "apartment|heat pump|roof|renovation|rent increase|insulation|kitchen|neighborhood|landlord|mortgage rate",
    "gaming": "console|controller|expansion|speedrun|indie game|graphics card|patch|esports team|handheld|remaster",
}.items()}
TOPIC_KEYS = list(TOPICS)
SENT = [
    "The {adj} {noun} has become a common sight in {city} over the past {n} years.",
    "According to {person}, the {noun} market grew by {n} percent in {year}.",
    "Most people underestimate how much a good {noun} can change their daily routine.",
    "If you are new to {topic}, start with a {adj} {noun} and build from there.",
    "{person} told reporters that the new {noun} would be ready by {month}.",
    "We tested {n} different {nouns} and the results surprised us.",
    "One reader from {city} wrote in to ask whether a {adj} {noun} is worth the money.",
    "There is no single right answer, but a few rules of thumb help when choosing a {noun}.",
    "The {noun} works best when paired with a {adj} {noun2}.",
    "Critics argue that the {noun} is {adj} and overpriced, while supporters strongly disagree.",
    "In {year}, fewer than {n} percent of households in {city} owned a {noun}.",
    "Keep in mind that every {noun} is different, so your results with a {noun2} may vary.",
    "The council in {city} approved the new {noun} plan by {m} votes.",
    "Experts recommend checking your {noun} at least once every {m} weeks.",
    "{person}, a {job} based in {city}, has spent {n} years studying the {noun}.",
    "It is easy to see why the {adj} {noun} remains so popular with {job}s.",
    "Prices start at ${price}, though the {adj} version of the {noun} costs considerably more.",
    "What surprised us most was how {adj} the {noun2} turned out to be.",
    "The report, published on {month} {day}, lists {m} recommendations for {topic} policy.",
    "Still, many questions about the {adj} {noun} remain unanswered.",
    "Our team spent {m} days in {city} to find out how locals use the {noun}.",
    "A {adj} {noun} can last for years if it is stored and maintained properly.",
    "That said, the {noun2} is not for everyone, especially on a tight budget.",
    "Officials in {city} expect the first results on the {noun} to arrive sometime in {month}.",
    "{person} admits that the first {noun} they bought was a mistake.",
    "Sales of the {adj} {noun} doubled after a viral video from {city} last {month}.",
    "Nobody we spoke to in {city} could agree on what makes a {noun} {adj}.",
    "The biggest change since {year} is that the {noun} now comes with a {noun2}.",
    "For {n} dollars a month you can rent a {noun} instead of buying one.",
    "Ask any {job} and you will hear the same advice: do not skimp on the {noun}.",
]
HEADLINES = ["Why the {adj} {noun} is suddenly everywhere in {city}", "{city} approves new {noun} rules after months of debate",
             "{n} things nobody tells you about the {noun}", "Is a {adj} {noun} worth it? We spent {m} weeks finding out",
             "How {person} turned a {noun} into a business", "The {noun} shortage and what it means for {topic}",
             "A beginner's guide to the {adj} {noun}", "Our {year} review of the {noun2}"]
DISHES = W("lentil soup|banana bread|chicken curry|tomato pasta|apple crumble|vegetable stir-fry|potato gratin|lemon cake|bean chili|mushroom risotto")
INGREDIENTS = W("flour|butter|onion|garlic|tomatoes|olive oil|brown sugar|eggs|milk|lentils|carrots|rice|lemon zest|cumin|spinach")
UNITS = W("cups|tablespoons|teaspoons|cloves|cans|handfuls|pinches")
STEPS = ["Preheat the oven to 200 degrees.", "Chop the {ing} and set it aside.", "Stir in the {ing} and simmer for {n} minutes.",
         "Season with salt and pepper to taste.", "Whisk the {ing} with the {ing2} until smooth.",
         "Bake for {n} minutes or until golden.", "Let it rest for {m} minutes before serving.", "Fold in the {ing2} gently."]
BRANDS = W("Nordvik|Altura|Kestrel|Brightline|Orbis|Tallow & Pine|Vantage|Morrow")
FEATURES = ["{adj} design for everyday use", "Up to {n} hours of battery life", "{m}-year warranty", "Ships from {city} in {m} days", "Compatible with most {nouns}"]
REVIEWS = ["Great {noun}, works as described.", "Arrived late but the {noun} is {adj}.", "Not worth ${price}.", "My second {noun} from this shop, still happy.", "Stopped working after {m} weeks."]
COOKIE = "We use cookies to improve your experience. Accept all cookies"
NAV = "Home | About | Contact | Privacy Policy"
TOP = ["Skip to main content", NAV, COOKIE, "Advertisement"]
BOTTOM = ["Subscribe to our newsletter for weekly updates.", "Share this article: Facebook | Twitter | LinkedIn | Email", "© 2024 All rights reserved.", "Related posts"]
DOMAINS = {"news": W("dailyharbor.com|thecitypost.net|northgazette.com"), "blog": W("myhomeblog.net|wanderandwhisk.com|techtinker.io"),
           "recipe": W("easyweeknightmeals.com|grandmaskitchen.org"), "product": W("shop.nordvik.com|dealsplanet.store|gadgetbarn.com"),
           "other": W("mirror-site.net|contentfarm.biz|archive.example.com|freewebhost.info")}
FANCY = ["It’s the best café in town, according to the “locals”.", "The naïve résumé was über-long — nobody read it.",
         "Crème brûlée is on the menu at the Zürich location.", "Señor Muñoz’s piñata workshop opens at 10 o’clock.",
         "Their déjà vu moment came on the Côte d’Azur, naturally."]
CONTROL_SENTENCES = ["\x1b[31mERROR\x1b[0m: upload failed.", "Ding!\x07\x07 You have mail.", "Typo fixed\x08\x08 here.", "Field\x00separator."]
HASHTAGS = W("#love|#instagood|#follow|#tbt|#sale|✨✨|🔥🔥🔥|!!!|$$$|>>>|***|#")
JS_WARNING = "Please enable JavaScript to view this page.\nYou need to enable JavaScript to run this app.\nLoading..."
SPAM_LINES = ["Best {noun} deals in {city} - cheap {nouns} - top {noun} offers - buy {noun} online",
              "Buy cheap {noun} now!!! Best price in {city} guaranteed!!! Limited offer, click here!!!"]
LOREM_LEFTOVER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor."
LONG_TITLES = ["Forum archive: the great sourdough thread", "Community Q&A: home network troubleshooting"]
LOREM = W("lorem|ipsum|dolor|sit|amet|consectetur|adipiscing|elit|sed|do|eiusmod|tempor|incididunt|ut|labore|et|dolore|magna|aliqua")
SHORT = W("Page not found|Thanks!|Coming soon|Click here to continue|Home|Access denied|Sold out|Error 404|Hello world|Read more|No results found|Subscribe now|Under construction|Login required|Out of stock")
MAIL_DOMAINS = W("example.com|example.org|mail.example.net|gmail.com|outlook.com|acme-corp.io")
IPV4_PUBLIC = W("8.8.8.8|93.184.216.34|203.0.113.42|151.101.1.69|52.14.200.7")
IPV6 = W("2001:db8::1|fe80::1ff:fe23:4567:890a|2001:0db8:85a3:0000:0000:8a2e:0370:7334")
CARDS = W("4111 1111 1111 1111|5500 0000 0000 0004|4012888888881881|3782 822463 10005")  # Luhn-valid test numbers
SSNS = W("078-05-1120|219-09-9999")
IBANS = W("GB82 WEST 1234 5698 7654 32|DE89370400440532013000")
PHONE_FIXED = W("+1 (415) 555-0132|+44 20 7946 0958|+49 30 901820|06 12 34 56 78")
PHONE_FMT = W("+1 (415) 555-01##|+44 20 7946 0###|+49 30 9018##|06 ## ## ## ##|(212) 555-01##|+33 6 ## ## ## ##|+91 98### #####|+81 3-####-####")
LANG_NAMES = {"fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "ru": "Russian", "zh": "Chinese", "ja": "Japanese", "ar": "Arabic", "hi": "Hindi"}
ALNUM, UPPER_DIGITS = string.ascii_letters + string.digits, string.ascii_uppercase + string.digits

SYL = W("ka|vel|mor|an|tis|bra|lo|ren|dor|sel|ven|thal|ost|mir|ga|lun|per|ces|hol|ri|na|bek|sar|quin")

# ------------------------------------------------------------------ planted PII and secrets
PII = {  # sentences that carry one kind of planted PII / secret; "nearmiss" must NOT be detected
    "email": ["For press inquiries, contact {email}.", "Questions? Write to {email} and we will reply within {m} days.",
              "Send your photos to {email} to be featured next week.", "My email is {email} if anyone wants the spreadsheet."],
    "phone": ["Call us at {phone} (Mon–Fri, 9am–5pm).", "Reservations: {phone}", "You can reach the front desk at {phone}.", "Text me at {phone} if the link is broken."],
    "ip": ["Our logs showed repeated login attempts from {ipv4} and {ipv4p}.", "Set the gateway to {ipv4p} and the DNS server to {ipv4}.",
           "The server at {ipv6} stopped responding after the update."],
    "card": ["I paid with card {card} (exp 12/27) and never got a receipt.", "Use the test card {card} in the sandbox."],
    "ssn": ["Applicant SSN: {ssn}", "My social security number is {ssn}, is it safe to give it to them?"],
    "iban": ["Please transfer the deposit to IBAN {iban} before arrival."],
    "secret_aws_key": ["Here is my config, maybe it helps: aws_access_key_id = {akia}"],
    "secret_github_token": ["I accidentally pushed my token {ghp} to the repo, what now?"],
    "secret_openai_key": ["My OpenAI key {sk} stopped working yesterday."],
    "secret_jwt": ["The request header was Authorization: Bearer {jwt}"],
    "secret_private_key": ["Pasting the key file below:\n{rsa}"],
    "nearmiss": ["See ISBN 978-0-306-40615-7 for the full reference.", "Full paper: https://doi.org/10.1038/nphys1170",
                 "Update the firmware to version 1.2.3.4 before installing.", "Windows build 10.0.19045.2965 fixes the issue.",
                 "Order #4111111111111112 has shipped.", "ISBN 0-306-40615-2, 2nd edition, pp. 112–118.", "doi:10.1145/3368089.3409741"],
}

# ------------------------------------------------------------------ other languages, benchmark
LANG_BANK = {  # small sentence banks for the other languages: (cities, sentences)
    "fr": ("Lyon|Bordeaux|Lille|Nantes", "Le marché de {city} ouvre tous les samedis matin, même en hiver. | Nous avons visité le musée, puis nous avons dîné près de la gare. | Elle a dit : \"Je n'ai jamais vu autant de monde à {city}.\" | La réunion est reportée à la semaine prochaine, faute de participants. | Les prix de l'énergie ont augmenté de {n} % cette année. | Mon frère apprend le piano depuis {n} ans, et il joue très bien. | Le train pour {city} a été annulé à cause de la grève. | Cette recette de tarte aux pommes est simple, rapide et délicieuse. | Plus de {N} personnes ont participé au festival, selon les organisateurs."),
    "de": ("München|Hamburg|Köln|Leipzig", "Der Zug nach {city} hat heute {n} Minuten Verspätung. | Wir haben am Wochenende einen langen Spaziergang im Wald gemacht. | Sie sagte: \"Das Konzert in {city} war wunderbar.\" | Die Stadt plant, die Radwege bis {y} deutlich auszubauen. | Mein Nachbar repariert alte Fahrräder, und er verkauft sie günstig. | Im Sommer ist der Biergarten jeden Abend voll. | Die Mieten in {city} sind um {n} Prozent gestiegen. | Kannst du mir bitte das Rezept für den Kuchen schicken? | Mehr als {N} Menschen besuchten am Sonntag das Stadtfest."),
    "es": ("Sevilla|Valencia|Bilbao|Zaragoza", "Más de {N} personas asistieron al concierto en {city}. | Ayer comimos paella en un restaurante pequeño cerca del puerto. | Mi abuela dice: \"La paciencia es la madre de la ciencia\". | El ayuntamiento de {city} anunció nuevas medidas para reducir el tráfico. | Los precios del alquiler subieron un {n} % el año pasado. | ¿Sabes a qué hora sale el autobús hacia {city}? | Estudio inglés por las tardes, aunque a veces estoy muy cansado. | La biblioteca municipal tiene más de {N} mil libros. | El nuevo puente estará terminado en {y}, según el gobierno regional."),
    "it": ("Torino|Bologna|Napoli|Firenze", "Il treno per {city} è partito con {n} minuti di ritardo. | Abbiamo mangiato una pizza buonissima in una piccola trattoria. | Mia nonna dice sempre: \"Chi va piano va sano e va lontano\". | Il comune di {city} ha approvato un nuovo piano per i parchi. | Più di {N} persone hanno partecipato alla maratona di domenica. | Domani piove, quindi resteremo a casa a leggere. | Il museo è chiuso il lunedì, ma apre presto il martedì. | Quanto costa un biglietto per {city}? | Entro il {y} la linea della metropolitana sarà completata."),
    "pt": ("Lisboa|Porto|Recife|Curitiba", "O ônibus para {city} atrasou {n} minutos hoje de manhã. | Fomos à praia no sábado, mas o mar estava muito agitado. | Minha mãe sempre diz: \"Quem espera sempre alcança\". | A prefeitura de {city} vai plantar {N} árvores até {y}. | O preço do café subiu bastante nos últimos meses. | Você sabe onde fica a estação de metrô mais próxima? | Estou aprendendo a tocar violão, e já sei algumas músicas. | Mais de {N} pessoas visitaram a feira de livros em {city}. | O restaurante da esquina serve um bacalhau excelente."),
    "ru": ("Казань|Самара|Новосибирск|Екатеринбург", "Поезд «Москва — {city}» отправляется через {n} минут. | Вчера мы гуляли в парке до самого вечера. | Бабушка говорит: «Тише едешь — дальше будешь». | {city} — один из самых красивых городов страны. | Цены на продукты выросли за год почти на {n} процентов. | Ты не знаешь, во сколько закрывается магазин? | Я изучаю испанский язык уже несколько лет. | Концерт был прекрасным, и зал был полон. | Новую станцию метро обещают открыть в {y} году."),
    "zh": ("上海|成都|杭州|西安", "今天{city}的天气很好，我们去公园散步了。 | 这家饭馆的饺子非常好吃，价格也不贵。 | 他说：“明天的会议改到下午{h}点。” | {city}的地铁每天运送超过{N}万名乘客。 | 我学习中文已经{n}年了，但是还要继续努力。 | 周末我们一起去看电影吧。 | 这本书讲述了一个关于友情的故事。 | 政府计划在{y}年之前修建新的高速铁路。 | 请问去火车站怎么走？"),
    "ja": ("大阪|京都|札幌|福岡", "今日は{city}で友達と昼ご飯を食べました。 | この店のラーメンはとても美味しいです。 | 彼は「明日の会議は{h}時からです」と言いました。 | {city}の人口は約{N}万人です。 | 週末は雨が降るそうなので、家で本を読むつもりです。 | 駅までの道を教えていただけますか。 | 日本語を勉強して{n}年になります。 | 新しい図書館は{y}年に開館する予定です。 | 電車が遅れたので、会議に間に合いませんでした。"),
    "ar": ("القاهرة|عمّان|الرباط|دبي", "ذهبنا إلى السوق في {city} يوم الجمعة. | الطقس اليوم جميل جدا، لذلك سنخرج إلى الحديقة. | قال المعلم: \"القراءة مفتاح المعرفة\". | يبلغ عدد سكان {city} حوالي {N} ألف نسمة. | هل تعرف متى يغادر القطار القادم؟ | أتعلم اللغة الإنجليزية منذ {n} سنوات. | افتتحت المدينة مكتبة عامة جديدة هذا الشهر. | تناولنا العشاء في مطعم صغير بالقرب من البحر. | سيتم افتتاح الجسر الجديد في عام {y}."),
    "hi": ("दिल्ली|मुंबई|जयपुर|पुणे", "आज {city} में मौसम बहुत अच्छा है। | हम रविवार को बाज़ार गए और ताज़ी सब्ज़ियाँ खरीदीं। | उसने कहा, \"मैं कल सुबह {h} बजे आऊँगा।\" | {city} की आबादी लगभग {N} लाख है। | क्या आप मुझे स्टेशन का रास्ता बता सकते हैं? | मैं पिछले {n} साल से संगीत सीख रहा हूँ। | इस किताब की कहानी बहुत दिलचस्प है। | सरकार {y} तक नई सड़कें बनाने की योजना बना रही है। | बारिश की वजह से ट्रेन एक घंटा देर से पहुँची।"),
}

LANGS = list(LANG_BANK)
BENCH = [  # benchmarks/mini_qa.jsonl; items 1, 8, 13 are planted in web pages, item 16 in an alpaca record
    ("Which planet in our solar system has the shortest day, completing a full rotation in under ten hours?", "Jupiter"),
    ("What is the name of the process by which plants convert light energy, water and carbon dioxide into glucose and oxygen?", "Photosynthesis"),
    ("In what year did the first crewed Moon landing take place, when Apollo 11 touched down in the Sea of Tranquility?", "1969"),
    ("Which chemical element has the atomic number 26 and is the main component of steel?", "Iron"),
    ("What is the longest bone in the human body, running from the hip to the knee?", "The femur"),
    ("Which ocean lies between Africa to the west and Australia to the east?", "The Indian Ocean"),
    ("How many sides does a regular hexagon have, and what is the sum of its interior angles?", "Six sides; 720 degrees"),
    ("Which author wrote the novel in which a whaling captain named Ahab pursues a white whale?", "Herman Melville"),
    ("What gas makes up roughly 78 percent of the Earth's atmosphere by volume?", "Nitrogen"),
    ("Which programming language, first released in 1991 by Guido van Rossum, uses indentation to define code blocks?", "Python"),
    ("What is the smallest prime number that is greater than fifty?", "53"),
    ("Which organ in the human body produces insulin to regulate blood sugar levels?", "The pancreas"),
    ("What is the freezing point of pure water at sea level on the Fahrenheit scale?", "32 degrees Fahrenheit"),
    ("Which mountain range forms a natural border between France and Spain?", "The Pyrenees"),
    ("What is the name of the boundary around a black hole beyond which nothing, not even light, can escape?", "The event horizon"),
    ("Which composer wrote the Ninth Symphony that ends with the choral setting of Ode to Joy?", "Ludwig van Beethoven"),
    ("In computing, what does the acronym RAM stand for when describing volatile working memory?", "Random-access memory"),
    ("Which river flows through Cairo before emptying into the Mediterranean Sea?", "The Nile"),
    ("What is the chemical formula of table salt, the compound formed from sodium and chlorine?", "NaCl"),
    ("Approximately how many minutes does it take light from the Sun to reach the Earth?", "About 8 minutes"),
]
BENCH_IN_WEB, BENCH_IN_ALPACA = (1, 8, 13), 16

# ------------------------------------------------------------------ wiki
WIKI_TYPES = {  # lead, categories, section headings, body sentences
    "town": ("{name} is a town in the {region} region of {country}. As of the {year} census it had a population of {pop}.",
             ["Towns in {country}", "Populated places in {region}", "Market towns"], ["History", "Geography", "Economy", "Transport", "Notable people"],
             ["The settlement was first mentioned in a charter of {old}.", "During the {cent} century the town grew around its {industry} industry.",
              "{name} lies on the {river} river, about {n} km from {place}.", "The parish church of St {saint} dates from the {cent} century.",
              "The local economy is based on {industry}, tourism and services.", "A railway station on the {place}–{name} line opened in {old}.",
              "The town hall was rebuilt in {year} after a fire destroyed the old building.", "The population declined by {n} percent between {old} and {year}."]),
    "person": ("{name} ({born}–{died}) was a {nat} {prof} known for work on {field}.",
               ["{nat} {prof}s", "{cent}-century {prof}s", "People from {place}"], ["Early life", "Career", "Later life", "Legacy"],
               ["{Pron} was born in {place} and studied {field} at the university there.", "{Pron} published {n} books and more than {N} articles.",
                "Later {pron} moved to {place}, where {pron} taught for {n} years.", "Critics praised {poss} early work on {field} but ignored the later essays.",
                "{Pron} was elected to the {place} Academy at the age of {n}.", "{Poss} papers are held in the archives of the {place} library.",
                "A street in {place} was named after {obj} in {year}.", "{Pron} corresponded with the {prof} {other} for over {n} years."]),
    "species": ("{name} is a species of {group} in the family {family}. It is found in the {habitat} of {country}.",
                ["{group_cap}s of {country}", "Taxa named by {other}", "Species described in {old}"], ["Taxonomy", "Description", "Distribution and habitat", "Conservation"],
                ["The species was first described by {other} in {old}.", "Adults reach a length of {n} to {N} mm.", "It is listed as {status} by the IUCN.",
                 "The specific name honours the collector {other}.", "It feeds mainly on {food} and is active at {time}.",
                 "Populations in {region} declined sharply after {year}.", "Its closest relative is thought to live in the {habitat} of {place}.",
                 "Females lay between {n} and {N} eggs in a season."]),
    "river": ("The {name} is a river in {country}. It is approximately {N} km long and drains a basin of {pop} km².",
              ["Rivers of {country}", "Tributaries of the {river}"], ["Course", "Hydrology", "History", "Recreation"],
              ["The river rises in the {place} Hills at an elevation of {N} m.", "It flows generally {dir} before joining the {river}.",
               "The average discharge at the mouth is {n} cubic metres per second.", "A stone bridge was built across the {name} at {place} in {old}.",
               "Floods in {year} damaged more than {N} houses along its banks.", "The valley of the {name} is known for its {industry}.",
               "Trout and grayling are common in the upper course.", "A weir at {place} was removed in {year} to help fish migration."]),
}
WIKI_GENERIC = ["Much of the early record was lost in a fire in {old}.", "A study published in {year} revised several earlier estimates.",
                "The name is thought to derive from an old word meaning \"{meaning}\".", "Local historians in {place} have documented the subject since {old}.",
                "Several sources give conflicting dates for these events.", "The topic received renewed attention after a documentary in {year}."]
WIKI_SLOTS = {"country": W("Norway|Poland|Chile|Canada|Portugal|Kenya|Austria|Argentina|Finland|Ireland|Hungary|New Zealand"),
           "industry": W("textile|brewing|timber|glass|fishing|salt|paper|copper"), "saint": W("Mary|Olaf|Martin|Nicholas|Bridget|Anne"),
           "nat": W("Norwegian|Polish|Chilean|Canadian|Portuguese|Austrian|Finnish|Irish"), "field": W("number theory|plant genetics|glaciology|linguistics|optics|medieval history|acoustics"),
           "prof": W("mathematician|botanist|geologist|linguist|physicist|historian|composer|architect"),
           "group": W("beetle|moth|frog|snail|orchid|spider|freshwater fish"), "habitat": W("montane forests|coastal wetlands|dry grasslands|limestone caves|river valleys"),
           "status": W("Least Concern|Near Threatened|Vulnerable|Endangered|Data Deficient"), "food": W("lichens|small insects|decaying wood|algae|seeds"),
           "time": W("dusk|night|midday"), "dir": W("north|south|east|west|northeast|southwest"), "meaning": W("ford|willow|grey stone|marsh|bend|clearing"),
           "cent": W("12th|13th|14th|15th|16th|17th|18th|19th")}
REFS = ["{other}, A. ({year}). A History of {name}. {place}: Northern Press. ISBN 978-3-16-148410-0.", "{other}, B. ({year}). \"Notes on {name}\". Journal of Regional Studies 12 (3): 45–67. doi:10.1016/j.jrs.{year}.04.012.",
        "Survey report, version 2.1.0.4 ({year}). ISBN 0-306-40615-2."]


# ------------------------------------------------------------------ code
CODE = {  # language: (extension, comment prefix, folders, import lines, function templates)
    "python": ("py", "#", W("src/utils|src/core|lib|app/models|tools|scripts"), W("import os|import json|import re|from pathlib import Path|from typing import Any"), [
        'def @fn@(@a@, limit=@n@):\n    """@Doc@"""\n    out = []\n    for item in @a@:\n        if len(item) > limit:\n            out.append(item)\n    return out\n',
        'class @Cls@:\n    def __init__(self, @a@):\n        self.@a@ = @a@\n        self.count = 0\n\n    def @fn@(self, value):\n        self.count += @n@\n        return self.@a@.get(value)\n',
        'def @fn@(path):\n    with open(path) as fh:\n        @a@ = [line.strip() for line in fh if line.strip()]\n    return @a@[:@n@]\n']),
    "javascript": ("js", "//", W("src|src/components|lib|web/static/js"), W("import fs from 'fs';|import path from 'path';|const axios = require('axios');"), [
        'export function @fnc@(@a@, options = {}) {\n  const limit = options.limit ?? @n@;\n  return @a@.filter((x) => x.length > limit);\n}\n',
        'class @Cls@ {\n  constructor(@a@) {\n    this.@a@ = @a@;\n  }\n\n  async @fnc@(id) {\n    const res = await fetch(`/api/@a@/${id}`);\n    return res.json();\n  }\n}\n',
        'const @fnc@ = (@a@) => @a@.map((x, i) => ({ ...x, rank: i + @n@ }));\n']),
    "rust": ("rs", "//", W("src|src/bin|crates/core/src"), W("use std::collections::HashMap;|use std::io;|use std::fmt;"), [
        'pub fn @fn@(@a@: &[u32]) -> u32 {\n    @a@.iter().filter(|x| **x > @n@).sum()\n}\n',
        'pub struct @Cls@ {\n    @a@: Vec<String>,\n}\n\nimpl @Cls@ {\n    pub fn @fn@(&self) -> usize {\n        self.@a@.len() + @n@\n    }\n}\n']),
    "go": ("go", "//", W("internal/store|pkg/api|cmd/server"), W('import "fmt"|import "strings"|import "os"'), [
        'func @Fn@(@a@ []int) int {\n\ttotal := 0\n\tfor _, v := range @a@ {\n\t\tif v > @n@ {\n\t\t\ttotal += v\n\t\t}\n\t}\n\treturn total\n}\n',
        'type @Cls@ struct {\n\t@a@ map[string]int\n}\n\nfunc (c *@Cls@) @Fn@(key string) int {\n\treturn c.@a@[key] + @n@\n}\n']),
    "c": ("c", "//", W("src|lib|drivers/net"), W("#include <stdio.h>|#include <string.h>|#include <stdlib.h>"), [
        'int @fn@(const int *@a@, size_t len) {\n    int total = 0;\n    for (size_t i = 0; i < len; i++) {\n        if (@a@[i] > @n@) total += @a@[i];\n    }\n    return total;\n}\n',
        'static void @fn@(struct @cls@ *@a@) {\n    if (@a@ == NULL) return;\n    @a@->count = @n@;\n    memset(@a@->buf, 0, sizeof(@a@->buf));\n}\n']),
}
VERBS = W("load|parse|build|merge|flush|render|compute|fetch|validate|encode|decode|resolve|normalize|collect|apply|split|score|prune")
CNOUNS = W("config|buffer|record|user|token|cache|item|frame|packet|node|session|route|schema|payload|event|order|shard|window")
CLASS_SUFFIX = W("Store|Manager|Client|Parser|Pool")
CODE_PLANTS = [  # (tag, count, line appended to a python file, line appended to a javascript file)
    ("token_endoftext", 3, 'EOS_TOKEN = "<|endoftext|>"', 'const EOS_TOKEN = "<|endoftext|>";'),
    ("token_fim", 2, 'PROMPT = "<|fim_prefix|>def add(a, b):\\n    <|fim_suffix|>\\n<|fim_middle|>"', 'const prompt = "<|fim_prefix|>function f() {<|fim_suffix|>}<|fim_middle|>";'),
    ("secret_aws_key", 4, 'AWS_ACCESS_KEY_ID = "{akia}"', 'const AWS_ACCESS_KEY_ID = "{akia}";'),
    ("secret_github_token", 3, 'GITHUB_TOKEN = "{ghp}"', 'const GITHUB_TOKEN = "{ghp}";'),
    ("secret_openai_key", 2, 'OPENAI_API_KEY = "{sk}"', 'const OPENAI_API_KEY = "{sk}";'),
    ("secret_private_key", 1, 'PRIVATE_KEY = """{rsa}"""', 'const PRIVATE_KEY = `{rsa}`;'),
    ("secret_jwt", 2, 'TEST_TOKEN = "{jwt}"', 'const TEST_TOKEN = "{jwt}";'),
    ("pii_ip", 6, 'DB_HOST = "{ipv4p}"\nDNS_SERVER = "{ipv4}"', 'const API_HOST = "http://{ipv4p}:8080";'),
    ("nearmiss_version_string", 4, '__version__ = "1.2.3.4"', 'export const BUILD = "10.0.19045.2965";'),
]
COMMENTS = ["TODO: handle the case where @a@ is empty.", "Returns the number of @a@ entries above the threshold.", "NOTE: called from the @a@ worker, keep it fast.",
            "Helper used by @fn@; see issue #@n@.", "Deprecated since v@n@.0, use @fn@ instead.", "FIXME: @a@ may be shared between threads.", "@Doc@"]
MIT = ("Copyright (c) @year@ @holder@\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\nof this software and associated documentation files "
       "(the \"Software\"), to deal\nin the Software without restriction, including without limitation the rights\nto use, copy, modify, merge, publish, distribute, "
       "sublicense, and/or sell\ncopies of the Software, subject to the following conditions: the above copyright\nnotice shall be included in all copies.")
APACHE = ("Licensed under the Apache License, Version 2.0 (the \"License\");\nyou may not use this file except in compliance with the License.\nYou may obtain a copy of the "
          "License at\n\n    http://www.apache.org/licenses/LICENSE-2.0\n\nUnless required by applicable law or agreed to in writing, software\ndistributed under the "
          "License is distributed on an \"AS IS\" BASIS,\nWITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.")


# ------------------------------------------------------------------ chat, instructions
SYSTEMS = ["You are a helpful assistant.", "You are a concise assistant. Answer in at most three sentences.", "You are a friendly travel guide.",
           "You are an expert software engineer.", "You are a patient tutor for high-school students."]
ASKS = ["Can you explain how a {noun} works?", "What should I look for when buying a {adj} {noun}?", "I'm visiting {city} next month. Any advice about {topic}?",
        "Write a short paragraph about the {noun} for a school newsletter.", "Why is my {noun} so {adj} lately?", "Give me {m} tips for getting started with {topic}.",
        "Summarize the pros and cons of a {noun2}.", "How do I compare two {nouns}?", "Is a {adj} {noun} a good gift for a {job}?"]
BAD_ANSWERS = ["I don't know.", "Just search it online.", "I can't help with that.", "Why would you even ask that?"]
FOLLOWUPS = ["Thanks! Can you make it shorter?", "What about for a beginner?", "Could you give an example?", "Is that still true in {year}?",
             "Can you put that in a list?", "Great, and what would you avoid?", "How much would that cost in {city}?"]
SHORT_ALPACA = [("Say hello.", "Hello!"), ("Reply yes.", "Yes."), ("Capital of France?", "Paris."), ("Spell cat.", "C-A-T"),
                ("Add 2 and 2.", "4"), ("Opposite of hot?", "Cold."), ("Translate: gato", "Cat"), ("Name a color.", "Blue.")]
MALFORMED = [  # (tag, raw line) for web/part-000: lines a loader must skip or report
    ("malformed_truncated_json", '{"text": "Breaking: the council in Leeds voted to", "url": "https://thecitypost.net/x", "timest'),
    ("malformed_not_an_object_array", '["breadcrumbs", "Home", "News", "Local"]'),
    ("malformed_not_an_object_string", '"404 Not Found"'),
    ("malformed_text_not_string", '{"text": 12345, "url": "https://dealsplanet.store/p/12345", "timestamp": "2023-07-19T10:00:00Z", "lang": "en"}'),
    ("malformed_text_null", '{"text": null, "url": "https://myhomeblog.net/draft", "timestamp": "2022-11-02T08:15:00Z", "lang": "en"}'),
    ("malformed_not_json", "<html><head><title>503 Service Temporarily Unavailable</title></head><body>nginx</body></html>"),
]
