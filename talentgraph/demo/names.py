"""Name pools for synthetic residents: Chinese surnames by frequency, given-name characters, and
foreign names in their own scripts with the Latin spelling a passport would carry.

Every name is assembled at random from common parts, so no row describes a real person. Pinyin is
tabled here rather than computed with pypinyin so the output cannot drift with its dictionary and so
polyphonic surnames get their surname reading (曾 Zeng, 单 Shan, 解 Xie, 区 Ou), which a plain
character lookup gets wrong.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

# (surname, pinyin, weight) — weights roughly follow national frequency (per mille), nudged towards
# Shanghai (沈, 顾, 陆, 钱, 施, 俞 are commoner here than nationally).
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "Wang", 71), ("李", "Li", 70), ("张", "Zhang", 67), ("刘", "Liu", 54), ("陈", "Chen", 45),
    ("杨", "Yang", 31), ("黄", "Huang", 22), ("赵", "Zhao", 20), ("吴", "Wu", 20), ("周", "Zhou", 19),
    ("徐", "Xu", 17), ("孙", "Sun", 15), ("马", "Ma", 13), ("朱", "Zhu", 14), ("胡", "Hu", 12),
    ("郭", "Guo", 11), ("何", "He", 11), ("高", "Gao", 10), ("林", "Lin", 10), ("罗", "Luo", 9),
    ("郑", "Zheng", 9), ("梁", "Liang", 8), ("谢", "Xie", 8), ("宋", "Song", 7), ("唐", "Tang", 7),
    ("许", "Xu", 6), ("韩", "Han", 6), ("冯", "Feng", 6), ("邓", "Deng", 6), ("曹", "Cao", 6),
    ("彭", "Peng", 5), ("曾", "Zeng", 5), ("肖", "Xiao", 5), ("田", "Tian", 5), ("董", "Dong", 5),
    ("袁", "Yuan", 5), ("潘", "Pan", 4), ("于", "Yu", 4), ("蒋", "Jiang", 4), ("蔡", "Cai", 4),
    ("余", "Yu", 4), ("杜", "Du", 4), ("叶", "Ye", 4), ("程", "Cheng", 4), ("苏", "Su", 3),
    ("魏", "Wei", 3), ("吕", "Lyu", 3), ("丁", "Ding", 3), ("任", "Ren", 3), ("沈", "Shen", 6),
    ("顾", "Gu", 5), ("陆", "Lu", 5), ("钱", "Qian", 4), ("施", "Shi", 3), ("俞", "Yu", 3),
    ("姚", "Yao", 3), ("金", "Jin", 3), ("严", "Yan", 3), ("范", "Fan", 3), ("倪", "Ni", 2),
    ("汤", "Tang", 2), ("龚", "Gong", 2), ("邵", "Shao", 2), ("盛", "Sheng", 2), ("秦", "Qin", 2),
    ("毛", "Mao", 2), ("戴", "Dai", 2), ("夏", "Xia", 2), ("方", "Fang", 2), ("孔", "Kong", 1),
    ("单", "Shan", 1), ("解", "Xie", 1), ("区", "Ou", 0.6), ("仇", "Qiu", 0.5), ("查", "Zha", 0.5),
    ("乐", "Yue", 0.5), ("缪", "Miao", 0.5), ("欧阳", "Ouyang", 0.6), ("上官", "Shangguan", 0.2),
    ("司马", "Sima", 0.2), ("诸葛", "Zhuge", 0.1),
)

# Given-name characters with the reading they take in names; split by the gender they lean to
# (many are unisex, which is why both pools share some).
GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("斌", "bin"), ("鹏", "peng"), ("华", "hua"), ("建", "jian"), ("国", "guo"),
    ("平", "ping"), ("刚", "gang"), ("辉", "hui"), ("浩", "hao"), ("宇", "yu"), ("俊", "jun"), ("峰", "feng"),
    ("文", "wen"), ("志", "zhi"), ("海", "hai"), ("林", "lin"), ("晨", "chen"), ("博", "bo"), ("轩", "xuan"),
    ("子", "zi"), ("豪", "hao"), ("嘉", "jia"), ("一", "yi"), ("天", "tian"), ("德", "de"), ("荣", "rong"),
    ("新", "xin"), ("庆", "qing"), ("忠", "zhong"), ("毅", "yi"), ("立", "li"), ("成", "cheng"), ("兵", "bing"),
    ("东", "dong"), ("卫", "wei"), ("昊", "hao"), ("睿", "rui"), ("泽", "ze"), ("铭", "ming"), ("阳", "yang"),
)
GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"), ("娟", "juan"),
    ("霞", "xia"), ("玲", "ling"), ("婷", "ting"), ("雪", "xue"), ("慧", "hui"), ("琳", "lin"), ("颖", "ying"),
    ("洁", "jie"), ("佳", "jia"), ("萍", "ping"), ("红", "hong"), ("梅", "mei"), ("兰", "lan"), ("英", "ying"),
    ("秀", "xiu"), ("华", "hua"), ("文", "wen"), ("晓", "xiao"), ("欣", "xin"), ("怡", "yi"), ("悦", "yue"),
    ("雨", "yu"), ("诗", "shi"), ("涵", "han"), ("梦", "meng"), ("思", "si"), ("若", "ruo"), ("子", "zi"),
    ("嘉", "jia"), ("一", "yi"), ("春", "chun"), ("燕", "yan"), ("凤", "feng"), ("琴", "qin"), ("云", "yun"),
    ("月", "yue"), ("倩", "qian"), ("蕾", "lei"), ("瑶", "yao"), ("彤", "tong"), ("萱", "xuan"), ("雯", "wen"),
)


@dataclass(frozen=True)
class PersonName:
    name: str  # as written in the person's own script
    latin: str  # Latin spelling (pinyin or passport transliteration)


def _weighted(rng: random.Random, items: tuple[tuple[str, str, float], ...]) -> tuple[str, str]:
    total = sum(w for *_, w in items)
    x = rng.random() * total
    for a, b, w in items:
        x -= w
        if x < 0:
            return a, b
    return items[-1][0], items[-1][1]


def chinese_name(rng: random.Random, gender: str) -> PersonName:
    sur, sur_py = _weighted(rng, SURNAMES)
    pool = GIVEN_MALE if gender == "male" else GIVEN_FEMALE
    parts = [rng.choice(pool) for _ in range(1 if rng.random() < 0.3 else 2)]
    given = "".join(c for c, _ in parts)
    given_py = "".join(p for _, p in parts)
    # Pinyin joins syllables with an apostrophe when the next one starts with a vowel (xi'an).
    if len(parts) == 2 and parts[1][1][0] in "aeo":
        given_py = f"{parts[0][1]}'{parts[1][1]}"
    return PersonName(sur + given, f"{sur_py} {given_py.capitalize()}")


# --- foreign names ---------------------------------------------------------------------------------
# Each culture: (given names male, given names female, surnames), every entry "own script|latin".
# Surnames that change with gender (Slavic -ов/-ова) are given as "m-form|latin||f-form|latin".

_Culture = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]

CULTURES: dict[str, _Culture] = {
    "ru": (
        ("Иван|Ivan", "Алексей|Aleksei", "Дмитрий|Dmitrii", "Сергей|Sergei", "Михаил|Mikhail", "Андрей|Andrei",
         "Николай|Nikolai", "Павел|Pavel", "Артём|Artem", "Максим|Maksim", "Владимир|Vladimir", "Егор|Egor"),
        ("Анна|Anna", "Мария|Mariia", "Елена|Elena", "Ольга|Olga", "Наталья|Natalia", "Татьяна|Tatiana",
         "Екатерина|Ekaterina", "Юлия|Iuliia", "Ирина|Irina", "Светлана|Svetlana", "Дарья|Daria", "Ксения|Kseniia"),
        ("Иванов|Ivanov||Иванова|Ivanova", "Смирнов|Smirnov||Смирнова|Smirnova",
         "Кузнецов|Kuznetsov||Кузнецова|Kuznetsova", "Попов|Popov||Попова|Popova",
         "Соколов|Sokolov||Соколова|Sokolova", "Лебедев|Lebedev||Лебедева|Lebedeva",
         "Козлов|Kozlov||Козлова|Kozlova", "Новиков|Novikov||Новикова|Novikova",
         "Морозов|Morozov||Морозова|Morozova", "Волков|Volkov||Волкова|Volkova",
         "Орлов|Orlov||Орлова|Orlova", "Зайцев|Zaitsev||Зайцева|Zaitseva"),
    ),
    "uk": (
        ("Олександр|Oleksandr", "Андрій|Andrii", "Тарас|Taras", "Богдан|Bohdan", "Микола|Mykola", "Юрій|Yurii"),
        ("Олена|Olena", "Оксана|Oksana", "Наталія|Nataliia", "Ірина|Iryna", "Галина|Halyna", "Софія|Sofiia"),
        ("Шевченко|Shevchenko", "Коваленко|Kovalenko", "Бондаренко|Bondarenko", "Ткаченко|Tkachenko",
         "Кравченко|Kravchenko", "Мельник|Melnyk", "Поліщук|Polishchuk", "Савчук|Savchuk"),
    ),
    "kk": (
        ("Нұрлан|Nurlan", "Ерлан|Yerlan", "Асхат|Askhat", "Дәурен|Dauren", "Бауыржан|Bauyrzhan"),
        ("Айгүл|Aigul", "Динара|Dinara", "Сәуле|Saule", "Гүлнар|Gulnar", "Жанар|Zhanar"),
        ("Ахметов|Akhmetov||Ахметова|Akhmetova", "Сейітов|Seitov||Сейітова|Seitova",
         "Жұмабаев|Zhumabaev||Жұмабаева|Zhumabaeva", "Омаров|Omarov||Омарова|Omarova"),
    ),
    "mn": (
        ("Батбаяр|Batbayar", "Ганбаатар|Ganbaatar", "Тэмүүлэн|Temuulen", "Болд|Bold"),
        ("Сарнай|Sarnai", "Оюунчимэг|Oyuunchimeg", "Энхжин|Enkhjin", "Номин|Nomin"),
        ("Дорж|Dorj", "Батсүх|Batsukh", "Ганзориг|Ganzorig", "Пүрэв|Purev"),
    ),
    "ko": (
        ("민준|Minjun", "서준|Seojun", "도윤|Doyun", "예준|Yejun", "시우|Siwoo", "지호|Jiho", "현우|Hyunwoo",
         "성민|Sungmin", "재원|Jaewon", "동현|Donghyun"),
        ("서연|Seoyeon", "지우|Jiwoo", "서윤|Seoyun", "하은|Haeun", "민서|Minseo", "지민|Jimin", "수빈|Subin",
         "은지|Eunji", "혜진|Hyejin", "유나|Yuna"),
        ("김|Kim", "이|Lee", "박|Park", "최|Choi", "정|Jung", "강|Kang", "조|Cho", "윤|Yoon", "장|Jang", "임|Lim",
         "한|Han", "오|Oh"),
    ),
    "ja": (
        ("健|Ken", "翔太|Shota", "大輔|Daisuke", "拓也|Takuya", "健太|Kenta", "悠人|Yuto", "直樹|Naoki",
         "ひろし|Hiroshi", "まさと|Masato"),
        ("さくら|Sakura", "陽子|Yoko", "美咲|Misaki", "恵|Megumi", "由美|Yumi", "あおい|Aoi", "ゆり|Yuri",
         "真由美|Mayumi", "花子|Hanako"),
        ("佐藤|Sato", "鈴木|Suzuki", "高橋|Takahashi", "田中|Tanaka", "伊藤|Ito", "渡辺|Watanabe", "山本|Yamamoto",
         "中村|Nakamura", "小林|Kobayashi", "加藤|Kato", "吉田|Yoshida", "山田|Yamada"),
    ),
    "ar": (
        ("محمد|Mohamed", "أحمد|Ahmed", "علي|Ali", "عمر|Omar", "خالد|Khaled", "يوسف|Youssef", "حسن|Hassan"),
        ("فاطمة|Fatima", "مريم|Mariam", "نور|Nour", "سارة|Sara", "ليلى|Laila", "هدى|Huda", "ياسمين|Yasmin"),
        ("حسن|Hassan", "إبراهيم|Ibrahim", "عبد الله|Abdullah", "منصور|Mansour", "السيد|Elsayed", "الشريف|Alsharif",
         "النجار|Alnajjar", "سالم|Salem"),
    ),
    "fa": (
        ("علی|Ali", "رضا|Reza", "مهدی|Mehdi", "امیر|Amir"),
        ("زهرا|Zahra", "مریم|Maryam", "نگار|Negar", "شیرین|Shirin"),
        ("محمدی|Mohammadi", "حسینی|Hosseini", "رضایی|Rezaei", "احمدی|Ahmadi"),
    ),
    "th": (
        ("สมชาย|Somchai", "ธนากร|Thanakorn", "วีระ|Weera", "ประยุทธ|Prayut", "อนุชา|Anucha"),
        ("สุดา|Suda", "มาลี|Malee", "พิมพ์|Pim", "กาญจนา|Kanchana", "นภา|Napa"),
        ("ใจดี|Jaidee", "ศรีสุข|Srisuk", "สุขสวัสดิ์|Suksawat", "วงศ์ใหญ่|Wongyai", "แสงทอง|Saengthong"),
    ),
    "hi": (
        ("राहुल|Rahul", "अमित|Amit", "विकास|Vikas", "अर्जुन|Arjun", "संजय|Sanjay", "रोहित|Rohit"),
        ("प्रिया|Priya", "अनीता|Anita", "पूजा|Pooja", "नेहा|Neha", "कविता|Kavita", "दीपिका|Deepika"),
        ("शर्मा|Sharma", "वर्मा|Verma", "गुप्ता|Gupta", "सिंह|Singh", "पटेल|Patel", "मेहता|Mehta", "जोशी|Joshi"),
    ),
    "el": (
        ("Γιώργος|Georgios", "Νίκος|Nikolaos", "Δημήτρης|Dimitrios"),
        ("Μαρία|Maria", "Ελένη|Eleni", "Κατερίνα|Aikaterini"),
        ("Παπαδόπουλος|Papadopoulos||Παπαδοπούλου|Papadopoulou", "Οικονόμου|Oikonomou||Οικονόμου|Oikonomou"),
    ),
    # Latin scripts: the Latin spelling is derived by dropping diacritics (see latin_spelling).
    "fr": (
        ("Jérôme", "Étienne", "François", "Lucas", "Hugo", "Mathéo", "Benoît", "Théo"),
        ("Élodie", "Chloé", "Léa", "Camille", "Manon", "Hélène", "Amélie", "Inès"),
        ("Lefèvre", "Dubois", "Moreau", "Laurent", "Girard", "Bonnet", "Rousseau", "Mercier", "Faure", "Chevalier"),
    ),
    "de": (
        ("Jürgen", "Lukas", "Maximilian", "Jörg", "Felix", "Tobias", "Matthias", "Stefan"),
        ("Jana", "Lena", "Käthe", "Sophie", "Anna", "Jülia", "Hannah", "Lea"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weiß", "Schäfer", "Köhler", "Groß", "Becker", "Hoffmann"),
    ),
    "es": (
        ("José", "Andrés", "Javier", "Sergio", "Álvaro", "Iván", "Raúl", "Diego"),
        ("María", "Lucía", "Sofía", "Marta", "Inés", "Paula", "Begoña", "Ángela"),
        ("García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Muñoz", "Jiménez", "Ruiz"),
    ),
    "pt": (
        ("João", "Gonçalo", "Luís", "André", "Tiago", "Vinícius", "Caio"),
        ("Conceição", "Inês", "Beatriz", "Letícia", "Mariana", "Júlia", "Fernanda"),
        ("Gonçalves", "Araújo", "Simões", "Magalhães", "Silva", "Santos", "Oliveira", "Conceição", "Brandão"),
    ),
    "it": (
        ("Niccolò", "Luca", "Matteo", "Andrea", "Giuseppe", "Lorenzo"),
        ("Giulia", "Chiara", "Francesca", "Martina", "Sara", "Alessia"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "De Luca"),
    ),
    "pl": (
        ("Łukasz", "Paweł", "Michał", "Grzegorz", "Wojciech", "Jakub"),
        ("Małgorzata", "Agnieszka", "Katarzyna", "Żaneta", "Joanna", "Zofia"),
        ("Wiśniewski||Wiśniewska", "Kowalski||Kowalska", "Wójcik", "Kamiński||Kamińska", "Lewandowski||Lewandowska",
         "Zieliński||Zielińska"),
    ),
    "cs": (
        ("Jiří", "Tomáš", "Petr", "Ondřej"),
        ("Tereza", "Lucie", "Kateřina", "Zuzana"),
        ("Dvořák||Dvořáková", "Novák||Nováková", "Černý||Černá", "Procházka||Procházková"),
    ),
    "sv": (
        ("Björn", "Erik", "Anders", "Måns"),
        ("Åsa", "Karin", "Ingrid", "Linnéa"),
        ("Lindström", "Johansson", "Åberg", "Söderberg", "Nilsson"),
    ),
    "nl": (
        ("Daan", "Sem", "Bram", "Joost"),
        ("Fenna", "Sanne", "Anouk", "Lotte"),
        ("de Vries", "van Dijk", "Jansen", "Bakker", "Visser"),
    ),
    "tr": (
        ("Mehmet", "Mustafa", "Emre", "Barış", "Oğuz", "Çağrı"),
        ("Ayşe", "Çağla", "Elif", "Zeynep", "Gülşen", "Şule"),
        ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın"),
    ),
    "vi": (
        ("Văn An", "Đức Minh", "Quốc Bảo", "Hoàng Nam", "Thành Long"),
        ("Thị Hương", "Ngọc Ánh", "Thu Trang", "Minh Thư", "Lan Anh"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng"),
    ),
    "id": (
        ("Budi", "Agus", "Rizky", "Andi", "Dimas"),
        ("Siti", "Dewi", "Putri", "Ayu", "Indah"),
        ("Santoso", "Wijaya", "Saputra", "Hidayat", "Kurniawan"),
    ),
    "ms": (
        ("Ahmad", "Muhammad Faiz", "Hafiz", "Azlan"),
        ("Nurul", "Aisyah", "Farah", "Siti Aminah"),
        ("bin Abdullah", "bin Ismail", "binti Hassan", "bin Yusof"),
    ),
    "tl": (
        ("Jose", "Mark", "John Paul", "Rogelio"),
        ("Maria", "Kristine", "Angelica", "Rowena"),
        ("Santos", "Reyes", "Cruz", "Bautista", "Dela Cruz", "Mendoza"),
    ),
    "en": (
        ("James", "John", "Michael", "David", "Daniel", "Matthew", "Andrew", "Thomas", "Ryan", "Oliver", "Jack",
         "William", "Benjamin", "Ethan"),
        ("Emily", "Sarah", "Jessica", "Emma", "Olivia", "Sophie", "Charlotte", "Hannah", "Grace", "Amelia",
         "Rachel", "Laura"),
        ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Anderson",
         "Thompson", "Walker", "Wright", "Clarke", "Murphy", "O'Brien", "Campbell", "Mitchell"),
    ),
}

# Characters that Unicode decomposition does not reduce to ASCII; passports spell them like this.
_SPECIAL_LATIN = {"ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ı": "i", "æ": "ae"}


def latin_spelling(text: str) -> str:
    """Drop diacritics the way a machine-readable passport zone does (Müller → Muller, Łukasz → Lukasz)."""
    text = "".join(_SPECIAL_LATIN.get(c, c) for c in text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _pair(entry: str) -> tuple[str, str]:
    own, _, latin = entry.partition("|")
    return own, latin or latin_spelling(own)


def _surname(entry: str, gender: str) -> tuple[str, str]:
    male, _, female = entry.partition("||")
    return _pair(female if gender == "female" and female else male)


# Cultures that write the family name first.
_FAMILY_FIRST = {"ko", "ja", "vi", "mn"}


def foreign_name(rng: random.Random, culture: str, gender: str) -> PersonName:
    males, females, surnames = CULTURES[culture]
    given, given_latin = _pair(rng.choice(males if gender == "male" else females))
    family, family_latin = _surname(rng.choice(surnames), gender)
    if culture in _FAMILY_FIRST:
        sep = "" if culture == "ko" else " "
        return PersonName(f"{family}{sep}{given}", f"{family_latin} {given_latin}")
    return PersonName(f"{given} {family}", f"{given_latin} {family_latin}")
