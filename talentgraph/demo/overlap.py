"""Registers with their own record numbers that describe people the residents registers already hold.

The volunteer corps keeps 志愿者队伍登记表 (``VT000123``) and the community ran a 人才调查表
(``TS000123``). Neither knows the 居民编号, so each of their rows becomes a Person node of its own,
spelled the way that register spells it (``variations``); entity resolution has to link them.
Both builders return the register and the truth: record key → the key of the person it describes.
"""

from __future__ import annotations

import random
from typing import Any

from talentgraph.demo import codes, places, variations
from talentgraph.demo.names import chinese_name
from talentgraph.demo.people import Occupation, Resident, Weighted, make_chinese, make_foreign, weighted
from talentgraph.demo.registers import Labels, Register, rand_date
from talentgraph.schema.vocabularies import vocabulary

VOLUNTEER_REGISTER_COVERAGE = 0.7  # of residents who volunteer, the share the corps' register lists
OUTSIDE_VOLUNTEER_SHARE = 0.12  # rows (of the resident volunteers') for volunteers who live elsewhere
OUTSIDE_FOREIGN_SHARE = 0.15  # of those outside volunteers, foreigners
VOLUNTEER_ID_MISSING_RATE = 0.6  # the corps rarely asks for the ID number
VOLUNTEER_LATIN_RATE = 0.25  # Chinese volunteers whose pinyin is also written down
TEAM_MISSING_RATE = 0.1
SURVEY_SHARE = 0.06  # of adult residents who answered the talent survey
SURVEY_ID_RATE = 0.35  # answers that give the ID number
SURVEY_LATIN_RATE = 0.6  # Chinese answers that also give pinyin
NATIONALITY_SYNONYM_RATE = 0.4  # 俄罗斯联邦 for 俄罗斯, Russian Federation for Russia
AREA_MISSING_RATE = 0.15

_GROUP_NAMES = {key: name for key, name, *_ in places.GROUPS}
_AREA_NAMES = {a.key: a.name for a in places.RESIDENTIAL_AREAS}
_OUTSIDE_NOTES = ("居住在花木街道其他社区", "在联洋工作", "家住张江，周末参加活动", "在社区企业上班", "")


def outside_volunteers(rng: random.Random, n: int, occupations: Weighted[Occupation]) -> list[Resident]:
    """Adults who live or work outside Lianyang and volunteer here: in no other register (keys XV…)."""
    out: list[Resident] = []
    while len(out) < n:
        key = f"XV{len(out) + 1:06d}"
        make = make_foreign if rng.random() < OUTSIDE_FOREIGN_SHARE else make_chinese
        r = make(rng, key, occupations, {})
        if not r.adult or not r.phone:
            continue
        r.volunteer = True
        out.append(r)
    return out


def _team(rng: random.Random, r: Resident) -> str:
    if rng.random() < TEAM_MISSING_RATE:
        return ""
    teams = sorted({g for s in r.skills for root, g in places.VOLUNTEER_BRANCHES.items()
                    if s == root or s.startswith(root + ".")})
    if r.foreign:
        teams.append("G009")
    elif r.age <= 22:
        teams.append("G008")
    return _GROUP_NAMES[rng.choice(teams or ["G001", "G005", "G006", "G007"])]


def _gender(rng: random.Random, r: Resident) -> str:
    male = r.gender == "male"
    return rng.choice(("男", "男", "男", "M")) if male else rng.choice(("女", "女", "女", "F"))


def _nationality(rng: random.Random, r: Resident, labels: Labels, blank_rate: float) -> str:
    if not r.foreign and rng.random() < blank_rate:
        return ""
    lang = "zh" if not r.foreign or rng.random() < 0.6 else "en"
    return labels.label("nationalities", r.nationality, lang, NATIONALITY_SYNONYM_RATE)


def _labels(labels: Labels, vocab: str, ids: list[str], lang: str) -> str:
    return "、".join(labels.label(vocab, i, lang) for i in ids) if lang == "zh" else \
        ", ".join(labels.label(vocab, i, lang) for i in ids)


def _id_cell(rng: random.Random, r: Resident) -> str:
    return variations.id_number(rng, r.id_number, passport=r.foreign)


def _phone(rng: random.Random, r: Resident) -> str:
    return variations.phone(rng, r.phone, lambda: codes.phone(rng, nationality=r.nationality))


