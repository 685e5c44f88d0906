"""How one person's record differs from register to register: the noise entity resolution must see through.

Each function takes the true value (a ``PersonName``, a phone number, a birth date, a document number)
and returns it as another register would hold it. The rates are module constants, applied per copy
with the caller's seeded ``random.Random``. Only formatting varies where the ingest normalises it
away (phones become E.164, document numbers lose spaces and hyphens before hashing), so two
formats of one number still match after ingest; real differences (a changed phone, a renewed
passport, a typo) are rare and deliberate.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

import phonenumbers

from talentgraph.demo.names import PersonName
from talentgraph.demo.people import REFERENCE_DATE

# --- names ---
CHINESE_TYPO_RATE = 0.03  # one given-name character replaced by a homophone or look-alike (伟 → 玮)
OTHER_SCRIPT_RATE = 0.3  # a Korean name in Hanja, a Japanese name in kana, when the name data has them
LATIN_FOR_OWN_SCRIPT_RATE = 0.45  # a Cyrillic/Arabic/... name typed in Latin letters (the office keyboard)
DIACRITICS_DROPPED_RATE = 0.5  # José → Jose, Müller → Muller or Mueller, in a Chinese office's register
LATIN_SPELLING_RATE = 0.35  # a transliteration other than the passport's (Natalya for Natalia, Min-jun)
ORDER_SWAP_RATE = 0.25  # family and given name the other way round (Zhang Wei / Wei Zhang)
UPPER_FAMILY_RATE = 0.15  # ZHANG Wei, as passports and visa forms print it
LOWER_CASE_RATE = 0.03  # zhang wei
PINYIN_RUN_ON_RATE = 0.04  # ZhangWei: pinyin without the space

# --- contact and documents ---
PHONE_MISSING_RATE = 0.12
PHONE_CHANGED_RATE = 0.06  # a different, newer number
PASSPORT_TYPO_RATE = 0.02  # one digit of a passport number mistyped (resident ids would fail their check)
ID_SPACED_RATE = 0.3  # 310115 19800101 1234 / 75 1234567 written with spaces, else without
BIRTH_MISSING_RATE = 0.06
BIRTH_TYPO_RATE = 0.01  # a day off, day and month swapped, or the year's last digit mistyped

# Homophones and look-alikes a clerk types for common given-name (and a few surname) characters.
SIMILAR_CHARS: dict[str, str] = {
    "伟": "玮炜苇", "强": "墙", "磊": "垒", "军": "君钧", "勇": "永", "杰": "洁捷", "涛": "滔", "明": "铭鸣", "超": "朝",
    "斌": "彬滨", "鹏": "朋", "华": "桦骅", "建": "健", "国": "帼", "平": "萍坪", "刚": "钢", "辉": "晖", "浩": "皓灏",
    "宇": "雨羽", "俊": "骏峻", "峰": "锋", "文": "雯", "志": "智", "海": "凯", "林": "琳霖", "晨": "辰", "博": "波",
    "轩": "萱", "豪": "浩", "嘉": "佳", "一": "依", "天": "添", "德": "得", "荣": "蓉", "新": "欣鑫", "庆": "青",
    "忠": "中", "毅": "益", "立": "力", "成": "诚", "兵": "斌", "东": "冬", "卫": "伟", "昊": "浩", "睿": "锐",
    "泽": "择", "铭": "明", "阳": "洋扬", "芳": "方", "娜": "纳", "敏": "民", "静": "婧晶", "丽": "莉俐", "艳": "燕",
    "娟": "鹃", "霞": "夏", "玲": "琳苓", "婷": "亭", "雪": "学", "慧": "惠", "琳": "林", "颖": "莹", "洁": "杰",
    "佳": "嘉", "萍": "苹", "红": "虹", "梅": "玫", "兰": "岚", "英": "瑛", "秀": "绣", "晓": "小", "欣": "馨",
    "怡": "仪", "悦": "月", "雨": "宇", "诗": "师", "涵": "含", "梦": "孟", "思": "丝", "若": "诺", "子": "紫",
    "春": "纯", "燕": "艳", "凤": "风", "琴": "勤", "云": "芸", "月": "悦", "倩": "茜", "蕾": "蓓", "瑶": "遥",
    "彤": "桐", "萱": "轩", "雯": "文", "徐": "许", "许": "徐", "章": "张", "张": "章", "汪": "王", "王": "汪",
}


def _spelling(rng: random.Random, options: tuple[str, ...]) -> str:
    if len(options) > 1 and rng.random() < LATIN_SPELLING_RATE:
        return rng.choice(options[1:])
    return options[0]


def latin_name(rng: random.Random, n: PersonName) -> str:
    """The name in Latin letters as another register spells it: ZHANG Wei, Wei Zhang, Natalya Ivanova."""
    if not n.family_latin or not n.given_latin:
        return n.latin
    family, given = _spelling(rng, n.family_latin), _spelling(rng, n.given_latin)
    if n.culture == "zh" and rng.random() < PINYIN_RUN_ON_RATE:
        return family + given.replace(" ", "").replace("-", "").lower()
    if rng.random() < UPPER_FAMILY_RATE:
        family = family.upper()
    first_family = n.family_first != (rng.random() < ORDER_SWAP_RATE)
    text = f"{family} {given}" if first_family else f"{given} {family}"
    return text.lower() if rng.random() < LOWER_CASE_RATE else text


def _typo(rng: random.Random, n: PersonName) -> str:
    positions = [i for i, c in enumerate(n.name) if c in SIMILAR_CHARS]
    if not positions:
        return n.name
    i = rng.choice(positions)
    return n.name[:i] + rng.choice(SIMILAR_CHARS[n.name[i]]) + n.name[i + 1:]


def own_name(rng: random.Random, n: PersonName, *, latin: bool = True) -> str:
    """The 姓名 cell of another register: a clerk's typo, another script, or (``latin``, for registers
    that do not insist on the own script) Latin letters instead."""
    if n.culture == "zh" or not n.family or not n.given:
        return _typo(rng, n) if rng.random() < CHINESE_TYPO_RATE else n.name
    if len(n.family) > 1 and len(n.given) > 1 and rng.random() < OTHER_SCRIPT_RATE:
        sep = "" if n.culture == "ko" else " "
        return f"{n.family[1]}{sep}{n.given[1]}"
    latin_script = n.name.isascii() or n.latin == n.name or all(
        c.isascii() or "\u00c0" <= c <= "\u024f" or "\u1e00" <= c <= "\u1eff" for c in n.name)
    if not latin:
        return n.name
    if latin_script:
        if n.name.isascii() or rng.random() >= DIACRITICS_DROPPED_RATE:
            return n.name
        family, given = _spelling(rng, n.family_latin), _spelling(rng, n.given_latin)
        return f"{family} {given}" if n.family_first else f"{given} {family}"
    if rng.random() < LATIN_FOR_OWN_SCRIPT_RATE:
        return latin_name(rng, n)
    return n.name


# --- phones ---


def phone(rng: random.Random, number: str, new_number: Callable[[], str]) -> str:
    """Same number in another format (+86 138 0013 8000, 138-0013-8000, 13800138000), or missing,
    or now and then a different number (``new_number()``)."""
    if not number or rng.random() < PHONE_MISSING_RATE:
        return ""
    if rng.random() < PHONE_CHANGED_RATE:
        return new_number()
    parsed = phonenumbers.parse(number, "CN")
    fmt = phonenumbers.PhoneNumberFormat
    options = [number, phonenumbers.format_number(parsed, fmt.INTERNATIONAL),
               phonenumbers.format_number(parsed, fmt.E164)]
    national = str(parsed.national_number)
    if parsed.country_code == 86 and len(national) == 11 and national.startswith("1"):
        options += [national, national, f"{national[:3]}-{national[3:7]}-{national[7:]}"]
    elif parsed.country_code == 86:
        options.append(phonenumbers.format_number(parsed, fmt.NATIONAL))
    return rng.choice(options)


# --- dates ---


def _typo_date(rng: random.Random, d: date) -> date:
    x = rng.random()
    if x < 0.4:
        out = d + timedelta(days=rng.choice((-1, 1)))
    elif x < 0.7 and d.day <= 12 and d.day != d.month:
        out = date(d.year, d.day, min(d.month, 28))
    else:
        digit = (d.year % 10 + rng.choice((-1, 1))) % 10
        out = date(d.year - d.year % 10 + digit, d.month, min(d.day, 28))
    return min(out, REFERENCE_DATE)


def birth_date(rng: random.Random, d: date) -> str:
    """A birth date in any of the formats registers use, sometimes missing, rarely mistyped."""
    x = rng.random()
    if x < BIRTH_MISSING_RATE:
        return ""
    if x < BIRTH_MISSING_RATE + BIRTH_TYPO_RATE:
        d = _typo_date(rng, d)
    y = rng.random()
    if y < 0.45:
        return d.isoformat()
    if y < 0.7:
        return f"{d.year}/{d.month}/{d.day}"
    if y < 0.85:
        return f"{d:%Y%m%d}"
    if y < 0.95:
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.year}.{d.month:02d}.{d.day:02d}"


# --- identity documents ---


def _spaced(number: str) -> str:
    if len(number) == 18 and number[:17].isdigit():  # resident id: region, birth date, sequence + check
        return f"{number[:6]} {number[6:14]} {number[14:]}"
    if len(number) == 9 and number.isdigit():  # Russian passport: series and number
        return f"{number[:2]} {number[2:]}"
    return f"{number[:2]} {number[2:]}" if number[:2].isalpha() else number


def id_number(rng: random.Random, number: str, *, passport: bool) -> str:
    """The document number spaced or not (the ingest strips both before hashing), rarely mistyped."""
    plain = number.replace(" ", "")
    if passport and rng.random() < PASSPORT_TYPO_RATE:
        digits = [i for i, c in enumerate(plain) if c.isdigit()]
        i = rng.choice(digits)
        plain = plain[:i] + str((int(plain[i]) + rng.randint(1, 9)) % 10) + plain[i + 1:]
    return _spaced(plain) if rng.random() < ID_SPACED_RATE else plain
