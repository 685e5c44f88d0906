"""Community documents about the demo world, with gold annotations, for text-to-graph (issue 11).

``write_documents(out_dir, world, seed)`` writes ~200 documents a subdistrict office keeps — work reports
(工作报告), news (新闻), meeting minutes (会议纪要), project write-ups and the foreign-residents station's case
notes — mostly Chinese, about a fifth English, naming the world ``generator.build`` made: its residential
areas, party organisations, venues, groups, projects, enterprises and residents. They state numeric facts
(党员2,136名, 36家共建单位, 约170个停车位, about 5,000 foreign residents), some agreeing with the registers and
some not. An English text names a known place, organisation or project by the English name its register holds
(英文名称 → ``name_en``; an enterprise's → ``latin_name``), as the community's bilingual materials do.

About a third of the named entities are in no register: building party groups of new buildings, the party
branch of an enterprise that has none on file, new volunteer teams, shops, venues, projects, residents who do
not live here. They are formed the way real names are (the ontology's ``name_suffixes``) and drawn from a
pool per split, so a new name in the test split never appears in training: recognising it measures the
model's grasp of name forms, not its memory.

Files (``<out_dir>/``): ``<id>.txt`` mostly, some ``.md``, ``.html`` and ``.docx`` so every reader is
exercised; the text a reader should get is ``title + "\\n\\n" + paragraphs joined by "\\n\\n"`` (the .txt file
verbatim). Beside the folder, not in it (``<out_dir>-gold/``, so ``talentgraph ingest-docs <out_dir>`` reads
documents only), ``gold.jsonl`` holds one record per document:

    {"id", "file", "title", "language", "doc_kind", "published", "split": "train"|"dev"|"test",
     "text",
     "spans": [[start, end, label, node_id | null, "known"|"new"], …],   # label: ontology node type
     "facts": [[start, end, measure, value, subject_span_index | null], …],  # span: the number + its unit
     "fact_checks": [{"graph_value": number | null, "disagrees": bool}, …]}  # parallel to facts

``names.txt`` beside it lists the names the graph holds (titles, Latin and English names), one a line: what a gazetteer
built from the ingested registers feeds the Chinese tokenizer, so training can cut text the same way.

``node_id`` is the id the graph holds after ``talentgraph ingest`` of the demo jobs (``ONTOLOGY.make_id`` of
the register key: ``org:A01``, ``area:RA03-7``, ``ent:<USCC>``, ``per:LY000123``). The split is fixed by
a hash of the document id (≈ 60/20/20). Everything is drawn from ``random.Random(f"{seed}/documents")``:
the same world and seed give byte-identical files, and the registers' own streams are untouched.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import random
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talentgraph.demo import places
from talentgraph.demo.names import chinese_name
from talentgraph.demo.writers import FIXED_TIME
from talentgraph.schema.ontology import ONTOLOGY

if TYPE_CHECKING:  # generator imports this module to call the writer
    from talentgraph.demo.generator import World

N_DOCUMENTS = 200
ENGLISH_SHARE = 0.2
NEW_SHARE = 0.34  # of entity mentions: names no register has
GOLD_FILE = "gold.jsonl"
NAMES_FILE = "names.txt"
FORMATS = ("txt", "md", "html", "docx")  # mostly plain text; the others so that every reader is exercised
LABELS = ("Person", "Enterprise", "PartyOrganization", "Venue", "Project", "Group", "Area")
SPLITS = ("train", "dev", "test")


def split_of(doc_id: str, seed: int) -> str:
    """train / dev / test by a hash of the document id (≈ 60/20/20), fixed for a seed."""
    h = int(hashlib.sha256(f"{seed}:{doc_id}".encode()).hexdigest()[:8], 16) % 10
    return "train" if h < 6 else "dev" if h < 8 else "test"


# --- the entities documents can name ----------------------------------------------------------------


@dataclass
class Entity:
    type: str
    zh: str
    en: str | None  # how an English text names it (None: English texts do not name it)
    node_id: str | None  # None: in no register (a new entity)
    values: dict[str, float] = field(default_factory=dict)  # register values by Fact measure
    zh_forms: tuple[str, ...] = ()  # other ways Chinese texts write it (aliases, with a level word)
    kind: str = ""  # finer kind for picking templates (area, building, committee, area_org, …)

    @property
    def status(self) -> str:
        return "new" if self.node_id is None else "known"


# The registers' English-name column (英文名称 → ``name_en``, the Enterprise register's → ``latin_name``): how an
# English text names a known area, venue, group, party organisation or project, so its surface is what the graph holds.
EN_COLUMN = "英文名称"

# Parts new names are made of (each combined with an ontology name suffix).
NEW_VENUE_PARTS = ("睦邻驿站", "党员会客厅", "市民书房", "口袋公园", "健身驿站", "议事长廊", "便民服务站", "邻里服务中心",
                   "文化广场", "家门口服务站", "乐龄活动中心", "亲子图书馆", "四季长廊", "百姓书房", "非遗馆", "科普馆")
NEW_VENUE_EN = ("Pocket Park", "Reading Room Library", "Neighbourhood Service Station", "Community Centre",
                "Culture Plaza", "Fitness Park", "Elderly Care Centre", "Heritage Corridor")
NEW_GROUP_PARTS = (("垃圾分类", "志愿服务队"), ("银发", "志愿者服务队"), ("亲子", "志愿队"), ("护绿", "志愿服务队"),
                   ("文明养宠", "志愿服务队"), ("楼道清洁", "服务队"), ("助餐", "志愿服务队"), ("防诈宣传", "志愿队"),
                   ("书画", "协会"), ("摄影", "协会"), ("夕阳红", "合唱团"), ("青春", "舞蹈队"), ("跑步", "俱乐部"),
                   ("读书", "俱乐部"), ("手工", "团队"), ("健步走", "团队"), ("围棋", "协会"), ("邻里", "合唱团"))
NEW_GROUP_EN = ("Running Club", "Volunteer Team", "Parents Association", "International Choir", "Book Club",
                "Green Volunteers", "Hiking Club", "Chess Association")
NEW_PROJECT_PARTS = (("加装电梯", "工程"), ("楼道照明改造", "项目"), ("阳台花园共建", "计划"), ("雨污分流", "工程"),
                     ("非机动车棚改造", "项目"), ("银发课堂", "计划"), ("邻里议事", "微自治项目"), ("爱心冰箱", "微公益项目"),
                     ("口袋花园", "微公益项目"), ("楼道微改造", "行动"), ("健康守护", "行动"), ("共享工具箱", "项目"),
                     ("暖心午餐", "计划"), ("小区停车治理", "项目"), ("睦邻文化", "工程"), ("清洁家园", "行动"))
NEW_PROJECT_EN = ("Balcony Garden Project", "Green Commute Programme", "Safe Stairwell Project",
                  "Neighbourhood Lunch Programme", "Smart Parking Project", "Elderly Digital Literacy Programme",
                  "Community Fridge Project", "Bilingual Storytime Programme")
NEW_TRADE_NAMES = (("悦邻", "Yuelin"), ("绿叶", "Lvye"), ("益家", "Yijia"), ("百润", "Bairun"), ("乐邦", "Lebang"),
                   ("恒信", "Hengxin"), ("鼎盛", "Dingsheng"), ("清源", "Qingyuan"), ("盛世", "Shengshi"),
                   ("美邻", "Meilin"), ("沐阳", "Muyang"), ("优禾", "Youhe"), ("聚贤", "Juxian"), ("康宁", "Kangning"),
                   ("凯悦", "Kaiyue"), ("同心", "Tongxin"), ("嘉信", "Jiaxin"), ("金穗", "Jinsui"), ("和顺", "Heshun"),
                   ("远航", "Yuanhang"), ("汇丰源", "Huifengyuan"), ("新世纪", "Xinshiji"), ("晨光", "Chenguang"),
                   ("青禾", "Qinghe"), ("福瑞", "Furui"), ("鸿运", "Hongyun"), ("安居", "Anju"), ("佳园", "Jiayuan"))
NEW_ENTERPRISE_NOUNS = (("便利店有限公司", "Convenience Store Co., Ltd."), ("餐饮管理有限公司", "Catering Co., Ltd."),
                        ("咖啡有限公司", "Coffee Co., Ltd."), ("律师事务所", "Law Firm"), ("口腔门诊部有限公司", "Dental Clinic Co., Ltd."),
                        ("物业服务有限公司", "Property Services Co., Ltd."), ("教育科技有限公司", "Education Technology Co., Ltd."),
                        ("家政服务有限公司", "Housekeeping Co., Ltd."), ("健身管理有限公司", "Fitness Co., Ltd."),
                        ("酒店", "Hotel"), ("托育服务有限公司", "Childcare Co., Ltd."), ("文化传媒有限公司", "Culture Media Co., Ltd."))
NEW_TEMP_PURPOSES = ("迎新春走访", "疫苗接种服务", "旧改征收", "暑期托管", "垃圾分类回头看", "楼宇党建", "夜间经济", "民生实事",
                     "国际社区建设", "体育赛事保障", "业委会换届", "健康驿站")
NEW_ESTATES = (("联洋雅苑", "Lianyang Yayuan"), ("芳甸小区", "Fangdian Estate"), ("锦绣苑", "Jinxiu Court"),
               ("樱桃公寓", "Yingtao Apartments"), ("梅园新村", "Meiyuan Xincun"), ("海桐公寓", "Haitong Apartments"),
               ("长柳苑", "Changliu Court"), ("玉兰公寓", "Yulan Apartments"))
FOREIGN_NEW_EN = ("Maria Gonzalez", "Kenji Watanabe", "Anna Schmidt", "Pierre Laurent", "Olga Petrova",
                  "David Miller", "Min-jun Kim", "Sofia Rossi", "Lucas Meyer", "Hannah Becker", "Yuki Tanaka",
                  "Carlos Silva", "Emma Johansson", "Ivan Sokolov", "Priya Sharma", "Thomas Dubois",
                  "Laura Fischer", "Ahmed Hassan", "Chloe Martin", "Noah Wilson")


class Catalogue:
    """Known entities from the world's registers, and pools of new ones per split."""

    def __init__(self, w: World, rng: random.Random) -> None:
        self.known: dict[str, list[Entity]] = {t: [] for t in LABELS}
        self.by_id: dict[str, Entity] = {}
        self.names: set[str] = set()  # every name the graph holds or a text uses for it (new names avoid them)
        self.graph_names: set[str] = set()  # the titles and aliases the graph holds (what a gazetteer feeds jieba)
        self._known(w)
        self.new: dict[str, dict[str, list[Entity]]] = {s: {t: [] for t in LABELS} for s in SPLITS}
        self._new(w, rng)

    def _add(self, e: Entity) -> Entity:
        self.known[e.type].append(e)
        assert e.node_id is not None
        self.by_id[e.node_id] = e
        self.names.update((e.zh, *e.zh_forms))
        self.graph_names.add(e.zh)
        if e.en:  # a known entity's English name is the one its register holds (name_en, latin_name)
            self.names.add(e.en)
            self.graph_names.add(e.en)
        return e

    def _known(self, w: World) -> None:
        regs = w.registers
        mid = ONTOLOGY.make_id

        def english(register: str) -> dict[str, str]:
            """Register key (first column) → the English name the register gives (none: not named in English)."""
            reg = regs[register]
            i = reg.columns.index(EN_COLUMN)
            return {str(row[0]): str(row[i]) for row in reg.rows if row[i]}

        area_en = english("areas")
        for row in regs["areas"].rows:
            key, name = row[0], row[1]
            if not name:
                continue
            hh, pop = row[8], row[9]
            values = {k: float(v) for k, v in (("households", hh), ("residents", pop)) if v not in ("", None)}
            if key.startswith("RA"):
                self._add(Entity("Area", name, area_en.get(key), mid("Area", key), values,
                                 (f"{name}居民区", f"{name}小区"), "area"))
            elif key == "lianyang":
                self._add(Entity("Area", name, area_en.get(key), mid("Area", key), values, (), "community"))
            else:
                self._add(Entity("Area", name, area_en.get(key), mid("Area", key), values, (), "subdistrict"))
        for b in w.buildings:
            self._add(Entity("Area", b.name, b.en, mid("Area", b.key),
                             {"households": float(b.households)}, (), "building"))
        members: Counter[str] = Counter()
        for row in regs["party_members"].rows:
            members[row[2]] += 1
            if row[3]:
                members[row[3]] += 1
        co_building: Counter[str] = Counter(row[0] for row in regs["co_building"].rows)
        org_en = english("party_orgs")
        for row in regs["party_orgs"].rows:
            key, name = row[0], row[1]
            if not name:
                continue
            values = {"party_members": float(members[key])} if members[key] else {}
            if co_building[key]:
                values["co_building_units"] = float(co_building[key])
            kind = {"C": "committee", "A": "area_org", "D": "direct", "B": "building_group", "T": "temporary",
                    "E": "enterprise_branch", "X": "external"}[key[0]]
            forms: tuple[str, ...] = ("联洋社区党委",) if kind == "committee" else ()
            self._add(Entity("PartyOrganization", name, org_en.get(key), mid("PartyOrganization", key), values, forms,
                             kind))
        for v in places.VENUES:
            values = {"parking_spaces": float(v.parking)} if v.parking else {}
            self._add(Entity("Venue", v.name, v.en, mid("Venue", v.key), values, (), v.kind))
        volunteers: Counter[str] = Counter(row[2] for row in regs["group_members"].rows)
        for key, name, kind, founded, _parent, _desc, en in places.GROUPS:
            self._add(Entity("Group", name, en, mid("Group", key),
                             {"volunteers": float(volunteers[key]), "year": float(founded)}, (), kind))
        project_en = english("projects")
        for row in regs["projects"].rows:
            key, name, year = row[0], row[1], row[4]
            if name:
                self._add(Entity("Project", name, project_en.get(key), mid("Project", key), {"year": float(year)}, (),
                                 "project"))
        for e in w.enterprises:
            self._add(Entity("Enterprise", e.name, e.latin, mid("Enterprise", e.uscc), {}, (), e.industry))
        residents = {r.key: r for r in w.residents}
        for row in regs["leaders"].rows:
            r = residents.get(row[0])
            if r is None or r.foreign or row[5] not in ("secretary", "captain"):
                continue
            target = row[4] or row[3]
            self._add(Entity("Person", r.name.name, r.name.latin, mid("Person", r.key), {}, (),
                             f"{row[5]}:{target}"))
        foreign_volunteers = {row[0] for row in regs["group_members"].rows if row[2] == "G009"}
        for key in sorted(foreign_volunteers)[:120]:
            r = residents.get(key)
            if r is not None and r.foreign:
                # Texts rarely write a foreigner's own-script name: they use the Latin one.
                self._add(Entity("Person", r.name.latin, r.name.latin, mid("Person", r.key), {}, (), "foreign"))
        self.names.update(r.name.name for r in w.residents)
        self.names.update(r.name.latin for r in w.residents)
        self.graph_names.update(r.name.name for r in w.residents)
        self.graph_names.update(r.name.latin for r in w.residents)
        self.graph_names.update(e.latin for e in w.enterprises)

    def _fresh(self, make: Callable[[], tuple[str, str | None, str]], etype: str, tries: int = 60) -> Entity | None:
        for _ in range(tries):
            zh, en, kind = make()
            if zh in self.names or (en is not None and en in self.names):
                continue
            self.names.add(zh)
            if en:
                self.names.add(en)
            return Entity(etype, zh, en, None, {}, (), kind)
        return None

    def _new(self, w: World, rng: random.Random) -> None:
        areas = places.RESIDENTIAL_AREAS
        no_branch = [e for e in w.enterprises if not e.party_branch]
        chosen = {(e.name) for e in w.enterprises}
        trades = list(places.TRADE_NAMES) + list(NEW_TRADE_NAMES)

        def building_group() -> tuple[str, str | None, str]:
            a = rng.choice(areas)
            n = a.buildings + rng.randint(1, 8)  # buildings the register does not have yet
            return f"{a.name}{n}号楼党小组", None, "building_group"

        def enterprise_branch() -> tuple[str, str | None, str]:
            e = rng.choice(no_branch)
            return f"{e.name}党支部", places.enterprise_branch_en(e.latin), "enterprise_branch"

        def temp_branch() -> tuple[str, str | None, str]:
            p = rng.choice(NEW_TEMP_PURPOSES)
            return f"{p}临时党支部", None, "temporary"

        def joint_branch() -> tuple[str, str | None, str]:
            x = rng.choice(("律师行业", "商务楼宇", "餐饮行业", "物业企业", "教育培训行业", "外资企业", "快递小哥"))
            return f"联洋社区{x}联合党支部", None, "joint"

        def venue() -> tuple[str, str | None, str]:
            a = rng.choice(areas)
            part = rng.choice(NEW_VENUE_PARTS)
            base = a.name if rng.random() < 0.6 else rng.choice((a.road, "联洋社区", "联洋"))
            en = f"{a.en} {rng.choice(NEW_VENUE_EN)}"
            return f"{base}{part}", en, "venue"

        def group() -> tuple[str, str | None, str]:
            a = rng.choice(areas)
            theme, suffix = rng.choice(NEW_GROUP_PARTS)
            base = a.name if rng.random() < 0.6 else "联洋"
            en = f"{rng.choice((a.en, 'Lianyang', 'Lianyang Expat'))} {rng.choice(NEW_GROUP_EN)}"
            return f"{base}{theme}{suffix}", en, "group"

        def project() -> tuple[str, str | None, str]:
            a = rng.choice(areas)
            theme, suffix = rng.choice(NEW_PROJECT_PARTS)
            base = a.name if rng.random() < 0.5 else ""
            en = f"{rng.choice((a.en, 'Lianyang', 'Huamu'))} {rng.choice(NEW_PROJECT_EN)}"
            return f"{base}{theme}{suffix}", en, "project"

        def enterprise() -> tuple[str, str | None, str]:
            (tz, tp), (noun, noun_en) = rng.choice(trades), rng.choice(NEW_ENTERPRISE_NOUNS)
            if rng.random() < 0.5:  # an unused combination of the registers' own name parts
                tz, tp = rng.choice(places.TRADE_NAMES)
                _i, noun, noun_en, _r, _w = rng.choice(places.ENTERPRISE_KINDS)
            zh = f"上海{tz}{noun}" if rng.random() < 0.8 else f"{tz}{noun}"
            return zh, f"Shanghai {tp} {noun_en}", "enterprise"

        def area() -> tuple[str, str | None, str]:
            if rng.random() < 0.5:
                a = rng.choice(areas)
                return f"{a.name}{a.buildings + rng.randint(1, 6)}号楼", None, "building"
            zh, en = rng.choice(NEW_ESTATES)
            return zh + rng.choice(("", "小区", "居民区")), en, "area"

        def person() -> tuple[str, str | None, str]:
            n = chinese_name(rng, rng.choice(("male", "female")))
            return n.name, n.latin, "person"

        def foreigner() -> tuple[str, str | None, str]:
            name = rng.choice(FOREIGN_NEW_EN)
            return name, name, "foreign"

        makers: dict[str, list[Callable[[], tuple[str, str | None, str]]]] = {
            "PartyOrganization": [building_group, building_group, enterprise_branch, temp_branch, joint_branch],
            "Venue": [venue], "Group": [group], "Project": [project], "Enterprise": [enterprise],
            "Area": [area], "Person": [person, person, foreigner],
        }
        sizes = {"train": 40, "dev": 16, "test": 16}
        for split in SPLITS:
            for etype, fns in makers.items():
                pool = self.new[split][etype]
                for i in range(sizes[split]):
                    e = self._fresh(fns[i % len(fns)], etype)
                    if e is not None and e.zh not in chosen:
                        pool.append(e)

    def pick(self, rng: random.Random, etype: str, split: str, *, new: bool | None = None,
             kind: str | None = None, english: bool = False) -> Entity:
        """A known or (with probability NEW_SHARE) new entity of ``etype``; ``kind`` narrows known ones."""
        want_new = rng.random() < NEW_SHARE if new is None else new
        pool = self.new[split][etype] if want_new else self.known[etype]
        if want_new and etype == "Person" and not english:
            kind = "person"  # a Chinese text's new resident has a Chinese name
        if kind is not None:
            pool = [e for e in pool if e.kind.startswith(kind)] or pool
        if english:
            # English texts name what has an English name (every known place, organisation and project has one in
            # its register; a new building, building group or temporary branch has none: name another).
            pool = [e for e in pool if e.en] or [e for e in self.new[split][etype] if e.en] or pool
        return rng.choice(pool)


