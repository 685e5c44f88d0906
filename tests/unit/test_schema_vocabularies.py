from __future__ import annotations

import re
import unicodedata

import pytest
import yaml

from talentgraph.errors import OntologyError, ValidationError
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.schema.vocabularies import (
    Term,
    Vocabulary,
    load_vocabularies,
    normalise,
    parse_vocabulary,
    vocabulary,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def _ontology_vocab_names() -> set[str]:
    props = [p for n in ONTOLOGY.node_types for p in n.properties]
    props += [p for r in ONTOLOGY.rel_types for p in r.properties]
    return {p.vocabulary for p in props if p.vocabulary}


def test_every_vocabulary_named_in_the_ontology_exists() -> None:
    names = _ontology_vocab_names()
    assert len(names) == 16
    missing = names - set(load_vocabularies())
    assert not missing


def test_unknown_vocabulary_names_the_known_ones() -> None:
    with pytest.raises(OntologyError, match="Unknown vocabulary 'skillz'") as e:
        vocabulary("skillz")
    assert e.value.hint is not None and "skills" in e.value.hint


def test_loading_is_cached() -> None:
    assert load_vocabularies() is load_vocabularies()
    assert vocabulary("skills") is load_vocabularies()["skills"]


@pytest.mark.parametrize("name", sorted(load_vocabularies()))
def test_no_label_belongs_to_two_terms(name: str) -> None:
    seen: dict[str, str] = {}
    for label, term in vocabulary(name).all_labels():
        key = normalise(label)
        assert seen.setdefault(key, term.id) == term.id, f"{name}: {label!r} in {seen[key]} and {term.id}"


@pytest.mark.parametrize("name", sorted(load_vocabularies()))
def test_every_term_has_chinese_and_english_labels(name: str) -> None:
    for term in vocabulary(name):
        assert CJK.search(term.zh), f"{name}.{term.id} zh label {term.zh!r} has no Chinese characters"
        assert re.search(r"[A-Za-z]", term.en) and not CJK.search(term.en), f"{name}.{term.id}: {term.en!r}"


def test_skills_size_and_two_level_hierarchy() -> None:
    skills = vocabulary("skills")
    assert len(skills) >= 150
    roots = skills.roots()
    for term in skills:
        if term.parent is not None:
            assert term.parent in skills
            assert skills.terms[term.parent].parent is None, f"{term.id} is deeper than two levels"
            assert term.id.startswith(term.parent + "."), f"{term.id} is not named under {term.parent}"
    with_children = [r for r in roots if skills.children(r.id)]
    assert len(with_children) >= 25
    assert len(roots) < len(skills) / 3


def test_skills_have_synonyms_in_both_languages() -> None:
    skills = vocabulary("skills")
    with_both = [
        t for t in skills
        if any(CJK.search(s) for s in t.synonyms) and any(s.isascii() for s in t.synonyms)
    ]
    assert len(with_both) >= 0.8 * len(skills)


@pytest.mark.parametrize(
    ("text", "term_id"),
    [
        ("律师", "law"), ("lawyer", "law"), ("Attorney", "law"), ("法律咨询", "law"),
        ("诉讼律师", "law.litigation"), ("签证咨询", "law.immigration"),
        ("俄语翻译", "translation.ru"), ("同传", "interpretation.simultaneous"),
        ("护士", "nursing"), ("家教", "tutoring"), ("心理咨询师", "psychology.counselling"),
        ("书法", "arts.calligraphy"), ("二胡", "music.erhu"), ("Piano", "music.piano"), ("广场舞", "dance.square"),
        ("合唱团", "music.choir"), ("摄影师", "arts.photography"), ("太极", "sports.tai_chi"),
        ("ping pong", "sports.table_tennis"), ("plumber", "repair.plumbing"), ("电工", "repair.electrical"),
        ("修空调", "repair.appliance"), ("厨师", "cooking"), ("园艺", "gardening"), ("CPR", "first_aid.cpr"),
        ("社工", "community_work"), ("活动策划", "events"), ("为老服务", "elderly_care"), ("托育", "childcare"),
        ("会计师", "finance.accounting"), ("程序员", "it.software"),
    ],
)
def test_skill_lookup_by_any_label(text: str, term_id: str) -> None:
    term = vocabulary("skills").lookup(text)
    assert term is not None and term.id == term_id


def test_law_has_the_specialisms_and_descendants() -> None:
    skills = vocabulary("skills")
    children = {t.id for t in skills.children("law")}
    assert {"law.litigation", "law.contract", "law.immigration"} <= children
    assert {t.id for t in skills.descendants("law")} == children
    assert skills.expand("law")[0] == "law" and set(skills.expand("law")[1:]) == children
    assert [t.id for t in skills.ancestors("law.contract")] == ["law"]
    assert skills.children("law.contract") == []


@pytest.mark.parametrize("text", ["俄语", "Russian", "ru", "русский", "RU", " rus ", "俄文", "ＲＵ", "Русский"])
def test_russian_spellings_all_map_to_ru(text: str) -> None:
    term = vocabulary("languages").lookup(text)
    assert term is not None and term.id == "ru"


def test_languages_are_iso_639_1_and_cover_the_required_set() -> None:
    langs = vocabulary("languages")
    assert len(langs) >= 40
    required = "zh en ja ko fr de ru es it pt ar hi th vi id ms tl uk pl nl sv tr fa he el mn kk uz bn ur sw".split()
    assert set(required) <= set(langs.ids)
    assert all(re.fullmatch(r"[a-z]{2}", i) for i in langs.ids)
    assert all(t.native for t in langs)
    assert langs.terms["ja"].native == "日本語"


def test_nationalities_are_iso_3166_alpha2_and_cover_the_required_set() -> None:
    nat = vocabulary("nationalities")
    assert len(nat) >= 80
    required = "CN HK MO TW JP KR US FR DE RU GB IT ES SG MY TH VN ID PH IN AU CA BR UA KZ MN NO".split()
    assert set(required) <= set(nat.ids)
    assert all(re.fullmatch(r"[A-Z]{2}", i) for i in nat.ids)
    assert nat.lookup("香港").id == "HK"  # type: ignore[union-attr]
    assert nat.lookup("USA").id == "US"  # type: ignore[union-attr]
    assert nat.lookup("no").id == "NO"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("vocab", "text", "term_id"),
    [
        ("party_levels", "党委", "committee"), ("party_levels", "党总支", "general_branch"),
        ("party_levels", "党支部", "branch"), ("party_levels", "楼组党小组", "building_group"),
        ("party_levels", "临时党支部", "temporary_branch"),
        ("project_menus", "六大类菜单", "six_category"), ("project_menus", "企业菜单", "enterprise"),
        ("project_menus", "主题菜单", "theme"),
        ("project_categories", "为老服务", "elderly"), ("project_categories", "青少年", "youth"),
        ("project_categories", "文化", "culture"), ("project_categories", "环境", "environment"),
        ("project_categories", "平安法治", "safety_law"), ("project_categories", "邻里互助", "mutual_aid"),
        ("venue_kinds", "境外人员服务站", "foreign_service_station"), ("venue_kinds", "图书馆分馆", "library_branch"),
        ("venue_kinds", "广场", "plaza"), ("venue_kinds", "汉语角", "language_corner"),
        ("venue_kinds", "党群服务中心", "party_service_centre"), ("venue_kinds", "活动中心", "activity_centre"),
        ("group_kinds", "志愿者总队", "volunteer_corps"), ("group_kinds", "志愿者分队", "volunteer_branch"),
        ("group_kinds", "文化团队", "culture_team"), ("group_kinds", "外籍志愿者团队", "foreign_volunteer_team"),
        ("area_levels", "街道", "subdistrict"), ("area_levels", "社区", "community"),
        ("area_levels", "居民区", "residential_area"), ("area_levels", "楼栋", "building"),
        ("political_status", "中共党员", "party_member"), ("political_status", "预备党员", "probationary_member"),
        ("political_status", "共青团员", "league_member"), ("political_status", "民主党派", "democratic_party"),
        ("political_status", "群众", "masses"),
        ("genders", "男", "male"), ("genders", "女", "female"), ("genders", "F", "female"),
        ("id_kinds", "身份证", "resident_id"), ("id_kinds", "护照", "passport"),
        ("education", "本科", "bachelor"), ("education", "研究生", "master"),
        ("ownership", "外企", "foreign"), ("industries", "物业", "property_management"),
        ("project_statuses", "进行中", "in_progress"),
    ],
)
def test_small_vocabularies(vocab: str, text: str, term_id: str) -> None:
    term = vocabulary(vocab).lookup(text)
    assert term is not None and term.id == term_id


