"""Generate the Lianyang demo registers: the files a community office actually keeps.

``generate(out_dir)`` writes CSV and XLSX registers (some CSVs in GBK, as Excel on Chinese Windows
exports them) that the shipped mapping jobs in ``demo/jobs/`` ingest with ``input_dir=out_dir``.
The same seed and scale give byte-identical files: one ``random.Random(seed)`` drives everything
and dates are computed from a fixed reference date, never the clock.

A few deliberately bad rows per register (an id with a wrong check character, a language not in the
vocabulary, swapped coordinates, a building that does not exist, letters in a phone number, a
malformed USCC, an empty name) exercise the quarantine path. Bad rows describe entities that no
other register refers to, so each one is quarantined by exactly one job and nothing cascades.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from talentgraph.demo import codes, places
from talentgraph.demo.names import chinese_name
from talentgraph.demo.people import (
    OCCUPATIONS,
    REFERENCE_DATE,
    RUSSIAN_SPEAKING,
    Occupation,
    Resident,
    make_chinese,
    make_foreign,
    weighted,
)
from talentgraph.demo.writers import write_csv, write_xlsx
from talentgraph.errors import OntologyError
from talentgraph.schema.vocabularies import Term, vocabulary

JOBS_DIR = Path(__file__).parent / "jobs"
PIPELINE = JOBS_DIR / "pipeline.yaml"

# Ratios of the real community (50,000 residents, ~5,000 foreign, 2,136 party members).
FOREIGN_SHARE = 0.10
PARTY_SHARE = 2136 / 50_000
VOLUNTEER_SHARE = 0.09


@dataclass(frozen=True)
class GeneratedRegisters:
    """What ``generate`` wrote. Keys are register names (the file stem, which is also the job id)."""

    out_dir: Path
    paths: dict[str, Path]
    rows: dict[str, int]  # data rows per register, bad rows included
    bad_rows: dict[str, int]  # deliberately invalid rows per register
    seed: int
    residents: int

    @property
    def good_rows(self) -> dict[str, int]:
        return {name: self.rows[name] - self.bad_rows[name] for name in self.rows}


@dataclass
class Register:
    name: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    encoding: str = "utf-8"  # csv only: utf-8, utf-8-sig or gbk
    sheet: str | None = None  # set → written as XLSX with this sheet name
    bad: int = 0

    @property
    def filename(self) -> str:
        return f"{self.name}.xlsx" if self.sheet else f"{self.name}.csv"

    def add(self, **values: Any) -> None:
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"{self.name}: no columns {sorted(unknown)}")
        self.rows.append([values.get(c, "") for c in self.columns])

    def add_bad(self, rng: random.Random, **values: Any) -> None:
        """Insert a bad row at a seeded position (not last: real registers have typos anywhere)."""
        self.add(**values)
        row = self.rows.pop()
        self.rows.insert(rng.randrange(len(self.rows) // 3, len(self.rows) + 1), row)
        self.bad += 1


# --- vocabulary labels ------------------------------------------------------------------------------


class Labels:
    """Labels the way staff type them: Chinese in Chinese registers, English in the foreign one,
    now and then a synonym. Only labels that look up to the intended term are ever written."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def term(self, vocab: str, *candidates: str) -> Term:
        v = vocabulary(vocab)
        for c in candidates:
            term = v.terms.get(c) or v.lookup(c)
            if term is not None:
                return term
        raise OntologyError(
            f"The demo needs a {vocab!r} term for any of {list(candidates)}; none is in the vocabulary.",
            hint=f"Add one of them to schema/vocab/{vocab}.yaml or update talentgraph/demo/generator.py.",
        )

    def label(self, vocab: str, term_id: str, lang: str = "zh", synonym_rate: float = 0.1) -> str:
        v = vocabulary(vocab)
        term = self.term(vocab, term_id)
        primary = term.zh if lang == "zh" else term.en
        if self.rng.random() < synonym_rate:
            want_cjk = lang == "zh"
            options = [s for s in term.synonyms
                       if any("\u4e00" <= ch <= "\u9fff" for ch in s) == want_cjk and s.strip() == s
                       and (v.lookup(s) or term).id == term.id and "," not in s]
            if options:
                return self.rng.choice(options)
        return primary


# --- dates -----------------------------------------------------------------------------------------


def fmt_date(rng: random.Random, d: date, *, chinese: bool = True) -> str:
    """Dates as registers hold them: mostly ISO, also 2015/3/2, 20150302 and 2015年3月2日."""
    x = rng.random()
    if x < 0.6:
        return d.isoformat()
    if x < 0.8:
        return f"{d.year}/{d.month}/{d.day}"
    if x < 0.9 or not chinese:
        return f"{d:%Y%m%d}"
    return f"{d.year}年{d.month}月{d.day}日"


def fmt_birth(rng: random.Random, d: date) -> str:
    # Only the formats the `year` transform documents (ISO, slashes, compact).
    x = rng.random()
    return d.isoformat() if x < 0.6 else f"{d.year}/{d.month}/{d.day}" if x < 0.85 else f"{d:%Y%m%d}"


def rand_date(rng: random.Random, start: date, end: date = REFERENCE_DATE) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days))


# --- the community ---------------------------------------------------------------------------------


@dataclass
class Building:
    area: places.ResidentialArea
    number: int
    lon: float
    lat: float
    households: int

    @property
    def key(self) -> str:
        return f"{self.area.key}-{self.number}"

    @property
    def name(self) -> str:
        return f"{self.area.name}{self.number}号楼"


@dataclass
class Enterprise:
    uscc: str
    name: str
    latin: str
    industry: str
    ownership: str
    employees: int
    address: str
    area: str
    description: str
    party_branch: bool = False


@dataclass
class World:
    buildings: list[Building]
    residents: list[Resident]
    enterprises: list[Enterprise]
    registers: dict[str, Register] = field(default_factory=dict)


def _buildings(rng: random.Random) -> list[Building]:
    out = []
    for area in places.RESIDENTIAL_AREAS:
        for n in range(1, area.buildings + 1):
            out.append(Building(area, n, round(area.lon + rng.uniform(-0.0018, 0.0018), 6),
                                round(area.lat + rng.uniform(-0.0015, 0.0015), 6), rng.randint(48, 180)))
    return out


