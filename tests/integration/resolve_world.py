"""A small world of person records for entity resolution: distinct people, their second registrations
with the variations real registers have, and hard negatives. Knows the truth."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from talentgraph.graph.port import GraphStore
from talentgraph.types import NodeRecord, Provenance

SURNAMES = [("张", "Zhang"), ("王", "Wang"), ("李", "Li"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
            ("赵", "Zhao"), ("黄", "Huang"), ("周", "Zhou"), ("吴", "Wu"), ("徐", "Xu"), ("孙", "Sun")]
GIVEN = [("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"), ("强", "Qiang"),
         ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"), ("杰", "Jie"), ("娟", "Juan"),
         ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("秀英", "Xiuying"), ("霞", "Xia"), ("平", "Ping"),
         ("建华", "Jianhua"), ("志强", "Zhiqiang"), ("晓东", "Xiaodong"), ("海燕", "Haiyan")]
FOREIGN = [("Наталья Иванова", "Natalia Ivanova", "Natalya Ivanova", "RU"),
           ("김민수", "Kim Min-su", "Minsu Kim", "KR"),
           ("José Müller", "Jose Muller", "Mueller Jose", "DE"),
           ("Александр Петров", "Aleksandr Petrov", "Alexander Petrov", "RU")]


@dataclass
class World:
    truth: dict[str, str] = field(default_factory=dict)  # record id → person
    name_only: tuple[str, str] = ("", "")  # same name, nothing else in common: must never be linked


def _phone(rng: random.Random) -> str:
    return "+86" + "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def build(graph: GraphStore, *, people: int = 400, seed: int = 3) -> World:
    rng = random.Random(seed)
    w = World()
    prov = Provenance("register_a", "a.csv", 1, "2026-11-30T00:00:00+00:00")
    prov_b = Provenance("register_b", "b.csv", 1, "2026-11-30T00:00:00+00:00")
    nodes: list[NodeRecord] = []
    for i in range(people):
        if i < len(FOREIGN) * 3:
            own, latin, variant, nat = FOREIGN[i % len(FOREIGN)]
            # three distinct people per foreign name would be too many twins: vary the surname
            own, latin, variant = (own, latin, variant) if i < len(FOREIGN) else (own + "a" * (i // 4),
                                                                                  latin + "a" * (i // 4),
                                                                                  variant + "a" * (i // 4))
        else:
            s, g = rng.choice(SURNAMES), rng.choice(GIVEN)
            own, latin, variant, nat = s[0] + g[0], f"{s[1]} {g[1]}", f"{g[1]} {s[1].upper()}", "CN"
        year, month, day = rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)
        birth = f"{year}-{month:02d}-{day:02d}"
        phone = _phone(rng)
        pid = f"per:A{i:05d}"
        props = {"name": own, "latin_name": latin if nat != "CN" else None, "birth_date": birth,
                 "phone": phone, "nationality": nat, "gender": rng.choice(["male", "female"]),
                 "id_hash": f"h{i:05d}" if rng.random() < 0.7 else None}
        nodes.append(NodeRecord("Person", pid, props, prov))
        w.truth[pid] = f"P{i}"
        if i % 5 == 0:  # registered a second time, in another register, with variations
            dup = f"per:B{i:05d}"
            dprops = {"name": variant if rng.random() < 0.5 else own,
                      "birth_date": birth if rng.random() < 0.85 else None,
                      "phone": phone.replace("+86", "") if rng.random() < 0.7 else _phone(rng),
                      "nationality": nat,
                      "id_hash": props["id_hash"] if rng.random() < 0.5 else None}
            if not (dprops["birth_date"] or dprops["id_hash"] or dprops["phone"] == phone.replace("+86", "")):
                dprops["birth_date"] = birth  # keep every true pair resolvable by more than a name
            nodes.append(NodeRecord("Person", dup, dprops, prov_b))
            w.truth[dup] = f"P{i}"
    # a namesake: same name as A00020's person, nothing else in common
    twin = nodes[next(k for k, n in enumerate(nodes) if n.id == "per:A00020")]
    nodes.append(NodeRecord("Person", "per:C00001", {"name": twin.props["name"], "birth_date": "1999-01-01",
                                                     "phone": "+8613300000000", "nationality": "CN"}, prov_b))
    w.truth["per:C00001"] = "namesake"
    w.name_only = ("per:A00020", "per:C00001")
    graph.upsert_nodes(nodes)
    return w