def test_industries_has_about_twenty_sections() -> None:
    assert 18 <= len(vocabulary("industries")) <= 25


def test_require_names_field_value_and_suggestions() -> None:
    with pytest.raises(ValidationError) as e:
        vocabulary("languages").require("Russain", "Person.languages")
    err = e.value
    assert err.field == "Person.languages" and err.value == "Russain"
    assert "'languages' vocabulary" in err.expected
    assert err.hint is not None and err.hint.startswith("Did you mean ru (俄语 / Russian)")


def test_require_suggests_by_containment_for_chinese() -> None:
    with pytest.raises(ValidationError) as e:
        vocabulary("skills").require("钢琴弹奏", "Person.skills")
    assert e.value.hint is not None and "music.piano" in e.value.hint


def test_require_without_close_labels_points_at_the_file() -> None:
    with pytest.raises(ValidationError) as e:
        vocabulary("genders").require("qqqqqq", "Person.gender")
    assert e.value.hint is not None and "vocab/genders.yaml" in e.value.hint


def test_term_labels_order_and_dedup() -> None:
    t = Term(id="ru", zh="俄语", en="Russian", native="русский", synonyms=("俄文", "Russian", "rus"))
    assert t.labels == ("ru", "俄语", "Russian", "русский", "俄文", "rus")
    assert t.label("en") == "Russian" and t.label("native") == "русский" and t.label() == "俄语"