# --- writing one document ---------------------------------------------------------------------------


@dataclass
class Doc:
    language: str
    parts: list[str] = field(default_factory=list)
    spans: list[list[Any]] = field(default_factory=list)
    facts: list[list[Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    length: int = 0

    def text(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def entity(self, e: Entity, surface: str) -> int:
        start = self.length
        self.text(surface)
        self.spans.append([start, self.length, e.type, e.node_id, e.status])
        return len(self.spans) - 1

    def fact(self, measure: str, value: float, surface: str, subject: int | None, graph: float | None) -> None:
        start = self.length
        self.text(surface)
        self.facts.append([start, self.length, measure, value, subject])
        self.checks.append({"graph_value": graph, "disagrees": graph is not None and graph != value})

    def body(self) -> str:
        return "".join(self.parts)


_SLOT = re.compile(r"\{(\w+)\}")
Fill = dict[str, Any]  # slot → (Entity, surface) | ("fact", measure, value, surface, subject slot, graph value) | str


def render(doc: Doc, template: str, fill: Fill) -> None:
    """Append ``template`` with its ``{slot}``s filled: entities become spans, facts become fact spans."""
    pos = 0
    index: dict[str, int] = {}
    for m in _SLOT.finditer(template):
        literal = template[pos:m.start()]
        if literal.startswith(".") and doc.parts and doc.parts[-1].endswith("."):
            literal = literal[1:]  # "… Co., Ltd." ends a sentence with one full stop, as writers do
        doc.text(literal)
        v = fill[m.group(1)]
        if isinstance(v, tuple) and v and isinstance(v[0], Entity):
            index[m.group(1)] = doc.entity(v[0], v[1])
        elif isinstance(v, tuple) and v and v[0] == "fact":
            _, measure, value, surface, subject, graph = v
            doc.fact(measure, value, surface, index.get(subject) if subject else None, graph)
        else:
            doc.text(str(v))
        pos = m.end()
    tail = template[pos:]
    if tail.startswith(".") and doc.parts and doc.parts[-1].endswith("."):
        tail = tail[1:]
    doc.text(tail)


class Composer:
    """Sentences about the world, many shapes per topic, Chinese and English."""

    def __init__(self, cat: Catalogue, rng: random.Random, split: str, language: str) -> None:
        self.cat, self.rng, self.split, self.en = cat, rng, split, language == "en"

    # entities and their surfaces

    def pick(self, etype: str, kind: str | None = None, new: bool | None = None) -> Entity:
        return self.cat.pick(self.rng, etype, self.split, new=new, kind=kind, english=self.en)

    def surface(self, e: Entity) -> str:
        if self.en:
            name = e.en or e.zh
            if e.type == "Area" and e.kind == "area" and e.node_id and self.rng.random() < 0.3:
                name += " Residential Area"
            if self.rng.random() < 0.08 and e.type not in ("Person", "Enterprise"):
                name = name.upper() if len(name) < 18 else name  # headline capitals now and then
            return name
        forms = (e.zh, *e.zh_forms)
        return forms[0] if len(forms) == 1 or self.rng.random() < 0.5 else self.rng.choice(forms[1:])

    def ent(self, etype: str, kind: str | None = None, new: bool | None = None) -> tuple[Entity, str]:
        e = self.pick(etype, kind, new)
        return e, self.surface(e)

    # numbers

    def number(self, measure: str, e: Entity, subject: str, lo: int, hi: int,
               unit_zh: str = "", unit_en: str = "") -> tuple[Any, ...]:
        graph = e.values.get(measure)
        if graph is not None and self.rng.random() < 0.55:
            value = graph  # agrees with the register
        elif graph is not None and measure != "year":
            value = float(max(1, round(graph * self.rng.uniform(0.8, 1.25))))
            if value == graph:
                value += 1
        elif graph is not None:
            value = graph + self.rng.choice((-2, -1, 1))
        else:
            value = float(self.rng.randint(lo, hi))
        n = int(value)
        approx = measure not in ("year",) and self.rng.random() < 0.3
        if measure == "year":
            digits = str(n)
        elif n >= 1000 and self.rng.random() < 0.6:
            digits = f"{n:,}"
        else:
            digits = str(n)
        if self.en:
            pre = self.rng.choice(("about ", "around ", "some ", "over ", "nearly ")) if approx else ""
            surface = f"{pre}{digits}{unit_en}"
        else:
            if approx and self.rng.random() < 0.3:
                surface = f"{digits}余{unit_zh}"
            else:
                pre = self.rng.choice(("约", "近", "逾", "超过")) if approx else ""
                surface = f"{pre}{digits}{unit_zh}"
        return ("fact", measure, value, surface, subject, graph)

    def choice(self, options: Sequence[str]) -> str:
        return self.rng.choice(list(options))

    # sentences: each returns (template, fill)

    def s_party_members(self) -> tuple[str, Fill]:
        org = self.pick("PartyOrganization", kind=self.choice(("area_org", "area_org", "building_group", "committee",
                                                               "temporary", "enterprise_branch", "direct")))
        f: Fill = {"org": (org, self.surface(org))}
        lo, hi = (3, 25) if org.kind in ("building_group", "temporary", "enterprise_branch", "joint") else (80, 400)
        if org.kind == "committee":
            lo, hi = 1500, 2600
        if self.en:
            f["n"] = self.number("party_members", org, "org", lo, hi, unit_en=" party members")
            t = self.choice(("The {org} has {n}.", "{org} now counts {n}, the report says.",
                             "With {n}, the {org} is one of the largest in the community.",
                             "According to the {org}, it had {n} at the end of the year."))
        else:
            f["n"] = self.number("party_members", org, "org", lo, hi, unit_zh=self.choice(("名", "人")))
            t = self.choice(("{org}共有党员{n}。", "{org}现有党员{n}，下设若干党小组。", "截至年底，{org}党员总数为{n}。",
                             "目前{org}有在册党员{n}，其中退休党员占多数。", "{org}（党员{n}）积极开展“双报到”活动。",
                             "据统计，{org}党员{n}，较上年有所增加；"))
        return t, f

    def s_co_building(self) -> tuple[str, Fill]:
        org = self.pick("PartyOrganization", kind=self.choice(("committee", "committee", "area_org")))
        e1, e2 = self.pick("Enterprise"), self.pick("Enterprise")
        v = self.pick("Venue")
        f: Fill = {"org": (org, self.surface(org)), "e1": (e1, self.surface(e1)), "e2": (e2, self.surface(e2)),
                   "v": (v, self.surface(v))}
        lo, hi = (20, 45) if org.kind == "committee" else (2, 6)
        if self.en:
            f["n"] = self.number("co_building_units", org, "org", lo, hi, unit_en=" co-building units")
            t = self.choice(("The {org} works with {n}, among them {e1}, {e2} and the {v}.",
                             "{e1} and {e2} are two of the {n} that signed agreements with the {org}.",
                             "In total {n} partner the {org}; new this year: {e1}."))
        else:
            f["n"] = self.number("co_building_units", org, "org", lo, hi, unit_zh=self.choice(("家", "个")))
            t = self.choice(("{org}与{n}共建单位签订区域化党建协议，其中包括{e1}、{e2}和{v}。",
                             "目前，{org}已联系共建单位{n}，{e1}、{e2}等单位积极认领服务项目。",
                             "{e1}与{e2}作为{org}{n}共建单位中的代表作了交流发言。",
                             "{org}共有{n}共建单位；{e1}今年首次加入。"))
        return t, f

    def s_parking(self) -> tuple[str, Fill]:
        v = self.pick("Venue", kind=self.choice(("plaza", "activity_centre", "sports", "party", "venue")))
        a = self.pick("Area", kind="area")
        f: Fill = {"v": (v, self.surface(v)), "a": (a, self.surface(a))}
        if self.en:
            f["n"] = self.number("parking_spaces", v, "v", 20, 260, unit_en=" parking spaces")
            t = self.choice(("The {v} offers {n}, shared with residents of {a}.",
                             "{n} at the {v} are now open to {a} in the evening.",
                             "Parking remains tight: the {v} has only {n}."))
        else:
            f["n"] = self.number("parking_spaces", v, "v", 20, 260, unit_zh=self.choice(("个", "个", "只")))
            t = self.choice(("{v}设有{n}停车位，与{a}居民错时共享。", "{v}共设{n}停车位，夜间向{a}居民开放。",
                             "经协调，{v}的{n}车位已向{a}开放错峰停车。", "针对停车难，{a}与{v}签订协议，共享车位{n}。"))
        return t, f

    def s_area_counts(self) -> tuple[str, Fill]:
        a = self.pick("Area", kind=self.choice(("area", "area", "building", "community")))
        f: Fill = {"a": (a, self.surface(a))}
        measure = self.choice(("households", "residents", "foreign_residents", "area_m2"))
        if a.kind == "building":
            measure = "households"
        ranges = {"households": (40, 3000), "residents": (200, 9000), "foreign_residents": (50, 1200),
                  "area_m2": (20_000, 300_000)}
        if a.kind == "community":
            ranges = {"households": (12_000, 20_000), "residents": (40_000, 55_000),
                      "foreign_residents": (3_000, 6_000),
                      "area_m2": (1_000_000, 3_000_000)}
        if a.kind == "building":
            ranges["households"] = (40, 200)
        lo, hi = ranges[measure]
        if self.en:
            unit = {"households": " households", "residents": " residents", "foreign_residents": " foreign residents",
                    "area_m2": " square metres"}[measure]
            f["n"] = self.number(measure, a, "a", lo, hi, unit_en=unit)
            if measure == "area_m2":
                t = self.choice(("{a} covers {n}.", "{a} has {n} of green space.", "Spread over {n}, {a} is large."))
            else:
                t = self.choice(("{a} is home to {n}.", "With {n}, {a} keeps growing.",
                                 "{a} has {n}, the latest count shows.", "Today {n} live in {a}."))
        else:
            unit = {"households": "户", "residents": "人", "foreign_residents": "名", "area_m2": "平方米"}[measure]
            f["n"] = self.number(measure, a, "a", lo, hi, unit_zh=unit)
            options = {"households": ("{a}共有居民{n}。", "{a}现有住户{n}，", "{a}总户数{n}，老龄化程度较高。"),
                       "residents": ("{a}常住人口{n}。", "{a}现有居民{n}，", "目前{a}实有人口{n}，"),
                       "foreign_residents": ("{a}居住着境外人士{n}，", "{a}现有外籍居民{n}，来自30多个国家和地区。",
                                             "据服务站统计，{a}有境外居民{n}。"),
                       "area_m2": ("{a}占地面积{n}，", "{a}总面积为{n}。", "{a}绿化面积达{n}，")}[measure]
            t = self.choice(options)
        return t, f

    def s_group(self) -> tuple[str, Fill]:
        g = self.pick("Group")
        v = self.pick("Venue")
        f: Fill = {"g": (g, self.surface(g)), "v": (v, self.surface(v))}
        if self.rng.random() < 0.35:
            if self.en:
                f["n"] = self.number("year", g, "g", 2005, 2024)
                t = self.choice(("Founded in {n}, the {g} meets at the {v} every week.",
                                 "The {g} (set up in {n}) rehearses at the {v}."))
            else:
                f["n"] = self.number("year", g, "g", 2005, 2024, unit_zh="年")
                t = self.choice(("{g}成立于{n}，每周在{v}开展活动。", "{n}，{g}正式组建，活动阵地设在{v}。",
                                 "成立于{n}的{g}常年在{v}活动。"))
            return t, f
        if self.en:
            f["n"] = self.number("volunteers", g, "g", 8, 300, unit_en=" volunteers")
            t = self.choice(("The {g} has {n} and serves at the {v}.", "{n} from the {g} helped at the {v}.",
                             "At the {v}, the {g} ({n}) ran a language exchange."))
        else:
            f["n"] = self.number("volunteers", g, "g", 8, 300, unit_zh="名")
            t = self.choice(("{g}现有志愿者{n}，定期在{v}开展服务。", "{g}的{n}志愿者在{v}参与值守。",
                             "在{v}，{g}组织志愿者{n}开展便民服务。", "{g}共有队员{n}；本季度在{v}服务40余场次。"))
        return t, f

    def s_project(self) -> tuple[str, Fill]:
        p = self.pick("Project")
        e, v, a = self.pick("Enterprise"), self.pick("Venue"), self.pick("Area", kind="area")
        f: Fill = {"p": (p, self.surface(p)), "e": (e, self.surface(e)), "v": (v, self.surface(v)),
                   "a": (a, self.surface(a))}
        known_bare = p.node_id is not None  # register names carry no suffix: texts quote them
        if self.en:
            t = self.choice(("{e} sponsored the {p} at the {v}.", "Residents of {a} joined the {p} held at the {v}.",
                             "The {p}, run with {e}, moved to the {v} this spring."))
        elif known_bare:
            t = self.choice(("由{e}认领的“{p}”项目在{v}举行。", "“{p}”活动走进{a}，吸引众多居民参与。",
                             "{e}连续第二年认领“{p}”项目，活动地点为{v}。", "在{v}，“{p}”吸引了{a}的居民。",
                             "{a}的居民参加了{v}举办的《{p}》。"))
        else:
            t = self.choice(("{a}启动{p}，由{e}提供支持。", "{p}在{v}正式启动，{e}派出志愿者参与。",
                             "{e}出资支持的{p}已在{a}落地。", "会议讨论了{p}的推进情况，并商定由{e}牵头；",
                             "{p}（{a}）入选本年度优秀案例。"))
        return t, f

    def s_person(self) -> tuple[str, Fill]:
        if self.en:
            p = self.pick("Person", kind=self.choice(("foreign", "foreign", "person", "secretary")))
            v, g = self.pick("Venue"), self.pick("Group")
            f: Fill = {"p": (p, self.surface(p)), "v": (v, self.surface(v)), "g": (g, self.surface(g))}
            t = self.choice(("{p}, a member of the {g}, visited the {v} to ask about residence registration.",
                             "\"We feel at home here,\" said {p}, who volunteers with the {g}.",
                             "Volunteer {p} translated for newcomers at the {v}.",
                             "{p} came to the {v} with questions about a work permit; the {g} followed up."))
            return t, f
        p = self.pick("Person", kind=self.choice(("secretary", "captain", "person")))
        org, g = self.pick("PartyOrganization", kind="area_org"), self.pick("Group")
        f = {"p": (p, self.surface(p)), "org": (org, self.surface(org)), "g": (g, self.surface(g))}
        t = self.choice(("{org}书记{p}介绍了今年的重点工作。", "{g}队长{p}表示，将继续扩大志愿者队伍。",
                         "居民{p}说：“{g}的活动让邻里更亲近了。”", "{p}（{g}）在会上发言，建议增设活动场地。",
                         "会议由{org}书记{p}主持。", "{p}同志当选{g}新一任队长，{org}表示祝贺。"))
        return t, f

    def s_new_building_group(self) -> tuple[str, Fill]:
        org = self.pick("PartyOrganization", kind=self.choice(("building_group", "enterprise_branch", "temporary",
                                                               "joint")))
        parent = self.pick("PartyOrganization", kind="area_org", new=False)
        f: Fill = {"o": (org, self.surface(org)), "p": (parent, self.surface(parent))}
        if self.en:
            f["n"] = self.number("party_members", org, "o", 3, 20, unit_en=" members")
            t = self.choice(("A new party group, the {o}, was set up under the {p} with {n}.",
                             "The {p} approved the {o} ({n})."))
        else:
            f["n"] = self.number("party_members", org, "o", 3, 20, unit_zh="名")
            t = self.choice(("经{p}批准，{o}正式成立，首批党员{n}。", "{o}于近日成立，隶属{p}，现有党员{n}。",
                             "新成立的{o}有党员{n}，由{p}指导开展工作；", "{p}指导组建{o}，{n}党员亮身份、作表率。"))
        return t, f

    def s_enterprise(self) -> tuple[str, Fill]:
        e = self.pick("Enterprise")
        a, v = self.pick("Area", kind="area"), self.pick("Venue")
        f: Fill = {"e": (e, self.surface(e)), "a": (a, self.surface(a)), "v": (v, self.surface(v))}
        if self.en:
            t = self.choice(("{e} opened an office near {a} and offered free checks at the {v}.",
                             "Staff of {e} volunteered at the {v} last weekend.",
                             "{e}, a new neighbour in {a}, joined the community's business network."))
        else:
            t = self.choice(("{e}入驻{a}周边，并在{v}开展公益服务。", "新开业的{e}为{a}老人提供上门服务。",
                             "{e}的员工志愿者走进{v}，为居民义务服务。", "{e}、{v}与{a}共同举办了邻里节。",
                             "辖区内的{e}主动对接{a}，认领了服务清单。"))
        return t, f

    def s_foreign(self) -> tuple[str, Fill]:
        community = next(e for e in self.cat.known["Area"] if e.kind == "community")
        station = self.cat.by_id[ONTOLOGY.make_id("Venue", "V02")]
        f: Fill = {"c": (community, self.surface(community)), "s": (station, self.surface(station))}
        if self.en:
            f["n"] = self.number("foreign_residents", community, "c", 4000, 6000, unit_en=" foreign residents")
            t = self.choice(("{c} is home to {n} from more than 40 countries; the {s} helps them settle in.",
                             "The {s} serves {n} living in {c}.", "{c} counts {n}, the {s} reports."))
        else:
            f["n"] = self.number("foreign_residents", community, "c", 4000, 6000, unit_zh="名")
            t = self.choice(("{c}现有境外人士{n}，{s}为他们提供双语服务。", "{s}服务{c}境外居民{n}。",
                             "据{s}统计，{c}有外籍居民{n}，来自40多个国家和地区。"))
        return t, f

    def s_filler(self) -> tuple[str, Fill]:
        if self.en:
            return self.choice(("Residents welcomed the change.", "The next meeting is planned for next month.",
                                "Feedback from neighbours has been positive overall.",
                                "Details will be posted on the community notice board.")), {}
        return self.choice(("与会人员一致同意上述安排。", "居民反响良好。", "下一步将继续做好宣传引导工作。",
                            "相关情况将在居务公开栏公示。", "会议还通报了近期安全生产情况。")), {}


TOPICS: dict[str, tuple[str, ...]] = {
    # doc kind → topics it draws sentences from (repeats weight them)
    "report": ("s_party_members", "s_party_members", "s_co_building", "s_area_counts", "s_group", "s_project",
               "s_new_building_group", "s_enterprise", "s_person", "s_parking"),
    "news": ("s_project", "s_group", "s_enterprise", "s_person", "s_parking", "s_area_counts", "s_new_building_group"),
    "minutes": ("s_person", "s_project", "s_parking", "s_new_building_group", "s_co_building", "s_filler",
                "s_enterprise", "s_group"),
    "write_up": ("s_project", "s_project", "s_group", "s_enterprise", "s_area_counts", "s_person"),
    "case_note": ("s_foreign", "s_person", "s_person", "s_group", "s_area_counts", "s_filler"),
}
TITLES_ZH = {"report": ("{y}年社区工作报告", "{y}年度党建工作总结", "关于{y}年社区治理工作的报告"),
             "news": ("社区新闻：邻里服务再升级", "社区新闻｜活动侧记（第{k}期）", "社区动态：家门口的新变化"),
             "minutes": ("党建联席会议纪要", "{y}年第{k}次居民议事会会议纪要", "党建联席会议纪要（第{k}期）"),
             "write_up": ("项目案例：社区微更新的一年", "{y}年微项目案例汇编（{k}）", "微公益项目介绍（{k}）"),
             "case_note": ("境外人员服务站个案记录（{y}-{k}）", "服务站个案记录第{k}号", "境外居民服务记录{y}-{k}")}
TITLES_EN = {"report": ("Annual Community Report {y}", "Community Work Report, {y}", "Party Building Report {y}"),
             "news": ("Community News: Around the Neighbourhood", "Neighbourhood Newsletter, Issue {k}",
                      "Neighbourhood News {y}"),
             "minutes": ("Minutes of the Residents' Council, Meeting {k}", "Minutes: Co-building Meeting No. {k}",
                         "Meeting Minutes {y}-{k}"),
             "write_up": ("Project Write-up {y}: Community Micro-projects", "Project Profile No. {k}",
                          "Project Profile {y}"),
             "case_note": ("Service Station Case Note {y}-{k}", "Case Note No. {k}",
                           "Foreign Residents Desk, Case Record {k}")}
KINDS = (("report", 0.22), ("news", 0.3), ("minutes", 0.2), ("write_up", 0.14), ("case_note", 0.14))


def compose(cat: Catalogue, rng: random.Random, doc_id: str, seed: int, language: str) -> dict[str, Any]:
    split = split_of(doc_id, seed)
    kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    if kind == "case_note" and rng.random() < 0.5:
        language = "en"  # the station writes half its case notes in English
    c = Composer(cat, rng, split, language)
    published = date(2023, 1, 1) + timedelta(days=rng.randrange(700))
    # Titles name no entity with a span: the body does (a title is also read as text, so it must stay clean).
    fmt = {"y": published.year, "k": rng.randint(1, 30)}
    title = rng.choice((TITLES_EN if c.en else TITLES_ZH)[kind]).format(**fmt)
    doc = Doc(language)
    doc.text(title + "\n\n")
    # The date is written under the title, as the office writes it (readers take it as the publication date).
    d = published
    if not c.en and kind == "minutes":
        doc.text(f"时间：{d.year}年{d.month}月{d.day}日\n地点：{rng.choice(('会议室', '党群服务站二楼', '居委会议室'))}\n\n")
    elif not c.en:
        doc.text(rng.choice((f"发布日期：{d.year}年{d.month}月{d.day}日", f"（{d.year}年{d.month}月{d.day}日）",
                             f"{d.isoformat()}", f"日期：{d.year}/{d.month}/{d.day}")) + "\n\n")
    else:
        doc.text(rng.choice((f"Date: {d.isoformat()}", f"Published {d.day} {d:%B} {d.year}",
                             f"{d:%B} {d.day}, {d.year}")) + "\n\n")
    n_par = rng.randint(2, 4)
    for p in range(n_par):
        for s in range(rng.randint(2, 4)):
            topic = rng.choice(TOPICS[kind])
            template, fill = getattr(c, topic)()
            if c.en and s and rng.random() < 0.25:
                doc.text(rng.choice(("Meanwhile, ", "Also, ", "In addition, ", "Separately, ")))
                if not template.startswith("{"):  # "Also, the …": the connector takes the capital
                    template = template[0].lower() + template[1:]
            elif not c.en and s and rng.random() < 0.25:
                doc.text(rng.choice(("此外，", "同时，", "另据统计，", "会上，", "与此同时，")))
            render(doc, template, fill)
            if c.en:
                doc.text(" ")
            elif template.endswith(("，", "；")):
                doc.text(rng.choice(("此项工作得到居民好评。", "相关工作有序推进。", "")) or "")
        if c.en and doc.parts and doc.parts[-1] == " ":
            doc.parts[-1] = ""
            doc.length -= 1
        if p < n_par - 1:
            doc.text("\n\n")
    text = doc.body().rstrip()
    return {"id": doc_id, "title": title, "language": language, "doc_kind": kind,
            "published": published.isoformat(), "split": split, "text": text, "spans": doc.spans,
            "facts": doc.facts, "fact_checks": doc.checks}


# --- files -------------------------------------------------------------------------------------------


def _paragraphs(rec: dict[str, Any]) -> list[str]:
    body = str(rec["text"])[len(rec["title"]) + 2:]
    return body.split("\n\n")


def _docx_bytes(title: str, paragraphs: list[str]) -> bytes:
    import docx  # python-docx: a dependency of the text readers

    d = docx.Document()
    d.core_properties.created = FIXED_TIME
    d.core_properties.modified = FIXED_TIME
    d.core_properties.title = title
    d.add_heading(title, level=1)
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    # Zip entries carry the save time: rewrite them to a fixed instant (byte-identical files for a seed).
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2024, 6, 30, 9, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def _write_file(out_dir: Path, rec: dict[str, Any], fmt: str) -> str:
    name = f"{rec['id']}.{fmt}"
    path = out_dir / name
    title, paras = str(rec["title"]), _paragraphs(rec)
    if fmt == "txt":
        path.write_text(str(rec["text"]) + "\n", encoding="utf-8")
    elif fmt == "md":
        path.write_text(f"# {title}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")
    elif fmt == "html":
        lang = "zh-CN" if rec["language"] == "zh" else "en"
        body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paras)
        path.write_text(f"<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
                        f"<title>{html.escape(title)}</title>"
                        f"<meta name=\"date\" content=\"{rec['published']}\"></head>\n<body>\n"
                        f"<h1>{html.escape(title)}</h1>\n{body}</body></html>\n", encoding="utf-8")
    else:
        path.write_bytes(_docx_bytes(title, paras))
    return name


@dataclass(frozen=True)
class WrittenDocuments:
    out_dir: Path
    gold: Path
    documents: int
    spans: int
    new_share: float  # of spans


def build_documents(world: World, *, seed: int = 7, n: int = N_DOCUMENTS) -> list[dict[str, Any]]:
    """The gold records (text and annotations) without writing files."""
    return _build(world, seed, n)[0]


def _build(world: World, seed: int, n: int) -> tuple[list[dict[str, Any]], list[str]]:
    cat = Catalogue(world, random.Random(f"{seed}/documents"))
    out = []
    for i in range(1, n + 1):
        doc_id = f"doc-{i:04d}"
        # A random stream per document: a change to how one document is written leaves the others as they were.
        rng = random.Random(f"{seed}/documents/{doc_id}")
        language = "en" if rng.random() < ENGLISH_SHARE * 0.75 else "zh"  # case notes add the rest (compose)
        out.append(compose(cat, rng, doc_id, seed, language))
    return out, sorted(cat.graph_names)


def gold_dir_of(documents_dir: Path) -> Path:
    """Where the gold of a documents folder lives: beside it (``documents-gold/``), not in it, so that
    ``talentgraph ingest-docs documents/`` reads the documents and nothing else."""
    documents_dir = Path(documents_dir)
    return documents_dir.with_name(f"{documents_dir.name}-gold")


def write_documents(out_dir: Path, world: World, *, seed: int = 7, n: int = N_DOCUMENTS) -> WrittenDocuments:
    """Write ``n`` documents into ``out_dir``, and ``gold.jsonl`` and ``names.txt`` into ``gold_dir_of(out_dir)``
    (see the module docstring)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gold_dir = gold_dir_of(out_dir)
    gold_dir.mkdir(parents=True, exist_ok=True)
    # Generating again into the same folder replaces what an earlier run wrote there (another format of a
    # document, the gold an older version kept among the documents); other files are left alone.
    ours = re.compile(rf"doc-\d{{4}}\.(?:{'|'.join(FORMATS)})")
    for old in out_dir.iterdir():
        if old.is_file() and (ours.fullmatch(old.name) or old.name in (GOLD_FILE, NAMES_FILE)):
            old.unlink()
    records, names = _build(world, seed, n)
    frng = random.Random(f"{seed}/documents/files")
    lines = []
    for rec in records:
        x = frng.random()
        fmt = FORMATS[0] if x < 0.7 else FORMATS[1] if x < 0.85 else FORMATS[2] if x < 0.93 else FORMATS[3]
        rec = {"id": rec["id"], "file": _write_file(out_dir, rec, fmt), **{k: v for k, v in rec.items() if k != "id"}}
        lines.append(json.dumps(rec, ensure_ascii=False, sort_keys=False))
    gold = gold_dir / GOLD_FILE
    gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # The graph's names, one a line: training tokenises with them as jieba words, as the running pipeline does
    # with its gazetteer's (text/train.py), so the model learns on the cuts it will see.
    (gold_dir / NAMES_FILE).write_text("\n".join(names) + "\n", encoding="utf-8")
    spans = [s for r in records for s in r["spans"]]
    new = sum(1 for s in spans if s[4] == "new")
    return WrittenDocuments(out_dir, gold, len(records), len(spans), new / len(spans) if spans else 0.0)


def gold_file(path: Path) -> Path:
    """``gold.jsonl`` given itself, the folder holding it, or the documents folder it is the gold of."""
    path = Path(path)
    if not path.is_dir():
        return path
    inside = path / GOLD_FILE
    return inside if inside.is_file() else gold_dir_of(path) / GOLD_FILE


def read_gold(path: Path) -> list[dict[str, Any]]:
    """The gold records of ``gold.jsonl`` (``gold_file``: or of a folder holding it or the documents it describes)."""
    text = gold_file(path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
