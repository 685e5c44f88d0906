"""The demo register generator: determinism, scale, encodings, valid codes and the bad-row ledger.

The bad-row check re-derives, from the files alone, which rows are invalid (using the schema's
validators and vocabularies and the keys the other registers define) and compares that with what
``generate`` reports, so a good row that accidentally fails, or a bad row that accidentally
passes, is caught without running the ingest engine.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from openpyxl import load_workbook

from talentgraph.demo import GeneratedRegisters, build, codes, generate, load_truth
from talentgraph.demo.generator import FOREIGN_DUPLICATE_RATE, PIPELINE
from talentgraph.demo.codes import corrupt_check_char, uscc
from talentgraph.demo.names import latin_spelling
from talentgraph.errors import ValidationError
from talentgraph.ingest.mapping import load_pipeline
from talentgraph.ingest.transforms import Context, parse_date
from talentgraph.schema import validators
from talentgraph.schema.geo import gcj02_to_wgs84
from talentgraph.schema.vocabularies import vocabulary

SMALL = 2000
_SPLIT = re.compile(r"[,;，；、/]")


@pytest.fixture(scope="module")
def regs(tmp_path_factory: pytest.TempPathFactory) -> GeneratedRegisters:
    return generate(tmp_path_factory.mktemp("demo"), residents=SMALL, seed=7)


def read(regs: GeneratedRegisters, name: str) -> list[dict[str, Any]]:
    path = regs.paths[name]
    if path.suffix == ".xlsx":
        wb = load_workbook(path, read_only=True)
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        header = [str(h) for h in rows[0]]
        return [{h: ("" if v is None else v) for h, v in zip(header, r)} for r in rows[1:]]
    encoding = "gbk" if name in ("residents", "buildings") else "utf-8-sig"
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def fails(check: Any, *args: Any) -> bool:
    try:
        check(*args)
    except ValidationError:
        return True
    return False


# --- determinism and scale ------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(regs: GeneratedRegisters, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", residents=SMALL, seed=7)
    assert set(again.paths) == set(regs.paths)
    for name, path in regs.paths.items():
        assert path.read_bytes() == again.paths[name].read_bytes(), name
    assert regs.truth.read_bytes() == again.truth.read_bytes()


def test_the_progress_bar_names_each_phase_and_changes_no_byte(
    regs: GeneratedRegisters, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A million residents take minutes to generate: the bar names each phase (the residents, each file as it is
    written) and draws nothing from the random streams (the same bytes as without it)."""
    shown = generate(tmp_path / "shown", residents=SMALL, seed=7, progress=True)
    err = capsys.readouterr().err
    for name, path in regs.paths.items():
        assert path.read_bytes() == shown.paths[name].read_bytes(), name
        assert f"writing {path.name} ({shown.rows[name]:,} rows)" in err
    assert regs.truth.read_bytes() == shown.truth.read_bytes()
    assert f"making {SMALL:,} residents" in err and "writing documents" in err
    steps = len(regs.paths) + 4  # residents, registers, each file, truth, documents
    assert f"{steps}/{steps}" in err


def test_other_seed_gives_other_registers(regs: GeneratedRegisters, tmp_path: Path) -> None:
    other = generate(tmp_path / "other", residents=SMALL, seed=8)
    for name in ("residents", "foreign_residents", "enterprises", "buildings", "volunteers", "talent_survey"):
        assert other.paths[name].read_bytes() != regs.paths[name].read_bytes(), name