def _occupation_pool(labels: Labels) -> list[tuple[Occupation, float]]:
    skills = vocabulary("skills")
    missing = [s for o in OCCUPATIONS for s in o.skills if s not in skills]
    if missing:
        raise OntologyError(f"Demo occupations use skills missing from the vocabulary: {missing}.",
                            hint="Add them to schema/vocab/skills.yaml or edit talentgraph/demo/people.py.")
    return [(o, o.weight) for o in OCCUPATIONS]


def _residents(rng: random.Random, n: int, buildings: list[Building], labels: Labels) -> list[Resident]:
    occupations = _occupation_pool(labels)
    lawyer = next(o for o in OCCUPATIONS if o.en == "Lawyer")
    n_foreign = round(n * FOREIGN_SHARE)
    foreign_at = set(rng.sample(range(n), n_foreign))
    weights = [(b, float(b.households)) for b in buildings]
    out: list[Resident] = []
    for i in range(n):
        key = f"LY{i + 1:06d}"
        r = (make_foreign if i in foreign_at else make_chinese)(rng, key, occupations, {})
        b = weighted(rng, weights)
        r.area, r.building = b.area.key, b.number
        r.room = f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}"
        r.moved_in = rand_date(rng, max(date(b.area.built, 1, 1), r.birth))
        out.append(r)
    _ensure_russian_lawyers(rng, out, lawyer)
    return out


