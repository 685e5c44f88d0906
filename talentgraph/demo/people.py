"""Synthetic residents: who they are, what they can do, which languages they speak, where they live.

Skills follow occupation (a retired teacher still tutors), languages follow nationality and age
(Chinese residents born 1935–1965 often learned Russian at school), so talent searches return
people whose profiles hang together rather than random tags.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Generic, TypeVar

from talentgraph.demo import codes
from talentgraph.demo.names import PersonName, chinese_name, foreign_name

REFERENCE_DATE = date(2024, 6, 30)  # "today" for ages and dates, so output never depends on the clock


@dataclass(frozen=True)
class Occupation:
    zh: str
    en: str
    skills: tuple[str, ...]  # skill ids (or parent ids, expanded to children by the generator)
    weight: float


OCCUPATIONS: tuple[Occupation, ...] = (
    Occupation("律师", "Lawyer", ("law.litigation", "law.contract", "law.family", "law.labour", "law.property",
                                  "law.corporate", "law.immigration", "law.ip", "law.criminal"), 1.0),
    Occupation("法务", "Legal counsel", ("law.corporate", "law.contract", "law.labour", "law.ip"), 0.6),
    Occupation("医生", "Doctor", ("medicine.general_practice", "medicine.internal", "medicine.surgery",
                                  "medicine.paediatrics", "medicine.tcm", "medicine.dentistry", "medicine.ophthalmology",
                                  "medicine.chronic_disease"), 1.2),
    Occupation("护士", "Nurse", ("nursing", "nursing.home_care", "nursing.geriatric", "nursing.maternal",
                                 "first_aid.cpr"), 1.0),
    Occupation("教师", "Teacher", ("teaching.primary", "teaching.secondary", "teaching.preschool", "tutoring.math",
                                   "tutoring.chinese", "tutoring.physics", "language_teaching.english"), 2.0),
    Occupation("大学教师", "Lecturer", ("teaching.university", "teaching.science", "it.data"), 0.5),
    Occupation("工程师", "Engineer", ("engineering.civil", "engineering.mechanical", "engineering.electrical",
                                      "engineering.architecture", "engineering.urban_planning"), 2.0),
    Occupation("软件工程师", "Software engineer", ("it.software", "it.web", "it.data", "it.ai", "it.network",
                                                   "it.security"), 2.5),
    Occupation("会计", "Accountant", ("finance.accounting", "finance.tax", "finance.audit"), 1.5),
    Occupation("银行职员", "Banker", ("finance.banking", "finance.investment", "finance.insurance"), 1.2),
    Occupation("企业管理人员", "Manager", ("business.management", "business.hr", "business.project_management",
                                          "business.marketing"), 2.5),
    Occupation("销售", "Sales", ("business.sales", "business.marketing", "business.trade"), 2.0),
    Occupation("翻译", "Translator", ("translation.en", "translation.ja", "translation.ko", "translation.fr",
                                      "translation.de", "interpretation.consecutive", "interpretation.escort"), 0.4),
    Occupation("心理咨询师", "Counsellor", ("psychology.counselling", "psychology.child", "psychology.family",
                                           "psychology.crisis"), 0.4),
    Occupation("社区工作者", "Community worker", ("community_work.casework", "community_work.grid",
                                                 "community_work.policy_advice", "community_work.party_building",
                                                 "events"), 0.5),
    Occupation("厨师", "Chef", ("cooking.chinese", "cooking.baking", "cooking.western", "cooking.food_safety"), 0.8),
    Occupation("电工", "Electrician", ("repair.electrical", "repair.appliance", "repair.plumbing"), 0.6),
    Occupation("设计师", "Designer", ("it.design", "engineering.interior", "it.video_editing"), 1.0),
    Occupation("媒体从业者", "Journalist", ("media.editing", "media.videography", "media.broadcasting",
                                           "it.social_media"), 0.5),
    Occupation("家政服务员", "Housekeeper", ("household.cleaning", "household.organising", "cooking.dumplings",
                                             "childcare"), 0.6),
    Occupation("个体经营", "Self-employed", ("business.trade", "business.entrepreneurship", "cooking.chinese",
                                            "household.hairdressing", "repair.phone"), 1.2),
    Occupation("公务员", "Civil servant", ("community_work.policy_advice", "business.project_management",
                                          "media.editing"), 0.8),
)
# Skills people have whatever their job: the culture teams and volunteers are built on these.
HOBBY_SKILLS: tuple[str, ...] = (
    "arts.calligraphy", "arts.chinese_painting", "arts.photography", "arts.handicraft", "arts.paper_cutting",
    "music.choir", "music.erhu", "music.piano", "music.guzheng", "music.opera", "music.dizi", "music.harmonica",
    "dance.square", "dance.folk", "dance.ballroom", "sports.tai_chi", "sports.table_tennis", "sports.board_games",
    "sports.qigong", "sports.running", "sports.badminton", "cooking.dumplings", "cooking.baking", "gardening",
    "gardening.community_garden", "first_aid.cpr", "environment.waste_sorting", "elderly_care.companionship",
    "it.digital_literacy", "safety.anti_fraud", "repair.bicycle", "performance.recitation", "arts.tea",
)
RETIREE_SKILLS: tuple[str, ...] = (
    "elderly_care.home_visit", "elderly_care.meal_delivery", "community_work.mutual_aid",
    "community_work.self_governance", "safety.patrol", "gardening", "sports.tai_chi", "music.choir",
    "arts.calligraphy", "dance.square", "music.opera", "repair.knife_sharpening", "repair.tailoring",
)
CHILD_SKILLS: tuple[str, ...] = ("music.piano", "music.violin", "dance.ballet", "sports.swimming", "sports.football",
                                 "sports.basketball", "arts.painting", "sports.board_games", "performance.recitation")

# Nationality → (weight per thousand foreign residents, name culture, spoken languages).
NATIONALITIES: tuple[tuple[str, float, str, tuple[str, ...]], ...] = (
    ("KR", 170, "ko", ("ko",)), ("JP", 150, "ja", ("ja",)), ("US", 95, "en", ("en",)), ("FR", 60, "fr", ("fr",)),
    ("DE", 60, "de", ("de",)), ("GB", 45, "en", ("en",)), ("RU", 45, "ru", ("ru",)), ("CA", 30, "en", ("en", "fr")),
    ("AU", 25, "en", ("en",)), ("SG", 30, "en", ("en", "zh", "ms")), ("MY", 20, "ms", ("ms", "en", "zh")),
    ("IT", 20, "it", ("it",)), ("ES", 20, "es", ("es",)), ("TH", 15, "th", ("th",)), ("IN", 25, "hi", ("hi", "en")),
    ("UA", 12, "uk", ("uk", "ru")), ("KZ", 12, "kk", ("kk", "ru")), ("BY", 5, "ru", ("ru",)),
    ("BR", 12, "pt", ("pt",)), ("PT", 5, "pt", ("pt",)), ("MX", 8, "es", ("es",)), ("NL", 10, "nl", ("nl",)),
    ("SE", 8, "sv", ("sv",)), ("PL", 8, "pl", ("pl",)), ("CZ", 4, "cs", ("cs",)), ("TR", 8, "tr", ("tr",)),
    ("VN", 12, "vi", ("vi",)), ("ID", 10, "id", ("id",)), ("PH", 12, "tl", ("tl", "en")),
    ("EG", 8, "ar", ("ar",)), ("SA", 5, "ar", ("ar",)), ("AE", 4, "ar", ("ar",)), ("MA", 4, "ar", ("ar", "fr")),
    ("IR", 4, "fa", ("fa",)), ("MN", 6, "mn", ("mn", "ru")), ("GR", 4, "el", ("el",)), ("IE", 6, "en", ("en",)),
    ("NZ", 5, "en", ("en",)),
)
RUSSIAN_SPEAKING = {"RU", "UA", "KZ", "BY", "MN"}
_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")


@dataclass
class Resident:
    key: str
    foreign: bool
    name: PersonName
    gender: str  # "male" | "female"
    birth: date
    nationality: str
    id_number: str
    phone: str
    occupation: Occupation | None
    retired: bool
    skills: list[str]
    languages: list[str]
    levels: list[str]  # "code:level"
    area: str  # residential area key
    building: int
    room: str
    moved_in: date
    political: str = "masses"  # political_status term id
    education: str | None = None
    volunteer: bool = False
    party_joined: date | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def age(self) -> int:
        b = self.birth
        return REFERENCE_DATE.year - b.year - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (b.month, b.day))

    @property
    def building_key(self) -> str:
        return f"{self.area}-{self.building}"

    @property
    def adult(self) -> bool:
        return self.age >= 18


T = TypeVar("T")


class Weighted(Generic[T]):
    """Choices whose weights' total is worked out once: a pool drawn from for every resident (the same
    sum, in the same order, as ``weighted`` would take per draw, so the draws are the same)."""

    __slots__ = ("items", "total")

    def __init__(self, items: Iterable[tuple[T, float]]) -> None:
        self.items = tuple(items)
        self.total = sum(w for _, w in self.items)


def weighted(rng: random.Random, items: Sequence[tuple[T, float]] | Weighted[T]) -> T:
    if isinstance(items, Weighted):
        total = items.total
        items = items.items
    else:
        total = sum(w for _, w in items)
    x = rng.random() * total
    for value, w in items:
        x -= w
        if x < 0:
            return value
    return items[-1][0]


def birth_date(rng: random.Random, *, foreign: bool) -> date:
    # Age bands: Lianyang is an older estate (many retirees) with young expat families.
    bands = ((0, 17, 14), (18, 34, 20), (35, 59, 38), (60, 95, 28)) if not foreign else \
        ((0, 17, 22), (18, 34, 28), (35, 59, 44), (60, 80, 6))
    lo, hi = weighted(rng, [((lo, hi), float(w)) for lo, hi, w in bands])
    age = rng.randint(lo, hi)
    return REFERENCE_DATE - timedelta(days=age * 365 + rng.randrange(365))


def pick_skills(rng: random.Random, expand: dict[str, tuple[str, ...]], occ: Occupation | None,
                age: int, retired: bool) -> list[str]:
    """1–4 skill ids: from the occupation, plus hobbies; children only have hobbies."""
    out: list[str] = []
    if age < 16:
        if rng.random() < 0.5:
            out.append(rng.choice(CHILD_SKILLS))
        return out
    if occ is not None:
        pool = [s for base in occ.skills for s in expand.get(base, (base,))]
        out.extend(rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2, 2, 3)))))
    if retired and rng.random() < 0.6:
        out.append(rng.choice(RETIREE_SKILLS))
    if rng.random() < 0.45:
        out.append(rng.choice(HOBBY_SKILLS))
    return list(dict.fromkeys(out))


def chinese_languages(rng: random.Random, age: int, occ: Occupation | None) -> list[str]:
    langs = ["zh"]
    born = REFERENCE_DATE.year - age
    if 1935 <= born <= 1965 and rng.random() < 0.08:
        langs.append("ru")  # Russian was the school foreign language of that generation
    if 1960 <= born <= 2015 and rng.random() < (0.55 if born > 1975 else 0.25):
        langs.append("en")
    if rng.random() < 0.04:
        langs.append(rng.choice(("ja", "ko", "fr", "de", "es", "ru")))
    if occ is not None and occ.en == "Translator":
        langs.append(rng.choice(("en", "ja", "ko", "fr", "de", "ru")))
    return list(dict.fromkeys(langs))


def foreign_languages(rng: random.Random, native: tuple[str, ...], age: int) -> tuple[list[str], list[str]]:
    langs = list(native)
    levels = [f"{native[0]}:native"] + [f"{lang}:{rng.choice(_LEVELS[3:])}" for lang in native[1:]]
    if "en" not in langs and rng.random() < 0.7:
        langs.append("en")
        levels.append(f"en:{rng.choice(_LEVELS[2:])}")
    if age >= 6 and rng.random() < 0.55:
        langs.append("zh")
        levels.append(f"zh:{rng.choice(_LEVELS[:4])}")
    return langs, levels


def make_chinese(rng: random.Random, key: str, occupations: Weighted[Occupation],
                 expand: dict[str, tuple[str, ...]]) -> Resident:
    gender = rng.choice(("male", "female"))
    birth = birth_date(rng, foreign=False)
    age = REFERENCE_DATE.year - birth.year
    occ = weighted(rng, occupations) if age >= 22 else None
    retired = age >= 60
    region = "310115" if rng.random() < 0.5 else None
    return Resident(
        key=key, foreign=False, name=chinese_name(rng, gender), gender=gender, birth=birth, nationality="CN",
        id_number=codes.resident_id(rng, birth, gender == "male", region),
        phone="" if age < 14 else codes.phone(rng, landline=age >= 65 and rng.random() < 0.35),
        occupation=occ, retired=retired,
        skills=pick_skills(rng, expand, occ, age, retired),
        languages=chinese_languages(rng, age, occ), levels=[],
        area="", building=0, room="", moved_in=REFERENCE_DATE,
    )


def make_foreign(rng: random.Random, key: str, occupations: Weighted[Occupation],
                 expand: dict[str, tuple[str, ...]]) -> Resident:
    nat, culture, native = weighted(rng, [((n, c, langs), w) for n, w, c, langs in NATIONALITIES])
    gender = rng.choice(("male", "female"))
    birth = birth_date(rng, foreign=True)
    age = REFERENCE_DATE.year - birth.year
    occ = weighted(rng, occupations) if age >= 22 and rng.random() < 0.8 else None
    langs, levels = foreign_languages(rng, native, age)
    return Resident(
        key=key, foreign=True, name=foreign_name(rng, culture, gender), gender=gender, birth=birth,
        nationality=nat, id_number=codes.passport(rng, nat),
        phone="" if age < 14 else codes.phone(rng, nationality=nat),
        occupation=occ, retired=age >= 65,
        skills=pick_skills(rng, expand, occ, age, age >= 65),
        languages=langs, levels=levels, area="", building=0, room="", moved_in=REFERENCE_DATE,
    )