def test_scale_knob_keeps_every_structural_entity(regs: GeneratedRegisters) -> None:
    good = regs.good_rows
    duplicates = round(SMALL // 10 * FOREIGN_DUPLICATE_RATE)  # foreign residents registered twice
    assert good["residents"] + good["foreign_residents"] == SMALL + duplicates
    assert good["foreign_residents"] == SMALL // 10 + duplicates
    assert good["areas"] == 11  # subdistrict, community, 9 residential areas
    assert good["buildings"] == 160
    assert good["enterprises"] == 200
    assert good["groups"] == 22
    committee_units = [r for r in read(regs, "co_building") if r["党组织编号"] == "C00" and r["共建单位名称"] != "联洋社区游泳馆"]
    assert len(committee_units) == 36
    assert good["co_building"] - 36 >= 2 * 9  # each residential-area organisation is paired with 2–3 units
    assert good["venues"] >= 10
    projects = [r for r in read(regs, "projects") if r["项目名称"]]
    menus = Counter(vocabulary("project_menus").lookup(r["菜单"]).id for r in projects)  # type: ignore[union-attr]
    assert menus == {"six_category": 100, "enterprise": 70, "theme": 25}
    levels = Counter(vocabulary("party_levels").lookup(r["层级"]).id  # type: ignore[union-attr]
                     for r in read(regs, "party_orgs") if r["组织名称"])
    assert levels["committee"] == 1
    assert levels["building_group"] == 160
    assert levels["temporary_branch"] == 22
    area_orgs = [r for r in read(regs, "party_orgs") if r["上级组织编号"] == "C00" and r["组织编号"].startswith("A")]
    assert len(area_orgs) == 9
    kinds = {vocabulary("venue_kinds").lookup(r["类型"]).id: r for r in read(regs, "venues")}  # type: ignore[union-attr]
    assert {"foreign_service_station", "library_branch", "plaza", "language_corner"} <= set(kinds)
    assert int(kinds["plaza"]["停车位"]) > 0
    groups = Counter(vocabulary("group_kinds").lookup(r["类型"]).id for r in read(regs, "groups") if r["团队名称"])  # type: ignore[union-attr]
    assert groups["culture_team"] >= 10 and groups["foreign_volunteer_team"] == 1 and groups["volunteer_corps"] == 1
    building_keys = {f"{b['小区编号']}-{b['楼号']}" for b in read(regs, "buildings")}
    roles = Counter(r["角色"] for r in read(regs, "leaders") if r["楼栋编号"] in building_keys)
    assert roles["party_building_leader"] == roles["building_leader"] == 160  # double building leaders


# Registers of places, organisations and projects with their English names (英文名称, bilingual signage) and the
# node type the demo job maps the column to (name_en).
ENGLISH_COLUMNS = {"areas": ("Area", "名称"), "buildings": ("Area", "楼栋名称"),
                   "party_orgs": ("PartyOrganization", "组织名称"), "venues": ("Venue", "场所名称"),
                   "groups": ("Group", "团队名称"), "projects": ("Project", "项目名称")}


def test_english_names_are_written_and_mapped(regs: GeneratedRegisters) -> None:
    jobs = {spec.source.path.name: spec for spec in load_pipeline(PIPELINE, input_dir=regs.out_dir)}
    for name, (type_name, title) in ENGLISH_COLUMNS.items():
        rows = [r for r in read(regs, name) if r[title]]
        # Every named row has an English name, one per name: "Thumb Plaza" names one venue.
        assert all(r["英文名称"] for r in rows), name
        pairs = {(str(r[title]), str(r["英文名称"])) for r in rows if r["英文名称"]}
        assert len({en for _, en in pairs}) == len({zh for zh, _ in pairs}), name
        node = jobs[regs.paths[name].name].nodes[0]
        assert node.type == type_name
        assert any(p.targets == ("name_en",) and p.columns == ("英文名称",) for p in node.properties), name
    venues = {r["场所名称"]: r["英文名称"] for r in read(regs, "venues")}
    assert venues["大拇指广场"] == "Thumb Plaza" and venues["上海图书馆东馆"] == "Shanghai Library East"
    orgs = {r["组织编号"]: r["英文名称"] for r in read(regs, "party_orgs")}
    assert orgs["A01"] == "Lianyang Xinyuan General Party Branch"  # 联洋新苑居民区党总支
    assert orgs["C00"] == "Lianyang Community Party Committee"
    assert {r["区域编号"]: r["英文名称"] for r in read(regs, "areas")}["RA04"] == "Haitong Court"


def test_default_scale_party_share() -> None:
    from talentgraph.demo.generator import PARTY_SHARE

    assert round(50_000 * PARTY_SHARE) == 2136


def test_rejects_a_scale_too_small_to_staff_the_groups(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="residents=10"):
        generate(tmp_path, residents=10)


# --- encodings and scripts ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["residents", "buildings"])
def test_gbk_registers_are_gbk(regs: GeneratedRegisters, name: str) -> None:
    data = regs.paths[name].read_bytes()
    text = data.decode("gbk")
    assert re.search(r"[\u4e00-\u9fff]", text)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_foreign_register_holds_many_scripts(regs: GeneratedRegisters) -> None:
    data = regs.paths["foreign_residents"].read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM, as Excel writes "CSV UTF-8"
    names = " ".join(r["姓名"] for r in read(regs, "foreign_residents"))
    for script, pattern in {
        "Cyrillic": r"[\u0400-\u04ff]", "Hangul": r"[\uac00-\ud7af]", "kana": r"[\u3040-\u30ff]",
        "Arabic": r"[\u0600-\u06ff]", "Thai": r"[\u0e00-\u0e7f]", "Latin diacritics": r"[À-ž]",
    }.items():
        assert re.search(pattern, names), script
    for r in read(regs, "foreign_residents"):
        if r["姓名"]:
            assert r["英文姓名"].isascii(), r["英文姓名"]  # the passport spelling
        if r["国籍"] == "India" and r["姓名"]:
            assert re.search(r"[\u0900-\u097f]", r["姓名"]), r["姓名"]


def test_latin_spelling_drops_diacritics() -> None:
    assert latin_spelling("Łukasz Wiśniewski") == "Lukasz Wisniewski"
    assert latin_spelling("Jürgen Weiß") == "Jurgen Weiss"
    assert latin_spelling("Nguyễn Đức Minh") == "Nguyen Duc Minh"


def test_polyphonic_surnames_get_their_surname_reading(regs: GeneratedRegisters) -> None:
    readings = {"曾": "Zeng", "单": "Shan", "解": "Xie", "区": "Ou"}
    seen = 0
    for r in read(regs, "residents"):
        sur = r["姓名"][:1]
        if sur in readings and not r["姓名"].startswith(("欧阳", "上官", "司马", "诸葛")):
            assert r["拼音姓名"].split()[0] == readings[sur], r
            seen += 1
    assert seen >= 5


# --- codes and labels -----------------------------------------------------------------------------


def test_good_codes_pass_the_validators(regs: GeneratedRegisters) -> None:
    bad_keys = _bad_keys(regs)
    residents = [r for r in read(regs, "residents") if r["居民编号"] not in bad_keys["residents"]]
    for r in residents:
        validators.resident_id(r["证件号码"])
        if r["联系电话"]:
            validators.phone(r["联系电话"])
    foreign = [r for r in read(regs, "foreign_residents") if r["居民编号"] not in bad_keys["foreign_residents"]]
    for r in foreign:
        validators.passport(r["证件号码"])
        if r["联系电话"]:
            validators.phone(r["联系电话"])
        for level in filter(None, r["语言水平"].split(";")):
            validators.language_level(level)
    for e in read(regs, "enterprises"):
        if e["统一社会信用代码"] not in bad_keys["enterprises"]:
            validators.uscc(e["统一社会信用代码"])
    # Pudong ids of people born before Pudong existed (1993) must be among them.
    assert any(r["证件号码"].startswith("310115") and int(r["证件号码"][6:10]) < 1993 for r in residents)
    phones = [r["联系电话"] for r in residents if r["联系电话"]]
    assert any(p.startswith("+86-") for p in phones) and any(p.startswith(("021-", "(021)")) for p in phones)
    assert any(re.fullmatch(r"1\d{2} \d{4} \d{4}", p) for p in phones)


def test_corrupted_codes_fail() -> None:
    import random

    code = uscc(random.Random(1))
    validators.uscc(code)
    assert fails(validators.uscc, corrupt_check_char(code, "0123456789ABCDEFGHJKLMNPQRTUWXY"))


def test_labels_are_written_the_way_staff_type_them(regs: GeneratedRegisters) -> None:
    skills, languages = vocabulary("skills"), vocabulary("languages")
    cn_labels = [p for r in read(regs, "residents") for p in _SPLIT.split(r["技能特长"]) if p]
    en_labels = [p for r in read(regs, "foreign_residents") for p in _SPLIT.split(r["技能"]) if p]
    assert all(re.search(r"[\u4e00-\u9fff]", p) for p in cn_labels)
    assert all(p.isascii() for p in en_labels)
    zh_primary = {t.zh for t in skills}
    assert any(p not in zh_primary for p in cn_labels), "some synonyms are expected"
    assert all(skills.lookup(p) for p in cn_labels + en_labels)
    assert languages.lookup("俄语").id == "ru"  # type: ignore[union-attr]


def test_russian_speaking_lawyers_exist_in_both_registers(regs: GeneratedRegisters) -> None:
    skills, languages = vocabulary("skills"), vocabulary("languages")
    law = set(skills.expand("law"))

    def count(rows: list[dict[str, Any]], skill_col: str, lang_col: str) -> int:
        n = 0
        for r in rows:
            langs = {languages.lookup(p).id for p in _SPLIT.split(r[lang_col]) if languages.lookup(p)}  # type: ignore[union-attr]
            sk = {skills.lookup(p).id for p in _SPLIT.split(r[skill_col]) if skills.lookup(p)}  # type: ignore[union-attr]
            n += "ru" in langs and bool(sk & law)
        return n

    assert count(read(regs, "foreign_residents"), "技能", "语言") >= 3
    assert count(read(regs, "residents"), "技能特长", "语言能力") >= 3


def test_coordinates_are_gcj02_inside_the_community(regs: GeneratedRegisters) -> None:
    bad = _bad_keys(regs)["buildings"]
    for b in read(regs, "buildings"):
        if f"{b['小区编号']}-{b['楼号']}" in bad:
            continue
        lon, lat = float(b["经度"]), float(b["纬度"])
        assert 31.213 <= lat <= 31.237 and 121.543 <= lon <= 121.577
        wlon, wlat = gcj02_to_wgs84(lon, lat)
        assert 0.002 < abs(lon - wlon) + abs(lat - wlat) < 0.01  # the GCJ-02 shift is a few hundred metres


# --- the bad-row ledger ---------------------------------------------------------------------------


def _kind(number: str) -> str:
    return "resident_id" if re.fullmatch(r"\d{17}[\dX]", re.sub(r"\s", "", number)) else "passport"


def _bad_keys(regs: GeneratedRegisters) -> dict[str, set[str]]:
    """Keys (or row ids) of rows that must be quarantined, found by checking each row independently."""
    genders = vocabulary("genders")
    out: dict[str, set[str]] = {}
    out["areas"] = {r["区域编号"] for r in read(regs, "areas") if not r["名称"]}

    def coords_bad(r: dict[str, Any]) -> bool:
        lon, lat = gcj02_to_wgs84(float(r["经度"]), float(r["纬度"])) if r["经度"] else (121.56, 31.22)
        return fails(validators.latitude, lat) or fails(validators.longitude, lon)

    buildings = read(regs, "buildings")
    out["buildings"] = {f"{b['小区编号']}-{b['楼号']}" for b in buildings if not b["楼栋名称"] or coords_bad(b)}
    building_keys = {f"{b['小区编号']}-{b['楼号']}" for b in buildings} - out["buildings"]
    ents = read(regs, "enterprises")
    out["enterprises"] = {e["统一社会信用代码"] for e in ents
                          if not e["企业名称"] or fails(validators.uscc, e["统一社会信用代码"])}
    ent_keys = {e["统一社会信用代码"] for e in ents} - out["enterprises"]
    orgs = read(regs, "party_orgs")
    out["party_orgs"] = {o["组织编号"] for o in orgs if not o["组织名称"]}
    org_keys = {o["组织编号"] for o in orgs} - out["party_orgs"]
    venues = read(regs, "venues")
    out["venues"] = {v["场所编号"] for v in venues if not v["场所名称"] or coords_bad(v)}
    venue_keys = {v["场所编号"] for v in venues} - out["venues"]
    groups = read(regs, "groups")
    out["groups"] = {g["团队编号"] for g in groups if not g["团队名称"]}
    group_keys = {g["团队编号"] for g in groups} - out["groups"]
    projects = read(regs, "projects")
    out["projects"] = {p["项目编号"] for p in projects if not p["项目名称"]}
    project_keys = {p["项目编号"] for p in projects} - out["projects"]

    def person_bad(r: dict[str, Any], lang_col: str, foreign: bool) -> bool:
        return (not r["姓名"]
                or fails(validators.passport if foreign else validators.resident_id, r["证件号码"])
                or (bool(r["联系电话"]) and fails(validators.phone, r["联系电话"]))
                or genders.lookup(r["性别"]) is None
                or f"{r['小区编号']}-{r['楼号']}" not in building_keys)

    def record_bad(r: dict[str, Any], phone_col: str) -> bool:
        """A row of the volunteer register or the talent survey that ingest must reject."""
        number = str(r["证件号码"])
        return (not r["姓名"] or genders.lookup(r["性别"]) is None
                or (bool(r["出生日期"]) and fails(parse_date, r["出生日期"], Context("birth_date", "出生日期")))
                or (bool(r[phone_col]) and fails(validators.phone, r[phone_col]))
                or (bool(number) and fails(validators.identity_number, _kind(number), number)))

    cn, fr = read(regs, "residents"), read(regs, "foreign_residents")
    out["residents"] = {r["居民编号"] for r in cn if person_bad(r, "语言能力", False)}
    out["foreign_residents"] = {r["居民编号"] for r in fr if person_bad(r, "语言", True)}
    people = ({r["居民编号"] for r in cn} - out["residents"]) | ({r["居民编号"] for r in fr} - out["foreign_residents"])

    def dangling(name: str, *checks: tuple[str, set[str]]) -> None:
        rows = read(regs, name)
        out[name] = {str(i) for i, r in enumerate(rows)
                     if any(r[col] and r[col] not in keys for col, keys in checks)
                     or not any(r[col] for col, _ in checks[1:])}

    group_names = {g["团队名称"] for g in groups if g["团队编号"] in group_keys}
    out["volunteers"] = {v["志愿者编号"] for v in read(regs, "volunteers")
                         if record_bad(v, "手机") or (v["服务队伍"] and v["服务队伍"] not in group_names)}
    out["talent_survey"] = {t["调查编号"] for t in read(regs, "talent_survey") if record_bad(t, "联系电话")}
    dangling("party_members", ("居民编号", people), ("党组织编号", org_keys), ("党小组编号", org_keys))
    dangling("group_members", ("居民编号", people), ("团队编号", group_keys))
    dangling("employment", ("居民编号", people), ("统一社会信用代码", ent_keys))
    dangling("co_building", ("党组织编号", org_keys), ("统一社会信用代码", ent_keys), ("场所编号", venue_keys),
             ("共建党组织编号", org_keys))
    dangling("leaders", ("居民编号", people), ("楼栋编号", building_keys), ("团队编号", group_keys),
             ("党组织编号", org_keys))
    dangling("participation", ("居民编号", people), ("项目编号", project_keys))
    dangling("sponsorships", ("统一社会信用代码", ent_keys), ("项目编号", project_keys))
    return out


def test_bad_row_counts_match_the_rows_that_are_bad(regs: GeneratedRegisters) -> None:
    found = {name: len(keys) for name, keys in _bad_keys(regs).items()}
    assert found == regs.bad_rows
    assert all(n >= 1 for n in regs.bad_rows.values())
    assert regs.bad_rows["residents"] == 4 and regs.bad_rows["enterprises"] == 3


def test_bad_rows_cover_each_kind_of_mistake(regs: GeneratedRegisters) -> None:
    text = "\n".join(path.read_bytes().decode("gbk" if name in ("residents", "buildings") else "utf-8", "replace")
                     for name, path in regs.paths.items() if path.suffix == ".csv")
    assert "克林贡语" in text and "Klingon" in text  # languages not in the vocabulary: kept for review
    assert "待定" in text and "unknown" in text  # genders not in the (closed) vocabulary
    assert re.search(r"\d[a-z]{2}\b", text)  # letters in a phone number
    assert ",RA02,99," in text  # a resident in a building that does not exist
    swapped = [b for b in read(regs, "buildings") if float(b["经度"]) < 90]
    assert len(swapped) == 1


def test_xlsx_keeps_codes_as_text(regs: GeneratedRegisters) -> None:
    wb = load_workbook(regs.paths["enterprises"], read_only=True)
    ws = wb.worksheets[0]
    assert ws.title == "企业名录"
    first = next(ws.iter_rows(min_row=2, max_row=2, values_only=True))
    wb.close()
    assert isinstance(first[0], str) and len(first[0]) == 18
    assert isinstance(first[5], int)  # headcount is a number


# --- the same people in several registers -----------------------------------------------------------


def test_truth_names_every_person_record_and_its_person(regs: GeneratedRegisters) -> None:
    truth = load_truth(regs.truth)
    bad = _bad_keys(regs)
    key_col = {"residents": "居民编号", "foreign_residents": "居民编号", "volunteers": "志愿者编号",
               "talent_survey": "调查编号"}
    records = {f"per:{r[col]}" for name, col in key_col.items() for r in read(regs, name) if r[col] not in bad[name]}
    assert set(truth) == records
    residents = {r["居民编号"] for name in ("residents", "foreign_residents") for r in read(regs, name)}
    assert set(truth.values()) <= residents | {p for p in truth.values() if p.startswith("XV")}
    assert all(truth[f"per:{k}"] == k for k in residents - bad["residents"] - bad["foreign_residents"]
               if k in {p for p in truth.values()})
    by_register = Counter(record[4:6] for record, person in truth.items() if record != f"per:{person}")
    assert by_register["VT"] > 0.6 * 0.7 * sum(1 for r in build(residents=SMALL, seed=7).residents if r.volunteer)
    assert by_register["TS"] > 0.04 * SMALL and by_register["LY"] == round(SMALL // 10 * FOREIGN_DUPLICATE_RATE)
    outsiders = {p for p in truth.values() if p.startswith("XV")}
    assert outsiders and all(list(truth.values()).count(p) == 1 for p in outsiders)  # true singletons


def test_copies_are_spelled_differently_but_normalise_alike(regs: GeneratedRegisters) -> None:
    world = build(residents=SMALL, seed=7)
    people = {r.key: r for r in world.residents}
    copies: list[tuple[dict[str, Any], Any, str]] = []
    for name, phone_col in (("volunteers", "手机"), ("talent_survey", "联系电话")):
        key_col = "志愿者编号" if name == "volunteers" else "调查编号"
        for row in read(regs, name):
            person = world.truth.get(f"per:{row[key_col]}")
            if person in people:
                copies.append((row, people[person], phone_col))
    phones = [(str(row[col]), r.phone) for row, r, col in copies if row[col]]
    same = [validators.phone(a) == validators.phone(b) for a, b in phones]
    assert 0.85 < sum(same) / len(same) < 1  # reformatted, now and then a new number
    assert sum(a != b for a, b in phones) > len(phones) / 3  # formats differ
    ids = [(str(row["证件号码"]), r) for row, r, _ in copies if row["证件号码"]]
    assert ids and any(" " in a for a, _ in ids) and any(" " not in a for a, _ in ids)
    for number, r in ids:
        if not r.foreign:  # resident ids are never mistyped (they would fail their check character)
            assert validators.identity_number("resident_id", number) == validators.resident_id(r.id_number)
    births = [(str(row["出生日期"]), r.birth) for row, r, _ in copies if row["出生日期"]]
    exact = [parse_date(b, Context("birth_date", "出生日期")) == d for b, d in births]
    assert 0.95 < sum(exact) / len(exact) <= 1
    assert len(births) < 0.98 * len(copies)  # some missing
    chinese = [(str(row["姓名"]), r.name.name) for row, r, _ in copies if not r.foreign]
    assert any(a != b for a, b in chinese) and sum(a == b for a, b in chinese) > 0.9 * len(chinese)
    latin = [str(row.get("拼音或英文名") or row.get("外文姓名") or "") for row, r, _ in copies if not r.foreign]
    assert any(re.fullmatch(r"[A-Z]{2,} \S+", n) for n in latin)  # ZHANG Wei


def test_foreign_reregistrations_differ_from_the_first(regs: GeneratedRegisters) -> None:
    truth = load_truth(regs.truth)
    rows = {r["居民编号"]: r for r in read(regs, "foreign_residents")}
    dups = [(rows[record[4:]], rows[person]) for record, person in truth.items()
            if record[4:] in rows and record[4:] != person]
    assert dups
    assert any(a["国籍"] != b["国籍"] for a, b in dups)  # Russian Federation / Russia
    assert any(a["英文姓名"] != b["英文姓名"] for a, b in dups)
    assert sum(validators.passport(a["证件号码"]) == validators.passport(b["证件号码"]) for a, b in dups) > len(dups) / 2


def test_some_households_share_one_phone(regs: GeneratedRegisters) -> None:
    rooms: dict[str, set[tuple[str, str]]] = {}
    bad = _bad_keys(regs)["residents"]  # bad rows copy a good row's phone
    for r in read(regs, "residents"):
        if r["联系电话"] and r["居民编号"] not in bad:
            rooms.setdefault(r["联系电话"], set()).add((r["居民编号"], f"{r['小区编号']}-{r['楼号']}-{r['室号']}"))
    shared = [v for v in rooms.values() if len(v) > 1]
    assert shared and all(len({room for _, room in v}) == 1 for v in shared)


def _spellings(name: Any, draws: int = 400) -> tuple[set[str], set[str]]:
    import random

    from talentgraph.demo import variations

    rng = random.Random(1)
    return ({variations.own_name(rng, name) for _ in range(draws)},
            {variations.latin_name(rng, name) for _ in range(draws)})


def test_names_vary_by_script() -> None:
    from talentgraph.demo.names import PersonName, chinese_name, foreign_name

    ru = PersonName("Наталья Иванова", "Natalia Ivanova", "ru", ("Иванова",), ("Наталья",), ("Ivanova",),
                    ("Natalia", "Natalya", "Nataliya"))
    own, latin = _spellings(ru)
    assert {"Наталья Иванова", "Natalia Ivanova", "Natalya Ivanova"} <= own
    assert {"Natalia Ivanova", "Ivanova Natalia", "IVANOVA Natalia", "Natalya Ivanova"} <= latin
    ko = PersonName("김민수", "Kim Minsu", "ko", ("김", "金"), ("민수", "敏秀"), ("Kim", "Gim"), ("Minsu", "Min-su"))
    own, latin = _spellings(ko)
    assert {"김민수", "金敏秀", "Kim Minsu"} <= own and {"Kim Min-su", "Minsu Kim", "KIM Minsu"} <= latin
    ja = foreign_name(__import__("random").Random(5), "ja", "female")
    own, _ = _spellings(ja)
    assert any(re.fullmatch(r"[\u3040-\u309f ]+", n) for n in own), own  # in kana
    de = PersonName("Jürgen Müller", "Jurgen Muller", "de", ("Müller",), ("Jürgen",), ("Muller", "Mueller"),
                    ("Jurgen", "Juergen"))
    own, _ = _spellings(de)
    assert {"Jürgen Müller", "Jurgen Muller", "Juergen Mueller"} <= own
    zh = chinese_name(__import__("random").Random(2), "male")
    own, latin = _spellings(zh, 2000)
    assert zh.name in own and len(own) > 1  # a typo now and then
    assert zh.latin in latin and any(n.isupper() or n.split()[0].isupper() for n in latin)
    assert any(n.split()[-1] == zh.family_latin[0] for n in latin)  # given name first


@pytest.mark.parametrize("template", [*codes._FOREIGN_MOBILES.values(), *codes._LANDLINES, "138xxxxxxxx",
                                      "138 xxxx xxxx", "+86-138-xxxx-xxxx", "+86 138xxxxxxxx"])
def test_generated_phone_parts_are_what_parse_finds(template: str) -> None:
    """The generator checks the parts it composed instead of parsing its own text: the same answer for every
    format it writes, valid or not (so the draws, and the registers, are what parsing gave)."""
    rng = random.Random(template)
    cc = int(template[1:template.index(" ")]) if template.startswith("+") and " " in template[:4] else 86
    for _ in range(3000):
        number = codes._fill(rng, template)
        parsed = phonenumbers.parse(number, "CN")
        assert codes._parts(number, cc) == (parsed.country_code, str(parsed.national_number)), number
        assert codes._valid(*codes._parts(number, cc)) == phonenumbers.is_valid_number(parsed), number