def _ensure_russian_lawyers(rng: random.Random, residents: list[Resident], lawyer: Occupation) -> None:
    """The demo query "Russian-speaking lawyers" must have answers at every scale: a few foreign
    residents from Russian-speaking countries and a few Chinese residents who learned Russian."""
    law = [s for s in lawyer.skills]
    want = max(3, len(residents) // 8000)
    foreign = [r for r in residents if r.foreign and r.nationality in RUSSIAN_SPEAKING and 28 <= r.age <= 64]
    chinese = [r for r in residents if not r.foreign and 30 <= r.age <= 75]
    for group, lang in ((foreign, None), (chinese, "ru")):
        for r in rng.sample(group, k=min(want, len(group))):
            r.occupation, r.retired = lawyer, r.age >= 60
            r.skills = list(dict.fromkeys(rng.sample(law, k=2) + r.skills[:1]))
            if lang and lang not in r.languages:
                r.languages.append(lang)
            if "ru" not in r.languages:  # e.g. a Mongolian lawyer educated in Russian
                r.languages.append("ru")
                r.levels.append(f"ru:{rng.choice(('B2', 'C1', 'C2'))}")
            r.volunteer = True
            r.extra["legal_volunteer"] = "1"


def _enterprises(rng: random.Random, labels: Labels) -> list[Enterprise]:
    out: list[Enterprise] = []
    seen: set[str] = set()

    def new_uscc(kind: str, region: str = "310115") -> str:
        while True:
            code = codes.uscc(rng, kind, region)
            if code not in seen:
                seen.add(code)
                return code

    for name, latin, industry, ownership in places.INSTITUTIONS:
        code_kind = {"public_institution": "public_institution",
                     "social_organisation": "private_non_enterprise"}.get(ownership, "company")
        out.append(Enterprise(new_uscc(code_kind), name, latin, industry, ownership, rng.randint(40, 200),
                              f"{rng.choice(places.RESIDENTIAL_AREAS).road}{rng.randint(1, 999)}号",
                              rng.choice(places.RESIDENTIAL_AREAS).key, f"{name}，社区共建单位。"))
    combos = [(t, k) for t in places.TRADE_NAMES for k in places.ENTERPRISE_KINDS]
    rng.shuffle(combos)
    chosen: list[tuple[tuple[str, str], places.EnterpriseKind]] = []
    by_kind: dict[str, int] = {}
    target = {k[0]: k[4] for k in places.ENTERPRISE_KINDS}
    total = sum(target.values())
    for trade, ekind in combos:
        quota = round(target[ekind[0]] * 194 / total)
        if by_kind.get(ekind[0], 0) < quota and len(chosen) < 194:
            chosen.append((trade, ekind))
            by_kind[ekind[0]] = by_kind.get(ekind[0], 0) + 1
    for trade, ekind in combos:  # rounding may leave a few slots
        if len(chosen) >= 194:
            break
        if (trade, ekind) not in chosen:
            chosen.append((trade, ekind))
    for (trade_zh, trade_py), (industry, noun, noun_en, (lo, hi), _) in chosen:
        law_firm = industry == "legal_services"
        ownership = "private" if law_firm else weighted(
            rng, [("private", 70.0), ("foreign", 14.0), ("joint_venture", 6.0), ("state_owned", 4.0), ("collective", 2.0)])
        area = rng.choice(places.RESIDENTIAL_AREAS)
        name = f"上海{trade_zh}{noun}"
        out.append(Enterprise(
            new_uscc("law_firm" if law_firm else "company", "310000" if law_firm else "310115"),
            name, f"Shanghai {trade_py} {noun_en}", industry, str(ownership), rng.randint(lo, hi),
            f"{area.road}{rng.randint(1, 1999)}号{rng.choice(('', '', '2楼', '3楼', '501室', '1201室'))}",
            area.key if rng.random() < 0.8 else "lianyang",
            f"{name}，位于联洋社区，从事{noun.removesuffix('有限公司')}相关业务。",
        ))
    for e in rng.sample([e for e in out if e.ownership in ("private", "foreign", "joint_venture")], k=12):
        e.party_branch = True  # non-public enterprises with their own party branch (两新组织)
    return out


# --- registers -------------------------------------------------------------------------------------


def _area_registers(rng: random.Random, w: World, labels: Labels) -> tuple[Register, Register]:
    areas = Register("areas", ["区域编号", "名称", "层级", "上级编号", "地址", "经度", "纬度", "户数", "人口"])
    lvl = {k: labels.term("area_levels", k, zh).zh for k, zh in
           (("subdistrict", "街道"), ("community", "社区"), ("residential_area", "居民区"), ("building", "楼栋"))}
    pop: dict[str, int] = {}
    for r in w.residents:
        pop[r.building_key] = pop.get(r.building_key, 0) + 1
        pop[r.area] = pop.get(r.area, 0) + 1
    key, name, lon, lat, addr = places.SUBDISTRICT
    areas.add(区域编号=key, 名称=name, 层级=lvl["subdistrict"], 地址=addr, 经度=lon, 纬度=lat)
    key, name, lon, lat, addr = places.COMMUNITY
    areas.add(区域编号=key, 名称=name, 层级=lvl["community"], 上级编号=places.SUBDISTRICT[0], 地址=addr,
              经度=lon, 纬度=lat, 户数=sum(b.households for b in w.buildings), 人口=len(w.residents))
    for a in places.RESIDENTIAL_AREAS:
        areas.add(区域编号=a.key, 名称=a.name, 层级=lvl["residential_area"], 上级编号="lianyang",
                  地址=f"浦东新区{a.road}", 经度=a.lon, 纬度=a.lat,
                  户数=sum(b.households for b in w.buildings if b.area.key == a.key), 人口=pop.get(a.key, 0))
    areas.add_bad(rng, 区域编号="RA10", 名称="", 层级=lvl["residential_area"], 上级编号="lianyang",
                  地址="浦东新区长柳路", 经度=121.5601, 纬度=31.2299)  # empty required name

    buildings = Register("buildings", ["小区编号", "楼号", "楼栋名称", "地址", "经度", "纬度", "户数", "人口"],
                         encoding="gbk")
    for b in w.buildings:
        buildings.add(小区编号=b.area.key, 楼号=b.number, 楼栋名称=b.name, 地址=f"{b.area.road}{b.number * 2 + 100}号",
                      经度=b.lon, 纬度=b.lat, 户数=b.households, 人口=pop.get(b.key, 0))
    a = places.RESIDENTIAL_AREAS[2]
    buildings.add_bad(rng, 小区编号=a.key, 楼号=a.buildings + 1, 楼栋名称=f"{a.name}{a.buildings + 1}号楼",
                      地址=f"{a.road}1号", 经度=a.lat, 纬度=a.lon, 户数=60)  # latitude and longitude swapped
    a = places.RESIDENTIAL_AREAS[5]
    buildings.add_bad(rng, 小区编号=a.key, 楼号=a.buildings + 2, 楼栋名称="", 地址=f"{a.road}9号",
                      经度=a.lon, 纬度=a.lat, 户数=72)  # empty name
    return areas, buildings


def _enterprise_register(rng: random.Random, w: World, labels: Labels) -> Register:
    reg = Register("enterprises", ["统一社会信用代码", "企业名称", "英文名称", "行业", "企业性质", "从业人数", "注册地址",
                                   "所在区域", "经营简介"], sheet="企业名录")
    for e in w.enterprises:
        reg.add(统一社会信用代码=e.uscc, 企业名称=e.name, 英文名称=e.latin,
                行业=labels.label("industries", "business_services" if e.industry == "legal_services" else e.industry),
                企业性质=labels.label("ownership", e.ownership),
                从业人数=e.employees, 注册地址=e.address, 所在区域=e.area, 经营简介=e.description)
    sample = w.enterprises[10]
    bad_check = codes.corrupt_check_char(codes.uscc(rng), codes.USCC_CHARS)
    for code, name in ((bad_check, "上海联洋示范商贸有限公司"),  # wrong check character
                       (codes.uscc(rng)[:17], "上海花木便民服务有限公司"),  # 17 characters
                       (codes.uscc(rng), "")):  # empty name
        reg.add_bad(rng, 统一社会信用代码=code, 企业名称=name, 行业=reg.rows[0][3], 企业性质=reg.rows[10][4],
                    从业人数=12, 注册地址=sample.address, 所在区域="RA01")
    return reg


def _party_registers(rng: random.Random, w: World, labels: Labels) -> dict[str, Register]:
    lv = {k: labels.term("party_levels", k, zh).zh for k, zh in (
        ("committee", "党委"), ("general_branch", "党总支"), ("branch", "党支部"),
        ("building_group", "楼组党小组"), ("temporary_branch", "临时党支部"))}
    orgs = Register("party_orgs", ["组织编号", "组织名称", "层级", "上级组织编号", "成立日期", "书记", "所在企业", "简介"])
    members = Register("party_members", ["居民编号", "姓名", "党组织编号", "党小组编号", "党内职务", "入党日期", "转入日期"])
    leaders: list[tuple[Resident, str, str, str]] = []  # (person, target column, target key, role)

    chinese_adults = [r for r in w.residents if not r.foreign and r.age >= 20 and "legal_volunteer" not in r.extra]
    n_party = min(len(chinese_adults), max(40, round(len(w.residents) * PARTY_SHARE)))
    # Party members skew older (the committee's members are mostly retirees).
    pool = sorted(chinese_adults, key=lambda r: -(r.age + rng.random() * 40))
    party = sorted(pool[:n_party], key=lambda r: r.key)
    # A few of the Chinese Russian-speaking lawyers are members too (the demo profile mentions it).
    party += [r for r in w.residents if "legal_volunteer" in r.extra and not r.foreign][:2]
    for r in party:
        r.political = "probationary_member" if rng.random() < 0.03 else "party_member"
        r.party_joined = rand_date(rng, r.birth + timedelta(days=365 * 19), REFERENCE_DATE - timedelta(days=200))

    def secretary(candidates: list[Resident]) -> Resident:
        return rng.choice(candidates or party)

    committee_sec = secretary([r for r in party if r.age < 60])
    orgs.add(组织编号="C00", 组织名称="中共联洋社区委员会", 层级=lv["committee"], 成立日期=fmt_date(rng, date(2004, 9, 1)),
             书记=committee_sec.name.name, 简介="联洋社区党委，下设居民区党组织、直属党支部和临时党支部。")
    leaders.append((committee_sec, "党组织编号", "C00", "secretary"))
    by_area = {a.key: [r for r in party if r.area == a.key] for a in places.RESIDENTIAL_AREAS}
    for i, a in enumerate(places.RESIDENTIAL_AREAS, start=1):
        level = "general_branch" if a.buildings >= 18 else "branch"
        sec = secretary(by_area[a.key])
        orgs.add(组织编号=f"A{i:02d}", 组织名称=f"{a.name}居民区{'党总支' if level == 'general_branch' else '党支部'}",
                 层级=lv[level], 上级组织编号="C00", 成立日期=fmt_date(rng, date(a.built, rng.randint(3, 12), 1)),
                 书记=sec.name.name, 简介=f"{a.name}居民区党组织，按楼组设党小组。")
        leaders.append((sec, "党组织编号", f"A{i:02d}", "secretary"))
    direct_sec = secretary(party)
    orgs.add(组织编号="D01", 组织名称="联洋社区党委直属党支部", 层级=lv["branch"], 上级组织编号="C00",
             成立日期=fmt_date(rng, date(2008, 7, 1)), 书记=direct_sec.name.name, 简介="在职党员、退休教师党员等直属管理。")
    leaders.append((direct_sec, "党组织编号", "D01", "secretary"))
    area_org = {a.key: f"A{i:02d}" for i, a in enumerate(places.RESIDENTIAL_AREAS, start=1)}
    for b in w.buildings:
        orgs.add(组织编号=f"B-{b.key}", 组织名称=f"{b.name}党小组", 层级=lv["building_group"],
                 上级组织编号=area_org[b.area.key], 成立日期=fmt_date(rng, date(b.area.built + 2, 7, 1)))
    for i, purpose in enumerate(places.TEMPORARY_BRANCHES, start=1):
        orgs.add(组织编号=f"T{i:02d}", 组织名称=f"{purpose}临时党支部", 层级=lv["temporary_branch"], 上级组织编号="C00",
                 成立日期=fmt_date(rng, date(rng.randint(2018, 2024), rng.randint(1, 6), rng.randint(1, 28))),
                 简介=f"为{purpose}工作设立的临时党支部。")
    for i, e in enumerate([e for e in w.enterprises if e.party_branch], start=1):
        orgs.add(组织编号=f"E{i:02d}", 组织名称=f"{e.name}党支部", 层级=lv["branch"], 上级组织编号="C00",
                 成立日期=fmt_date(rng, date(rng.randint(2012, 2023), rng.randint(1, 12), 1)), 所在企业=e.uscc,
                 简介="非公企业党支部，参与社区区域化党建。")
    for i, (name, level) in enumerate(places.EXTERNAL_PARTY_ORGS, start=1):
        orgs.add(组织编号=f"X{i:02d}", 组织名称=name, 层级=lv[level], 成立日期=fmt_date(rng, date(1998 + i, 7, 1)),
                 简介="社区共建单位党组织。")
    orgs.add_bad(rng, 组织编号="T99", 组织名称="", 层级=lv["temporary_branch"], 上级组织编号="C00",
                 成立日期="2023-05-01")  # empty name

    # Memberships: each member in the party group of their building; some in the direct branch;
    # some also in a temporary branch.
    for r in party:
        # A member belongs to a branch (the residential area's party organisation) and, within it, to the
        # party group of their building: one register row, two MEMBER_OF relationships.
        direct = rng.random() < 0.06
        since = max(r.party_joined or r.moved_in, r.moved_in)
        members.add(居民编号=r.key, 姓名=r.name.name, 党组织编号="D01" if direct else area_org[r.area],
                    党小组编号="" if direct else f"B-{r.building_key}", 党内职务="党员",
                    入党日期=fmt_date(rng, r.party_joined or since), 转入日期=fmt_date(rng, since))
        if rng.random() < 0.08:
            members.add(居民编号=r.key, 姓名=r.name.name, 党组织编号=f"T{rng.randint(1, 22):02d}", 党内职务="党员",
                        入党日期=fmt_date(rng, r.party_joined or since), 转入日期=fmt_date(rng, date(2023, 3, 1)))
    # The community party committee's own members (书记 + 委员), so an analyst can walk
    # person → party committee → its co-building units.
    pool = [r for r in party if r is not committee_sec and r.age < 65]
    committee = [committee_sec] + rng.sample(pool, k=min(8, len(pool)))
    for r in committee:
        members.add(居民编号=r.key, 姓名=r.name.name, 党组织编号="C00",
                    党内职务="党委书记" if r is committee_sec else "党委委员",
                    入党日期=fmt_date(rng, r.party_joined or r.moved_in), 转入日期=fmt_date(rng, date(2021, 7, 1)))
    m = party[0]
    members.add_bad(rng, 居民编号=m.key, 姓名=m.name.name, 党组织编号="A01", 党小组编号="B-RA01-99", 党内职务="党员",
                    入党日期="2001-07-01", 转入日期="2010-05-01")  # no such party group

    # Double building leaders: a party building leader (a member, from the building if possible) and a
    # resident building leader (any adult of the building) per building.
    residents_by_building: dict[str, list[Resident]] = {}
    for r in w.residents:
        if r.adult:
            residents_by_building.setdefault(r.building_key, []).append(r)
    party_by_building: dict[str, list[Resident]] = {}
    for r in party:
        party_by_building.setdefault(r.building_key, []).append(r)
    for b in w.buildings:
        p = rng.choice(party_by_building.get(b.key) or by_area[b.area.key] or party)
        others = [r for r in residents_by_building.get(b.key, []) if r.key != p.key] or \
            [r for r in w.residents if r.adult and r.key != p.key]
        leaders.append((p, "楼栋编号", b.key, "party_building_leader"))
        leaders.append((rng.choice(others), "楼栋编号", b.key, "building_leader"))
    return {"party_orgs": orgs, "party_members": members, "_leaders": _leader_register(rng, leaders)}


def _leader_register(rng: random.Random, leaders: list[tuple[Resident, str, str, str]]) -> Register:
    reg = Register("leaders", ["居民编号", "姓名", "楼栋编号", "团队编号", "党组织编号", "角色", "职务说明"])
    zh = {"secretary": "书记", "party_building_leader": "党建楼组长", "building_leader": "居民楼组长",
          "captain": "队长"}
    for r, column, target, role in leaders:
        reg.add(**{"居民编号": r.key, "姓名": r.name.name, column: target, "角色": role, "职务说明": zh[role]})
    return reg


def _venue_register(rng: random.Random, labels: Labels) -> Register:
    reg = Register("venues", ["场所编号", "场所名称", "类型", "地址", "经度", "纬度", "容纳人数", "停车位", "开放时间",
                              "简介", "所在区域"])
    for v in places.VENUES:
        kind = labels.term("venue_kinds", v.kind)
        reg.add(场所编号=v.key, 场所名称=v.name, 类型=kind.zh, 地址=v.address, 经度=v.lon, 纬度=v.lat,
                容纳人数=v.capacity, 停车位=v.parking, 开放时间=v.hours, 简介=v.description, 所在区域=v.area)
    reg.add_bad(rng, 场所编号="V13", 场所名称="联洋社区老年活动室", 类型=reg.rows[5][2], 地址="芳甸路9号",
                经度=31.2271, 纬度=121.5566, 所在区域="RA08")  # latitude and longitude swapped
    return reg


def _group_register(rng: random.Random, labels: Labels) -> Register:
    reg = Register("groups", ["团队编号", "团队名称", "类型", "成立年份", "上级团队编号", "简介"])
    for key, name, kind, founded, parent, desc in places.GROUPS:
        reg.add(团队编号=key, 团队名称=name, 类型=labels.term("group_kinds", kind).zh, 成立年份=founded,
                上级团队编号=parent, 简介=desc)
    reg.add_bad(rng, 团队编号="G099", 团队名称="", 类型=reg.rows[12][2], 成立年份=2020)  # empty name
    return reg


def _project_registers(rng: random.Random, w: World, labels: Labels) -> tuple[Register, Register]:
    reg = Register("projects", ["项目编号", "项目名称", "菜单", "类别", "年度", "状态", "受益人数", "活动场所编号",
                                "项目简介"], sheet="项目清单")
    sponsors = Register("sponsorships", ["统一社会信用代码", "企业名称", "项目编号", "认领年度"])
    menu = {m: labels.term("project_menus", m, zh).zh for m, zh in
            (("six_category", "六大类菜单"), ("enterprise", "企业菜单"), ("theme", "主题菜单"))}
    statuses = [labels.term("project_statuses", s, zh).zh for s, zh in
                (("completed", "已完成"), ("in_progress", "进行中"), ("recruiting", "招募中"))]
    companies = [e for e in w.enterprises if e.ownership not in ("public_institution",)]
    venues = [v.key for v in places.VENUES]
    items: list[tuple[str, str, str, Enterprise | None]] = []  # (menu, name, category, sponsor)
    six = [(c, t) for c, themes in places.SIX_CATEGORY_THEMES.items() for t in themes]
    for i in range(100):
        cat, theme = six[i % len(six)]
        area = places.RESIDENTIAL_AREAS[i % len(places.RESIDENTIAL_AREAS)]
        name = theme if i < len(six) else f"{area.name}{theme}"
        items.append(("six_category", name, cat, rng.choice(companies) if rng.random() < 0.25 else None))
    for i in range(70):
        theme, cat = places.ENTERPRISE_THEMES[i % len(places.ENTERPRISE_THEMES)]
        e = companies[(i * 7) % len(companies)]
        short = e.name.removeprefix("上海")[:4]
        items.append(("enterprise", f"{short}·{theme}", cat, e))
    for theme, cat in places.THEME_ITEMS:
        items.append(("theme", theme, cat, rng.choice(companies) if rng.random() < 0.4 else None))
    for i, (m, name, cat, sponsor) in enumerate(items, start=1):
        year = rng.randint(2021, 2024)
        status = statuses[0] if year < 2024 else rng.choice(statuses)
        key = f"P{i:03d}"
        reg.add(项目编号=key, 项目名称=name, 菜单=menu[m], 类别=labels.term("project_categories", cat).zh,
                年度=year, 状态=status, 受益人数=rng.randint(20, 800),
                活动场所编号=rng.choice(venues) if rng.random() < 0.85 else "",
                项目简介=f"{name}：{menu[m]}项目，{year}年实施。")
        if sponsor is not None:
            sponsors.add(统一社会信用代码=sponsor.uscc, 企业名称=sponsor.name, 项目编号=key, 认领年度=year)
            if m == "enterprise" and rng.random() < 0.15:
                other = rng.choice(companies)
                if other is not sponsor:
                    sponsors.add(统一社会信用代码=other.uscc, 企业名称=other.name, 项目编号=key, 认领年度=year)
    reg.add_bad(rng, 项目编号="P999", 项目名称="", 菜单=menu["theme"], 类别=reg.rows[0][3], 年度=2024,
                状态=statuses[1])  # empty name
    e = companies[0]
    sponsors.add_bad(rng, 统一社会信用代码=e.uscc, 企业名称=e.name, 项目编号="P998", 认领年度=2024)  # no such project
    return reg, sponsors


def _resident_registers(rng: random.Random, w: World, labels: Labels) -> tuple[Register, Register]:
    cn = Register("residents", ["居民编号", "姓名", "拼音姓名", "性别", "出生日期", "证件类型", "证件号码", "联系电话",
                                "政治面貌", "文化程度", "职业", "技能特长", "语言能力", "是否志愿者", "小区编号", "楼号",
                                "室号", "入住日期", "备注"], encoding="gbk")
    fr = Register("foreign_residents", ["居民编号", "姓名", "英文姓名", "性别", "出生日期", "国籍", "证件类型", "证件号码",
                                        "联系电话", "职业", "技能", "语言", "语言水平", "是否志愿者", "小区编号", "楼号",
                                        "室号", "入住日期", "个人简介"], encoding="utf-8-sig")
    edu = _education_terms(labels)
    for r in w.residents:
        if r.foreign:
            fr.add(**_foreign_row(rng, r, labels))
        else:
            r.education = r.education or _education(rng, r, edu)
            cn.add(**_chinese_row(rng, r, labels))

    # A language the vocabulary lacks is kept as an unreviewed term (talentgraph vocab pending), so
    # one good row of each register carries one; the row is not bad.
    for reg, column, extra in ((cn, "语言能力", "、克林贡语"), (fr, "语言", ", Klingon")):
        reg.rows[0][reg.columns.index(column)] += extra
    template = next(r for r in w.residents if not r.foreign and r.adult)
    row = _chinese_row(rng, template, labels)
    n = len(w.residents)
    keys = iter(f"LY{i:06d}" for i in range(n + 1, n + 20))
    bad_id = codes.corrupt_check_char(codes.resident_id(rng, date(1958, 4, 12), True, "310115"), "0123456789X")
    name = chinese_name(rng, "male")
    cn.add_bad(rng, **{**row, "居民编号": next(keys), "姓名": name.name, "拼音姓名": name.latin,
                       "证件号码": bad_id})  # wrong check character
    name = chinese_name(rng, "female")
    cn.add_bad(rng, **{**row, "居民编号": next(keys), "姓名": name.name, "拼音姓名": name.latin, "性别": "女",
                       "证件号码": codes.resident_id(rng, date(1975, 1, 3), False),
                       "性别": "待定"})  # gender not in the (closed) vocabulary
    name = chinese_name(rng, "male")
    cn.add_bad(rng, **{**row, "居民编号": next(keys), "姓名": name.name, "拼音姓名": name.latin,
                       "证件号码": codes.resident_id(rng, date(1981, 9, 30), True),
                       "小区编号": "RA02", "楼号": 99})  # building RA02-99 does not exist
    name = chinese_name(rng, "female")
    cn.add_bad(rng, **{**row, "居民编号": next(keys), "姓名": name.name, "拼音姓名": name.latin, "性别": "女",
                       "证件号码": codes.resident_id(rng, date(1990, 2, 14), False),
                       "联系电话": "138 0013 80xx"})  # letters in the phone number

    ftemplate = next(r for r in w.residents if r.foreign and r.adult)
    frow = _foreign_row(rng, ftemplate, labels)
    fr.add_bad(rng, **{**frow, "居民编号": next(keys), "证件号码": codes.passport(rng, "US"),
                       "性别": "unknown", "语言水平": ""})  # gender not in the (closed) vocabulary
    fr.add_bad(rng, **{**frow, "居民编号": next(keys), "姓名": "", "英文姓名": "",
                       "证件号码": codes.passport(rng, "DE")})  # empty name
    return cn, fr


def _education_terms(labels: Labels) -> dict[str, str]:
    levels = (("primary", "小学"), ("junior_secondary", "初中"), ("senior_secondary", "高中"),
              ("junior_college", "大专"), ("bachelor", "本科"), ("master", "硕士"), ("doctorate", "博士"))
    return {k: labels.term("education", k, zh).zh for k, zh in levels}


def _education(rng: random.Random, r: Resident, edu: dict[str, str]) -> str | None:
    if r.age < 16:
        return None
    if r.age < 22 and r.occupation is None:  # still at school: the highest level finished so far
        return edu["junior_secondary" if r.age < 19 else "senior_secondary"]
    born = r.birth.year
    skilled = r.occupation is not None and r.occupation.en not in ("Self-employed", "Housekeeper", "Chef",
                                                                    "Electrician", "Sales")
    if born < 1960:
        opts = [("primary", 20.0), ("junior_secondary", 35.0), ("senior_secondary", 30.0), ("junior_college", 8.0),
                ("bachelor", 7.0)]
    else:
        opts = [("junior_secondary", 8.0), ("senior_secondary", 15.0), ("junior_college", 20.0), ("bachelor", 40.0),
                ("master", 14.0), ("doctorate", 3.0)]
    if skilled:
        opts = [(k, w * (3.0 if k in ("bachelor", "master", "doctorate") else 1.0)) for k, w in opts]
    return edu[weighted(rng, opts)]


def _joined(labels: Labels, vocab: str, ids: list[str], lang: str, seps: str = "、") -> str:
    sep = seps[labels.rng.randrange(len(seps))]
    return sep.join(labels.label(vocab, i, lang) for i in ids)


def _chinese_row(rng: random.Random, r: Resident, labels: Labels) -> dict[str, Any]:
    occ = r.occupation
    occupation = ("退休" + occ.zh if occ else "退休") if r.retired else occ.zh if occ else \
        ("学生" if r.age >= 6 else "学龄前儿童")
    political = labels.term("political_status", r.political,
                            {"party_member": "中共党员", "probationary_member": "预备党员", "masses": "群众"}
                            .get(r.political, r.political)).zh
    if r.political == "masses" and 14 <= r.age <= 28 and rng.random() < 0.4:
        political = labels.term("political_status", "league_member", "共青团员").zh
    bio = ""
    if "legal_volunteer" in r.extra:
        bio = "执业律师，可用俄语提供法律咨询，参加社区法律服务志愿分队。"
    elif r.skills and rng.random() < 0.25:
        bio = f"擅长{labels.label('skills', r.skills[0], 'zh', 0)}，愿意为邻里提供帮助。"
    return {
        "居民编号": r.key, "姓名": r.name.name, "拼音姓名": r.name.latin, "性别": "男" if r.gender == "male" else "女",
        "出生日期": fmt_birth(rng, r.birth), "证件类型": "居民身份证", "证件号码": r.id_number, "联系电话": r.phone,
        "政治面貌": political, "文化程度": r.education or "", "职业": occupation,
        "技能特长": _joined(labels, "skills", r.skills, "zh", "、、，;"),
        "语言能力": _joined(labels, "languages", r.languages, "zh", "、、，/"),
        "是否志愿者": "是" if r.volunteer else "否", "小区编号": r.area, "楼号": r.building, "室号": r.room,
        "入住日期": fmt_date(rng, r.moved_in), "备注": bio,
    }


def _foreign_row(rng: random.Random, r: Resident, labels: Labels) -> dict[str, Any]:
    occ = r.occupation
    occupation = ("Retired" if r.retired else occ.en) if occ else ("Student" if r.age < 22 else "Homemaker")
    bio = ""
    if "legal_volunteer" in r.extra:
        bio = "Practising lawyer; gives free legal advice in Russian and English at the community legal service studio."
    elif r.skills and rng.random() < 0.3:
        bio = f"Happy to help neighbours with {labels.label('skills', r.skills[0], 'en', 0).lower()}."
    return {
        "居民编号": r.key, "姓名": r.name.name, "英文姓名": r.name.latin,
        "性别": rng.choice(("Male", "M", "male")) if r.gender == "male" else rng.choice(("Female", "F", "female")),
        "出生日期": fmt_birth(rng, r.birth), "国籍": labels.label("nationalities", r.nationality, "en", 0.15),
        "证件类型": rng.choice(("护照", "Passport")), "证件号码": r.id_number, "联系电话": r.phone,
        "职业": occupation, "技能": _joined(labels, "skills", r.skills, "en", ",;"),
        "语言": _joined(labels, "languages", r.languages, "en", ",;"), "语言水平": ";".join(r.levels),
        "是否志愿者": "Yes" if r.volunteer else "No", "小区编号": r.area, "楼号": r.building, "室号": r.room,
        "入住日期": fmt_date(rng, r.moved_in, chinese=False), "个人简介": bio,
    }


def _group_membership(rng: random.Random, w: World) -> tuple[Register, list[tuple[Resident, str, str, str]]]:
    reg = Register("group_members", ["居民编号", "姓名", "团队编号", "角色", "加入日期"])
    members: dict[str, list[Resident]] = {g[0]: [] for g in places.GROUPS}
    branch_for = {"law": "G002", "medicine": "G003", "nursing": "G003", "translation": "G004",
                  "interpretation": "G004", "elderly_care": "G005", "safety": "G006", "environment": "G007"}
    culture_for = {"music.choir": "G010", "sports.tai_chi": "G011", "arts.calligraphy": "G012", "dance": "G013",
                   "music.opera": "G014", "arts.photography": "G016", "sports.table_tennis": "G017",
                   "arts.handicraft": "G018", "arts.chinese_painting": "G019", "music.percussion": "G020",
                   "music.dizi": "G022"}
    for r in w.residents:
        if r.volunteer:
            members["G001"].append(r)
            if r.foreign:
                members["G009"].append(r)
            elif 14 <= r.age <= 22:
                members["G008"].append(r)
            branches = {g for s in r.skills for root, g in branch_for.items() if s == root or s.startswith(root + ".")}
            for g in sorted(branches) or [rng.choice(("G005", "G006", "G007"))]:
                members[g].append(r)
        if r.age >= 45 and not r.foreign:
            teams = {g for s in r.skills for k, g in culture_for.items() if s == k or s.startswith(k + ".")}
            for g in sorted(teams):
                if rng.random() < 0.5:
                    members[g].append(r)
            if r.age >= 60 and rng.random() < 0.02:
                members[rng.choice(("G015", "G021"))].append(r)
    captains: list[tuple[Resident, str, str, str]] = []
    for key, *_ in places.GROUPS:
        people = members[key] or [r for r in w.residents if r.adult and not r.foreign][:3]
        members[key] = people
        captain = rng.choice(people)
        captains.append((captain, "团队编号", key, "captain"))
        founded = next(g[3] for g in places.GROUPS if g[0] == key)
        for r in people:
            role = "队长" if r is captain else "队员"
            reg.add(居民编号=r.key, 姓名=r.name.name, 团队编号=key, 角色=role,
                    加入日期=fmt_date(rng, max(r.moved_in, date(founded, 3, 1), r.birth + timedelta(days=365 * 10))))
    reg.add_bad(rng, 居民编号="LY999999", 姓名="王某", 团队编号="G011", 角色="队员",
                加入日期="2022-03-01")  # no such resident
    return reg, captains


def _employment(rng: random.Random, w: World) -> Register:
    reg = Register("employment", ["居民编号", "姓名", "统一社会信用代码", "单位名称", "职务", "入职日期"])
    law_firms = [e for e in w.enterprises if e.industry == "legal_services"]
    others = [e for e in w.enterprises if e.industry != "legal_services"]
    for r in w.residents:
        if r.occupation is None or r.retired or not 22 <= r.age <= 64:
            continue
        lawyer = r.occupation.en in ("Lawyer", "Legal counsel")
        if not (lawyer and rng.random() < 0.6) and rng.random() > (0.2 if r.foreign else 0.12):
            continue
        e = rng.choice(law_firms if lawyer and r.occupation.en == "Lawyer" else others)
        title = r.occupation.en if r.foreign else r.occupation.zh
        reg.add(居民编号=r.key, 姓名=r.name.name, 统一社会信用代码=e.uscc, 单位名称=e.name, 职务=title,
                入职日期=fmt_date(rng, rand_date(rng, max(r.birth + timedelta(days=365 * 22), date(2005, 1, 1)))))
    r = next(r for r in w.residents if r.adult)
    reg.add_bad(rng, 居民编号=r.key, 姓名=r.name.name, 统一社会信用代码=codes.uscc(rng), 单位名称="上海某某贸易有限公司",
                职务="职员", 入职日期="2020-01-01")  # valid USCC, but no such enterprise in the register
    return reg


def _co_building(rng: random.Random, w: World) -> Register:
    reg = Register("co_building", ["党组织编号", "共建单位名称", "共建单位类型", "统一社会信用代码", "场所编号",
                                   "共建党组织编号", "签约日期"])
    institutions = w.enterprises[: len(places.INSTITUTIONS)]
    companies = rng.sample([e for e in w.enterprises[len(places.INSTITUTIONS):] if not e.party_branch], k=14)
    anchored = [e for e in w.enterprises if e.party_branch][:2]
    for e in institutions + companies + anchored:  # 22 enterprises
        reg.add(党组织编号="C00", 共建单位名称=e.name, 共建单位类型="企业", 统一社会信用代码=e.uscc,
                签约日期=fmt_date(rng, date(rng.randint(2015, 2024), rng.randint(1, 12), 1)))
    for v in (places.VENUES[2], places.VENUES[7], places.VENUES[8], places.VENUES[3]):  # 4 venues
        reg.add(党组织编号="C00", 共建单位名称=v.name, 共建单位类型="场所", 场所编号=v.key,
                签约日期=fmt_date(rng, date(rng.randint(2016, 2024), rng.randint(1, 12), 1)))
    party_partners = [(f"X{i:02d}", n) for i, (n, _) in enumerate(places.EXTERNAL_PARTY_ORGS, start=1)]
    party_partners += [(f"E{i:02d}", f"{e.name}党支部") for i, e in
                       enumerate([e for e in w.enterprises if e.party_branch], start=1)][2:5]
    for key, name in party_partners:  # 10 party organisations
        reg.add(党组织编号="C00", 共建单位名称=name, 共建单位类型="党组织", 共建党组织编号=key,
                签约日期=fmt_date(rng, date(rng.randint(2015, 2024), rng.randint(1, 12), 1)))
    # Each residential-area party organisation is paired (结对共建) with two or three of the committee's
    # co-building enterprises, so members reach co-building units through their own branch.
    partners = institutions + companies
    for i in range(1, len(places.RESIDENTIAL_AREAS) + 1):
        for e in rng.sample(partners, k=rng.randint(2, 3)):
            reg.add(党组织编号=f"A{i:02d}", 共建单位名称=e.name, 共建单位类型="企业", 统一社会信用代码=e.uscc,
                    签约日期=fmt_date(rng, date(rng.randint(2018, 2024), rng.randint(1, 12), 1)))
    reg.add_bad(rng, 党组织编号="C00", 共建单位名称="联洋社区游泳馆", 共建单位类型="场所", 场所编号="V99",
                签约日期="2023-06-01")  # no such venue
    return reg


def _participation(rng: random.Random, w: World, projects: Register) -> Register:
    reg = Register("participation", ["居民编号", "姓名", "项目编号", "角色"])
    volunteers = [r for r in w.residents if r.volunteer]
    adults = [r for r in w.residents if r.adult]
    foreign_vol = [r for r in volunteers if r.foreign]
    intercultural = ("国际", "汉语角", "中外", "境外")
    for row in projects.rows:
        key, name = row[0], row[1]
        if not name:
            continue
        chosen: dict[str, tuple[Resident, str]] = {}
        for r in rng.sample(volunteers, k=min(len(volunteers), rng.randint(1, 2))):
            chosen[r.key] = (r, "organiser")
        if any(t in name for t in intercultural):
            for r in rng.sample(foreign_vol, k=min(len(foreign_vol), rng.randint(2, 6))):
                chosen.setdefault(r.key, (r, "volunteer"))
        for r in rng.sample(volunteers, k=min(len(volunteers), rng.randint(2, 8))):
            chosen.setdefault(r.key, (r, "volunteer"))
        for r in rng.sample(adults, k=min(len(adults), rng.randint(2, 12))):
            chosen.setdefault(r.key, (r, "participant"))
        for r, role in chosen.values():
            reg.add(居民编号=r.key, 姓名=r.name.name, 项目编号=key, 角色=role)
    r = volunteers[0]
    reg.add_bad(rng, 居民编号=r.key, 姓名=r.name.name, 项目编号="P997", 角色="volunteer")  # no such project
    return reg


# --- entry point -----------------------------------------------------------------------------------


def build(*, residents: int = 50_000, seed: int = 7) -> World:
    """Everything ``generate`` writes, in memory (tests and notebooks can look without files)."""
    if residents < 100:
        raise ValueError(f"residents={residents}: the demo needs at least 100 residents to staff its groups.")
    rng = random.Random(seed)
    labels = Labels(rng)
    buildings = _buildings(rng)
    people = _residents(rng, residents, buildings, labels)
    for r in people:
        if r.adult and not r.volunteer and rng.random() < (VOLUNTEER_SHARE * (1.6 if r.retired else 1.0)):
            r.volunteer = True
    w = World(buildings, people, _enterprises(rng, labels))
    areas, bldgs = _area_registers(rng, w, labels)
    party = _party_registers(rng, w, labels)  # sets political status before resident rows are written
    residents_reg, foreign_reg = _resident_registers(rng, w, labels)
    groups_members, captains = _group_membership(rng, w)
    leaders = party.pop("_leaders")
    for r, column, target, role in captains:
        leaders.add(**{"居民编号": r.key, "姓名": r.name.name, column: target, "角色": role, "职务说明": "队长"})
    leaders.add_bad(rng, 居民编号=people[0].key, 姓名=people[0].name.name, 楼栋编号="RA01-99",
                    角色="building_leader", 职务说明="居民楼组长")  # no such building
    projects, sponsorships = _project_registers(rng, w, labels)
    ordered = [areas, bldgs, _enterprise_register(rng, w, labels), party["party_orgs"], _venue_register(rng, labels),
               _group_register(rng, labels), projects, residents_reg, foreign_reg, party["party_members"],
               groups_members, _employment(rng, w), _co_building(rng, w), leaders,
               _participation(rng, w, projects), sponsorships]
    w.registers = {r.name: r for r in ordered}
    return w


def generate(out_dir: Path, *, residents: int = 50_000, seed: int = 7) -> GeneratedRegisters:
    """Write the demo registers into ``out_dir``; run ``demo/jobs/pipeline.yaml`` with ``input_dir=out_dir``."""
    world = build(residents=residents, seed=seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for reg in world.registers.values():
        path = out_dir / reg.filename
        if reg.sheet:
            write_xlsx(path, reg.sheet, reg.columns, reg.rows)
        else:
            write_csv(path, reg.columns, reg.rows, reg.encoding)
        paths[reg.name] = path
    return GeneratedRegisters(
        out_dir=out_dir,
        paths=paths,
        rows={r.name: len(r.rows) for r in world.registers.values()},
        bad_rows={r.name: r.bad for r in world.registers.values()},
        seed=seed,
        residents=residents,
    )