def test_normalise_is_nfkc_casefold_strip() -> None:
    assert normalise("  Ｔａｉ  Chi ") == "tai chi"
    assert normalise("Straße") == normalise("STRASSE")
    assert normalise(unicodedata.normalize("NFD", "é")) == "é"


# --- loader errors -------------------------------------------------------------------------------


def _parse(text: str) -> Vocabulary:
    return parse_vocabulary(yaml.safe_load(text), "vocab/test.yaml")


def test_duplicate_label_across_terms_is_refused() -> None:
    with pytest.raises(OntologyError, match="'nurse' belongs to both 'a' and 'b'"):
        _parse("name: test\nterms:\n - {id: a, zh: 甲, en: Nurse}\n - {id: b, zh: 乙, en: B, synonyms: [nurse]}\n")


def test_missing_parent_is_refused() -> None:
    with pytest.raises(OntologyError, match="parent 'nope'"):
        _parse("name: test\nterms:\n - {id: a, zh: 甲, en: A, parent: nope}\n")


def test_parent_cycle_is_refused() -> None:
    with pytest.raises(OntologyError, match="loops"):
        _parse("name: test\nterms:\n - {id: a, zh: 甲, en: A, parent: b}\n - {id: b, zh: 乙, en: B, parent: a}\n")


def test_unquoted_yaml_boolean_id_is_refused() -> None:
    with pytest.raises(OntologyError, match="lacks a non-empty 'id'"):
        _parse("name: test\nterms:\n - {id: no, zh: 挪威语, en: Norwegian}\n")


def test_unquoted_comma_in_flow_mapping_is_refused() -> None:
    with pytest.raises(OntologyError, match="unknown keys"):
        _parse("name: test\nterms:\n - {id: a, zh: 甲, en: Hong Kong, China}\n")


def test_non_string_synonym_is_refused() -> None:
    with pytest.raises(OntologyError, match="synonyms"):
        _parse("name: test\nterms:\n - {id: a, zh: 甲, en: A, synonyms: [4:30]}\n")


def test_duplicate_id_is_refused() -> None:
    with pytest.raises(OntologyError, match="duplicate id 'a'"):
        _parse("name: test\nterms:\n - {id: a, zh: 甲, en: A}\n - {id: a, zh: 乙, en: B}\n")


def test_not_a_vocabulary_file() -> None:
    with pytest.raises(OntologyError, match="not a vocabulary file"):
        _parse("- just a list\n")


def test_the_shipped_vocabularies_read_the_same_with_libyaml() -> None:
    """Start-up reads them with libyaml's loader when PyYAML has it: every file must mean what the pure
    loader reads."""
    from importlib import resources

    from talentgraph.schema import vocabularies

    folder = resources.files("talentgraph.schema").joinpath("vocab")
    files = [e for e in folder.iterdir() if e.name.endswith(".yaml")]
    assert len(files) >= 10
    for entry in files:
        text = entry.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=vocabularies._SAFE_LOADER) == yaml.safe_load(text), entry.name
