"""The synthetic community every search backend is tested on: ~1.9k persons in several scripts and
55 areas, built with build_doc (no real person's data), and helpers that read whole result sets."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from talentgraph.search.mapping import build_doc
from talentgraph.search.port import SearchDoc
from talentgraph.search.service import SearchService
from talentgraph.types import Node

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高曾单解欧阳"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
FOREIGN: list[tuple[str, str, list[str]]] = [
    ("RU", "ru", ["Иван Петров", "Ольга Смирнова", "Дмитрий Соколов", "Анна Волкова", "Сергей Орлов"]),
    ("KR", "ko", ["김민준", "이서연", "박지훈"]),
    ("JP", "ja", ["たなか ゆき", "さとう はると"]),
    ("FR", "fr", ["Élodie Martin", "François Dubois"]),
    ("ES", "es", ["José García", "María López"]),
    ("DE", "de", ["Jürgen Müller", "Sören Schäfer"]),
    ("GR", "el", ["Ελένη Παπαδοπούλου"]),
    ("TH", "th", ["สมชาย ใจดี"]),
]
SKILLS = ["law", "law.litigation", "law.contract", "law.family", "medicine.tcm", "teaching.primary",
          "translation.en", "first_aid.cpr", "nursing.home_care", "tutoring.math"]
OCCUPATIONS = ["教师", "工程师", "退休职工", "医生", "学生", "会计", "设计师"]
BIOS = ["住在联洋社区，热心社区公益活动。", "周末参加社区志愿服务。", "Enjoys gardening and community events.",
        "喜欢书法和太极。", "Volunteer at the neighbourhood centre."]
N_PERSONS = 1900


@dataclass
class World:
    persons: list[dict[str, Any]]
    docs: list[SearchDoc]


def make_world(seed: int = 7, n: int = N_PERSONS) -> World:
    rnd = random.Random(seed)
    persons: list[dict[str, Any]] = []
    docs: list[SearchDoc] = []
    for i in range(n):
        if rnd.random() < 0.85:
            name = rnd.choice(SURNAMES[:-2]) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
            nationality, langs = "CN", ["zh"] + rnd.sample(["en", "ja", "ru", "fr", "ko"], rnd.choice((0, 0, 1, 2)))
        else:
            nationality, native, names = rnd.choice(FOREIGN)
            name = rnd.choice(names)
            # A national speaks the country's language (so "Russian" as a nationality adds nobody).
            langs = [native] + rnd.sample(["zh", "en"], rnd.choice((0, 1, 2)))
        skills = sorted(rnd.sample(SKILLS, rnd.choice((0, 1, 1, 2, 3))))
        lawyer = any(s == "law" or s.startswith("law.") for s in skills)
        occupation = "律师" if lawyer else rnd.choice(OCCUPATIONS)
        props = {"name": name, "nationality": nationality, "languages": langs, "skills": skills,
                 "occupation": occupation, "bio": rnd.choice(BIOS), "volunteer": rnd.random() < 0.4}
        derived = {"building": [f"area:b{i % 50:02d}"], "residential_area": [f"area:r{i % 50 // 10}"],
                   "party_member": rnd.random() < 0.2}
        pid = f"per:{i:05d}"
        persons.append({"id": pid, **props, **derived})
        docs.append(build_doc(Node(pid, "Person", props), derived))
    for k in range(5):
        docs.append(build_doc(Node(f"area:r{k}", "Area", {"name": f"联洋第{k + 1}居民区", "level": "residential_area"})))
    for b in range(50):
        docs.append(build_doc(Node(f"area:b{b:02d}", "Area", {"name": f"{b + 1}号楼", "level": "building"})))
    return World(persons, docs)


SPECIAL = [
    Node("per:html", "Person", {"name": "林小雨", "languages": ["zh"], "skills": ["law.litigation"],
                                "bio": "<script>alert('x')</script> 擅长诉讼 & 调解"}),
    Node("per:long", "Person", {"name": "高山", "languages": ["zh"],
                                "bio": ("联洋社区志愿者服务队每周组织居民开展邻里互助活动" * 25)[:500]
                                + " " + "".join(chr(97 + (i * 7) % 26) for i in range(200))}),
]


def all_ids(service: SearchService, text: str, **kw: Any) -> list[str]:
    out: list[str] = []
    after = None
    while True:
        res = service.search(text, first=100, after=after, facets=(), **kw)
        out += [h.id for h in res.hits]
        if not res.has_next_page:
            return out
        after = res.end_cursor


def small_docs(tag: str, n: int = 200) -> list[SearchDoc]:
    return [build_doc(Node(f"per:{i:04d}", "Person", {"name": f"{tag}{i}", "languages": ["ru" if i % 2 else "en"]}))
            for i in range(n)]