def volunteer_register(rng: random.Random, residents: list[Resident], outsiders: list[Resident],
                       labels: Labels) -> tuple[Register, dict[str, str]]:
    reg = Register("volunteers", ["志愿者编号", "姓名", "外文姓名", "性别", "出生日期", "国籍", "手机", "证件号码",
                                  "服务队伍", "技能", "语言", "备注"], sheet="志愿者名册")
    people = [r for r in residents if r.volunteer and rng.random() < VOLUNTEER_REGISTER_COVERAGE] + outsiders
    rng.shuffle(people)  # the corps numbers people in the order they signed up
    truth: dict[str, str] = {}
    for i, r in enumerate(people, start=1):
        key = f"VT{i:06d}"
        truth[key] = r.key
        lang = "zh" if not r.foreign or rng.random() < 0.5 else "en"
        skills = rng.sample(r.skills, k=rng.randint(min(1, len(r.skills)), len(r.skills)))
        note = ""
        if r.key.startswith("XV"):
            note = rng.choice(_OUTSIDE_NOTES)
        elif "legal_volunteer" in r.extra:
            note = "可提供俄语法律咨询"
        reg.add(志愿者编号=key, 姓名=variations.own_name(rng, r.name),
                外文姓名=variations.latin_name(rng, r.name) if r.foreign or rng.random() < VOLUNTEER_LATIN_RATE else "",
                性别=_gender(rng, r), 出生日期=variations.birth_date(rng, r.birth),
                国籍=_nationality(rng, r, labels, 0.5), 手机=_phone(rng, r),
                证件号码="" if rng.random() < VOLUNTEER_ID_MISSING_RATE else _id_cell(rng, r),
                服务队伍=_team(rng, r), 技能=_labels(labels, "skills", skills, lang),
                语言=_labels(labels, "languages", r.languages, lang), 备注=note)
    name = chinese_name(rng, "female")
    reg.add_bad(rng, 志愿者编号=f"VT{len(people) + 1:06d}", 姓名=name.name, 性别="女", 出生日期="1979-05-21",
                国籍="中国", 手机=codes.phone(rng), 服务队伍="联洋社区游泳队",
                技能="游泳", 语言="中文")  # no such team
    return reg, truth


def _education(rng: random.Random, r: Resident, labels: Labels) -> str:
    education = vocabulary("education")
    term = education.lookup(r.education) if r.education else None
    if term is None:
        if r.foreign and r.occupation is not None:
            level = weighted(rng, [("bachelor", 50.0), ("master", 35.0), ("doctorate", 8.0), ("junior_college", 7.0)])
        else:
            return ""
    else:
        level = term.id
    return labels.label("education", level, "zh", 0.25)


def _occupation(r: Resident) -> str:
    occ = r.occupation
    if occ is None:
        return "退休" if r.retired else ""
    if r.retired:
        return f"退休{occ.zh}" if not r.foreign else f"Retired {occ.en.lower()}"
    return occ.en if r.foreign else occ.zh


def survey_register(rng: random.Random, residents: list[Resident], labels: Labels) -> tuple[Register, dict[str, str]]:
    reg = Register("talent_survey", ["调查编号", "姓名", "拼音或英文名", "性别", "出生日期", "国籍", "联系电话",
                                     "证件类型", "证件号码", "文化程度", "职业", "专业技能", "语言能力", "居住小区"])
    people = [r for r in residents if r.adult and rng.random() < SURVEY_SHARE]
    rng.shuffle(people)
    truth: dict[str, str] = {}
    for i, r in enumerate(people, start=1):
        key = f"TS{i:06d}"
        truth[key] = r.key
        has_id = rng.random() < SURVEY_ID_RATE
        kind = rng.choice(("护照", "Passport")) if r.foreign else rng.choice(("身份证", "居民身份证"))
        lang = "zh" if not r.foreign or rng.random() < 0.4 else "en"
        reg.add(调查编号=key, 姓名=variations.own_name(rng, r.name),
                拼音或英文名=variations.latin_name(rng, r.name) if r.foreign or rng.random() < SURVEY_LATIN_RATE else "",
                性别=_gender(rng, r), 出生日期=variations.birth_date(rng, r.birth),
                国籍=_nationality(rng, r, labels, 0.3), 联系电话=_phone(rng, r),
                证件类型=kind if has_id else "", 证件号码=_id_cell(rng, r) if has_id else "",
                文化程度=_education(rng, r, labels), 职业=_occupation(r),
                专业技能=_labels(labels, "skills", r.skills, lang),
                语言能力=_labels(labels, "languages", r.languages, lang),
                居住小区="" if rng.random() < AREA_MISSING_RATE else _AREA_NAMES[r.area])
    name = chinese_name(rng, "male")
    reg.add_bad(rng, 调查编号=f"TS{len(people) + 1:06d}", 姓名=name.name, 拼音或英文名=name.latin, 性别="男",
                出生日期="1987-02-30", 国籍="中国", 联系电话=codes.phone(rng), 文化程度="本科", 职业="工程师",
                专业技能="土木工程", 语言能力="中文、英语", 居住小区=_AREA_NAMES["RA01"])  # 30 February
    return reg, truth


def reregistration(rng: random.Random, r: Resident, row: dict[str, Any], key: str, labels: Labels,
                   new_passport_rate: float) -> dict[str, Any]:
    """A foreign resident's second registration (new 居民编号): the row ``row`` spelled differently."""
    passport = codes.passport(rng, r.nationality) if rng.random() < new_passport_rate else r.id_number
    return {**row, "居民编号": key, "姓名": variations.own_name(rng, r.name, latin=False),
            "英文姓名": variations.latin_name(rng, r.name),
            "国籍": labels.label("nationalities", r.nationality, "en", 0.6),
            "证件号码": variations.id_number(rng, passport, passport=True), "联系电话": _phone(rng, r),
            "出生日期": variations.birth_date(rng, r.birth),
            "入住日期": rand_date(rng, r.moved_in).isoformat()}
