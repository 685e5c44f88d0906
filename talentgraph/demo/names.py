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
    """A name as its bearer writes it, with the parts other registers spell differently.

    ``family``/``given`` hold the own-script part first, then other scripts it is written in
    (Hanja for Korean, kana for Japanese); ``family_latin``/``given_latin`` the passport spelling
    first, then other spellings seen in registers (Natalya for Natalia, Min-jun for Minjun).
    """

    name: str  # as written in the person's own script
    latin: str  # Latin spelling (pinyin or passport transliteration)
    culture: str = "zh"  # key of CULTURES, or "zh"
    family: tuple[str, ...] = ()
    given: tuple[str, ...] = ()
    family_latin: tuple[str, ...] = ()
    given_latin: tuple[str, ...] = ()

    @property
    def family_first(self) -> bool:
        return self.culture == "zh" or self.culture in _FAMILY_FIRST


# Drawn from for every resident: the weights' total is summed once (same sum, same order, same draws).
_SURNAMES_TOTAL = sum(w for *_, w in SURNAMES)


def _weighted(rng: random.Random, items: tuple[tuple[str, str, float], ...], total: float) -> tuple[str, str]:
    x = rng.random() * total
    for a, b, w in items:
        x -= w
        if x < 0:
            return a, b
    return items[-1][0], items[-1][1]


def chinese_name(rng: random.Random, gender: str) -> PersonName:
    sur, sur_py = _weighted(rng, SURNAMES, _SURNAMES_TOTAL)
    pool = GIVEN_MALE if gender == "male" else GIVEN_FEMALE
    parts = [rng.choice(pool) for _ in range(1 if rng.random() < 0.3 else 2)]
    given = "".join(c for c, _ in parts)
    given_py = "".join(p for _, p in parts)
    # Pinyin joins syllables with an apostrophe when the next one starts with a vowel (xi'an).
    if len(parts) == 2 and parts[1][1][0] in "aeo":
        given_py = f"{parts[0][1]}'{parts[1][1]}"
    spellings = [given_py.capitalize()]
    if len(parts) == 2:  # how other registers write two syllables: Xiaoming, Xiao Ming, Xiao-Ming, Xiao-ming
        a, b = parts[0][1].capitalize(), parts[1][1]
        spellings += [a + b, f"{a} {b.capitalize()}", f"{a}-{b.capitalize()}", f"{a}-{b}"]
    return PersonName(sur + given, f"{sur_py} {given_py.capitalize()}", "zh", (sur,), (given,), (sur_py,),
                      tuple(dict.fromkeys(spellings)))


# --- foreign names ---------------------------------------------------------------------------------
# Each culture: (given names male, given names female, surnames), every entry "own script|latin".
# Surnames that change with gender (Slavic -ов/-ова) are given as "m-form|latin||f-form|latin".

_Culture = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]

CULTURES: dict[str, _Culture] = {
    "ru": (
        ("Иван|Ivan", "Алексей|Aleksei/Alexey/Alexei", "Дмитрий|Dmitrii/Dmitry/Dmitriy", "Сергей|Sergei/Sergey",
         "Михаил|Mikhail", "Андрей|Andrei/Andrey", "Николай|Nikolai/Nikolay", "Павел|Pavel",
         "Артём|Artem/Artyom/Artiom", "Максим|Maksim/Maxim", "Владимир|Vladimir", "Егор|Egor/Yegor",
         "Александр|Aleksandr/Alexander/Alexandr"),
        ("Анна|Anna", "Мария|Mariia/Maria/Mariya", "Елена|Elena/Yelena", "Ольга|Olga",
         "Наталья|Natalia/Natalya/Nataliya", "Татьяна|Tatiana/Tatyana", "Екатерина|Ekaterina/Yekaterina",
         "Юлия|Iuliia/Yulia/Julia", "Ирина|Irina", "Светлана|Svetlana", "Дарья|Daria/Darya",
         "Ксения|Kseniia/Ksenia/Xenia"),
        ("Иванов|Ivanov||Иванова|Ivanova", "Смирнов|Smirnov||Смирнова|Smirnova",
         "Кузнецов|Kuznetsov||Кузнецова|Kuznetsova", "Попов|Popov||Попова|Popova",
         "Соколов|Sokolov||Соколова|Sokolova", "Лебедев|Lebedev||Лебедева|Lebedeva",
         "Козлов|Kozlov||Козлова|Kozlova", "Новиков|Novikov||Новикова|Novikova",
         "Морозов|Morozov||Морозова|Morozova", "Волков|Volkov||Волкова|Volkova",
         "Орлов|Orlov||Орлова|Orlova", "Зайцев|Zaitsev/Zaytsev||Зайцева|Zaitseva/Zaytseva"),
    ),
    "uk": (
        ("Олександр|Oleksandr/Alexander", "Андрій|Andrii/Andriy", "Тарас|Taras", "Богдан|Bohdan", "Микола|Mykola", "Юрій|Yurii/Yuriy/Iurii"),
        ("Олена|Olena", "Оксана|Oksana", "Наталія|Nataliia/Natalia/Nataliya", "Ірина|Iryna", "Галина|Halyna/Galina", "Софія|Sofiia/Sofia"),
        ("Шевченко|Shevchenko", "Коваленко|Kovalenko", "Бондаренко|Bondarenko", "Ткаченко|Tkachenko",
         "Кравченко|Kravchenko", "Мельник|Melnyk", "Поліщук|Polishchuk", "Савчук|Savchuk"),
    ),
    "kk": (
        ("Нұрлан|Nurlan", "Ерлан|Yerlan/Erlan", "Асхат|Askhat", "Дәурен|Dauren", "Бауыржан|Bauyrzhan"),
        ("Айгүл|Aigul", "Динара|Dinara", "Сәуле|Saule", "Гүлнар|Gulnar", "Жанар|Zhanar"),
        ("Ахметов|Akhmetov||Ахметова|Akhmetova", "Сейітов|Seitov||Сейітова|Seitova",
         "Жұмабаев|Zhumabaev||Жұмабаева|Zhumabaeva", "Омаров|Omarov||Омарова|Omarova"),
    ),
    "mn": (
        ("Батбаяр|Batbayar", "Ганбаатар|Ganbaatar", "Тэмүүлэн|Temuulen", "Болд|Bold"),
        ("Сарнай|Sarnai", "Оюунчимэг|Oyuunchimeg", "Энхжин|Enkhjin", "Номин|Nomin"),
        ("Дорж|Dorj", "Батсүх|Batsukh", "Ганзориг|Ganzorig", "Пүрэв|Purev"),
    ),
    "ko": (  # own|Latin spellings|Hanja
        ("민준|Minjun/Min-jun/Min Jun|敏俊", "서준|Seojun/Seo-jun/Suh-jun|瑞俊", "도윤|Doyun/Do-yun|道允",
         "예준|Yejun/Ye-jun|禮俊", "시우|Siwoo/Si-woo/Siu|時雨", "지호|Jiho/Ji-ho|智浩", "현우|Hyunwoo/Hyeon-u/Hyun-woo|賢宇",
         "성민|Sungmin/Seong-min/Sung-min|成敏", "재원|Jaewon/Jae-won|在元", "동현|Donghyun/Dong-hyun/Dong-hyeon|東賢",
         "민수|Minsu/Min-su/Min Soo|敏秀"),
        ("서연|Seoyeon/Seo-yeon|瑞妍", "지우|Jiwoo/Ji-woo/Ji-u|智友", "서윤|Seoyun/Seo-yun|瑞允", "하은|Haeun/Ha-eun|夏恩",
         "민서|Minseo/Min-seo|敏瑞", "지민|Jimin/Ji-min|智敏", "수빈|Subin/Su-bin|秀彬", "은지|Eunji/Eun-ji|恩智",
         "혜진|Hyejin/Hye-jin|惠珍", "유나|Yuna/Yu-na|由那"),
        ("김|Kim/Gim|金", "이|Lee/Yi/Rhee|李", "박|Park/Pak/Bak|朴", "최|Choi/Choe|崔", "정|Jung/Jeong/Chung|鄭",
         "강|Kang/Gang|姜", "조|Cho/Jo|趙", "윤|Yoon/Yun|尹", "장|Jang/Chang|張", "임|Lim/Im|林", "한|Han|韓",
         "오|Oh/O|吳"),
    ),
    "ja": (  # own|romaji spellings|kana
        ("健|Ken|けん", "翔太|Shota/Shouta/Syota|しょうた", "大輔|Daisuke|だいすけ", "拓也|Takuya|たくや", "健太|Kenta|けんた",
         "悠人|Yuto/Yuuto|ゆうと", "直樹|Naoki|なおき", "ひろし|Hiroshi", "まさと|Masato"),
        ("さくら|Sakura", "陽子|Yoko/Youko/Yohko|ようこ", "美咲|Misaki|みさき", "恵|Megumi|めぐみ", "由美|Yumi|ゆみ",
         "あおい|Aoi", "ゆり|Yuri", "真由美|Mayumi|まゆみ", "花子|Hanako|はなこ"),
        ("佐藤|Sato/Satou/Satoh|さとう", "鈴木|Suzuki|すずき", "高橋|Takahashi|たかはし", "田中|Tanaka|たなか",
         "伊藤|Ito/Itou/Itoh|いとう", "渡辺|Watanabe|わたなべ", "山本|Yamamoto|やまもと", "中村|Nakamura|なかむら",
         "小林|Kobayashi|こばやし", "加藤|Kato/Katou/Katoh|かとう", "吉田|Yoshida|よしだ", "山田|Yamada|やまだ"),
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


def _is_kana(text: str) -> bool:
    return all("\u3040" <= c <= "\u30ff" for c in text)


def _umlauts_spelled_out(text: str) -> str:
    """The German way of writing without diacritics: Müller → Mueller, Weiß → Weiss."""
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return text


def _part(entry: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``own|latin/other latin|other script`` → ((own, other scripts...), (passport latin, other latins...)).

    Kana names count as their own kana form; Latin-script names get their diacritic-free spellings."""
    own, _, rest = entry.partition("|")
    latin, _, alts = rest.partition("|")
    scripts = (own, *alts.split("/")) if alts else (own, own) if _is_kana(own) else (own,)
    if latin:
        return scripts, tuple(latin.split("/"))
    return scripts, tuple(dict.fromkeys((latin_spelling(own), latin_spelling(_umlauts_spelled_out(own)))))


def _pair(entry: str) -> tuple[str, str]:
    scripts, latins = _part(entry)
    return scripts[0], latins[0]


def _surname_part(entry: str, gender: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    male, _, female = entry.partition("||")
    return _part(female if gender == "female" and female else male)


def _surname(entry: str, gender: str) -> tuple[str, str]:
    scripts, latins = _surname_part(entry, gender)
    return scripts[0], latins[0]


# Cultures that write the family name first.
_FAMILY_FIRST = {"ko", "ja", "vi", "mn"}


def foreign_name(rng: random.Random, culture: str, gender: str) -> PersonName:
    males, females, surnames = CULTURES[culture]
    given, given_latin = _part(rng.choice(males if gender == "male" else females))
    family, family_latin = _surname_part(rng.choice(surnames), gender)
    if culture in _FAMILY_FIRST:
        sep = "" if culture == "ko" else " "
        return PersonName(f"{family[0]}{sep}{given[0]}", f"{family_latin[0]} {given_latin[0]}", culture, family,
                          given, family_latin, given_latin)
    return PersonName(f"{given[0]} {family[0]}", f"{given_latin[0]} {family_latin[0]}", culture, family, given,
                      family_latin, given_latin)
