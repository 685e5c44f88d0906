from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from talentgraph.errors import ValidationError
from talentgraph.schema.ontology import ONTOLOGY, Property, PropType
from talentgraph.schema.validation import (
    check_node_props,
    check_rel_props,
    validate_node_props,
    validate_rel_props,
)
from talentgraph.schema.vocabularies import vocabulary

PERSON = ONTOLOGY.node("Person")
VENUE = ONTOLOGY.node("Venue")


def _error(node: str, props: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as e:
        validate_node_props(ONTOLOGY.node(node), props)
    return e.value


def test_person_row_is_cast_mapped_and_validated() -> None:
    cleaned = validate_node_props(PERSON, {
        "name": " 测试甲 ",
        "latin_name": "Test Alpha",
        "gender": "女",
        "birth_year": "1984",
        "nationality": "俄罗斯",
        "languages": "俄语、Russian、English",
        "language_levels": ["Russian: b2", "zh:母语"],
        "skills": ["律师", "二胡", "lawyer"],
        "education": "硕士",
        "political_status": "群众",
        "phone": "138 1234 5678",
        "volunteer": "是",
        "bio": "",
        "occupation": None,
    })
    assert cleaned == {
        "name": "测试甲",
        "latin_name": "Test Alpha",
        "gender": "female",
        "birth_year": 1984,
        "nationality": "RU",
        "languages": ["ru", "en"],
        "language_levels": ["ru:B2", "zh:native"],
        "skills": ["law", "music.erhu"],
        "education": "master",
        "political_status": "masses",
        "phone": "+8613812345678",
        "volunteer": True,
    }
    # Ontology order, so content hashes do not depend on the source column order.
    assert list(cleaned) == [p.name for p in PERSON.properties if p.name in cleaned]


@pytest.mark.parametrize("text", ["俄语", "Russian", "ru", "русский"])
def test_vocabulary_values_become_term_ids(text: str) -> None:
    assert validate_node_props(PERSON, {"name": "测试乙", "languages": [text]})["languages"] == ["ru"]


def test_blank_values_are_absent() -> None:
    cleaned = validate_node_props(PERSON, {
        "name": "测试丙", "bio": "   ", "phone": None, "skills": [], "languages": ["", None], "birth_year": float("nan"),
    })
    assert cleaned == {"name": "测试丙"}


def test_unknown_property_names_type_and_known_properties() -> None:
    err = _error("Person", {"name": "测试丁", "nam": "x"})
    assert err.field == "Person.nam"
    assert err.hint is not None and "Did you mean 'name'?" in err.hint and "language_levels" in err.hint


def test_system_properties_are_not_accepted_from_a_mapping() -> None:
    assert _error("Person", {"name": "测试戊", "version": 3}).field == "Person.version"


def test_required_missing() -> None:
    err = _error("Project", {"name": "微心愿"})
    assert err.field == "Project.menu" and "required" in err.expected
    err = _error("Project", {"menu": "企业菜单", "name": "  "})
    assert err.field == "Project.name"


@pytest.mark.parametrize(("raw", "out"), [("1984", 1984), (1984, 1984), (1984.0, 1984), ("1,200", 1200),
                                           ("１９８４", 1984), ("1984.0", 1984), (" 42 ", 42)])
def test_int_cast(raw: Any, out: int) -> None:
    assert validate_node_props(PERSON, {"name": "x", "birth_year": raw})["birth_year"] == out


@pytest.mark.parametrize("raw", ["1984年", "abc", 1984.5, True, "19,84"])
def test_int_cast_invalid(raw: Any) -> None:
    err = _error("Person", {"name": "x", "birth_year": raw})
    assert err.field == "Person.birth_year" and err.expected == "a whole number" and err.value == raw


@pytest.mark.parametrize(
    ("raw", "out"),
    [("是", True), ("否", False), ("yes", True), ("No", False), ("TRUE", True), ("false", False), ("1", True),
     ("0", False), ("Y", True), ("n", False), (True, True), (0, False), (1, True)],
)
def test_bool_cast(raw: Any, out: bool) -> None:
    assert validate_node_props(PERSON, {"name": "x", "volunteer": raw})["volunteer"] is out


@pytest.mark.parametrize("raw", ["maybe", 2, "是的吧"])
def test_bool_cast_invalid(raw: Any) -> None:
    err = _error("Person", {"name": "x", "volunteer": raw})
    assert err.field == "Person.volunteer" and err.expected == "yes or no"


def test_float_and_coordinates() -> None:
    cleaned = validate_node_props(VENUE, {"name": "测试广场", "kind": "广场", "lat": "31.2304", "lon": 121.5447,
                                          "capacity": "200"})
    assert cleaned == {"name": "测试广场", "kind": "plaza", "lat": 31.2304, "lon": 121.5447, "capacity": 200}


def test_swapped_coordinates_hint_reaches_the_caller() -> None:
    err = _error("Venue", {"name": "测试站", "lat": 121.5447, "lon": 31.2304})
    assert err.field == "Venue.lat"
    assert err.hint is not None and "latitude and longitude look swapped" in err.hint


def test_float_invalid() -> None:
    err = _error("Venue", {"name": "测试站", "lat": "31,2"})
    assert err.field == "Venue.lat" and err.expected == "a number"


def test_dates() -> None:
    org = ONTOLOGY.node("PartyOrganization")
    assert validate_node_props(org, {"name": "测试党支部", "level": "党支部", "established": "2019年7月1日"}) == {
        "name": "测试党支部", "level": "branch", "established": "2019-07-01",
    }
    assert validate_node_props(org, {"name": "a", "level": "branch", "established": dt.date(2019, 7, 1)})[
        "established"] == "2019-07-01"
    err = _error("PartyOrganization", {"name": "a", "level": "branch", "established": "07/01/2019"})
    assert err.field == "PartyOrganization.established"


def test_string_list_from_one_string_or_a_list() -> None:
    assert validate_node_props(PERSON, {"name": "x", "skills": "书法，二胡; 钢琴"})["skills"] == [
        "arts.calligraphy", "music.erhu", "music.piano"]
    assert validate_node_props(PERSON, {"name": "x", "skills": "书法"})["skills"] == ["arts.calligraphy"]
    assert validate_node_props(PERSON, {"name": "x", "skills": ("书法", "二胡")})["skills"] == [
        "arts.calligraphy", "music.erhu"]
    err = _error("Person", {"name": "x", "skills": 42})
    assert err.field == "Person.skills"


def test_string_from_spreadsheet_number() -> None:
    ent = ONTOLOGY.node("Enterprise")
    assert validate_node_props(ent, {"name": "测试公司", "address": 101.0})["address"] == "101"


def test_vocabulary_error_names_field_value_and_suggestion() -> None:
    # skills is an open vocabulary: only a strict field rejects (open ones: test_schema_open_vocab.py)
    _, errors = check_node_props(ONTOLOGY.node("Person"), {"name": "x", "skills": ["书法", "钢琴弹奏"]},
                                 strict={"skills"})
    (err,) = errors
    assert err.field == "Person.skills" and err.value == "钢琴弹奏"
    assert err.hint is not None and "music.piano" in err.hint


def test_validator_runs_after_cast() -> None:
    err = _error("Enterprise", {"name": "测试公司", "uscc": "91350100M000100Y44"})
    assert err.field == "Enterprise.uscc" and "GB 32100" in err.expected
    assert validate_node_props(ONTOLOGY.node("Enterprise"), {"name": "测试公司", "uscc": "91350100m000100y43"})[
        "uscc"] == "91350100M000100Y43"


def test_check_collects_every_error() -> None:
    cleaned, errors = check_node_props(PERSON, {
        "nam": "x", "birth_year": "abc", "gender": "unknown-gender", "phone": "12345", "volunteer": "是",
    })
    assert [e.field for e in errors] == [
        "Person.nam", "Person.name", "Person.gender", "Person.birth_year", "Person.phone"]
    assert cleaned == {"volunteer": True}


def test_relationship_properties() -> None:
    member_of = ONTOLOGY.rel("MEMBER_OF")
    assert validate_rel_props(member_of, {"role": "secretary", "since": "2020/1/1"}) == {
        "role": "secretary", "since": "2020-01-01"}
    assert validate_rel_props(ONTOLOGY.rel("LIVES_IN"), {}) == {}
    with pytest.raises(ValidationError) as e:
        validate_rel_props(ONTOLOGY.rel("LIVES_IN"), {"role": "x"})
    assert e.value.field == "LIVES_IN.role" and "(none)" in (e.value.hint or "")
    _, errors = check_rel_props(ONTOLOGY.rel("SPONSORS"), {"year": "二〇二四"})
    assert [e.field for e in errors] == ["SPONSORS.year"]


def _minimal_value(prop: Property) -> Any:
    if prop.vocabulary:
        return vocabulary(prop.vocabulary).ids[0]
    return {PropType.STRING: "x", PropType.INT: 1, PropType.FLOAT: 1.0, PropType.BOOL: True,
            PropType.DATE: "2024-01-01", PropType.STRING_LIST: ["x"]}[prop.type]


@pytest.mark.parametrize("node", ONTOLOGY.node_names)
def test_every_node_type_accepts_its_required_properties(node: str) -> None:
    nt = ONTOLOGY.node(node)
    props = {p.name: _minimal_value(p) for p in nt.properties if p.required}
    assert validate_node_props(nt, props) == props
    for name in props:
        _, errors = check_node_props(nt, {k: val for k, val in props.items() if k != name})
        assert [e.field for e in errors] == [f"{node}.{name}"]


def test_a_property_added_to_the_ontology_is_validated_without_code_changes() -> None:
    onto = ONTOLOGY.with_property("Person", Property("mother_tongue", PropType.STRING, "L1.", vocabulary="languages"))
    person = onto.node("Person")
    assert validate_node_props(person, {"name": "x", "mother_tongue": "日语"})["mother_tongue"] == "ja"
    with pytest.raises(ValidationError, match="Person.mother_tongue"):
        validate_node_props(person, {"name": "x", "mother_tongue": "elvish"})


# --- compiled cleaners and their memo (ingest performance) ------------------------------------------


def test_memo_is_bounded_and_never_remembers_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from talentgraph.schema import validation

    prop = Property("memo_phone", PropType.STRING, "A phone.", validator="phone")
    clean = validation.cleaner(prop)
    assert clean is validation.cleaner(prop)  # compiled once per property
    monkeypatch.setattr(validation, "MEMO_SIZE", 3)
    numbers = [f"1381234{i:04d}" for i in range(10)]
    assert [clean(n, "P.phone") for n in numbers] == [f"+86{n}" for n in numbers]
    assert clean(numbers[0], "P.phone") == f"+86{numbers[0]}"  # after the memo started over
    for _ in range(2):  # a bad value fails every time, with this call's field name
        with pytest.raises(ValidationError) as e:
            clean("12345", "Other.phone")
        assert e.value.field == "Other.phone"


def test_vocabulary_memo_keeps_text_and_numbers_apart() -> None:
    prop = Property("memo_gender", PropType.STRING, "Gender.", vocabulary="genders")
    from talentgraph.schema.validation import cleaner

    clean = cleaner(prop)
    assert clean("女", "P.g") == clean(" 女 ", "P.g") == "female"
    with pytest.raises(ValidationError):
        clean(1, "P.g")  # the number 1 is not a label, whatever was remembered for "1"


def test_properties_given_as_a_generator_are_validated_too() -> None:
    from talentgraph.schema.validation import check_props

    cleaned, errors = check_props("Person", (p for p in PERSON.properties), {"name": " x ", "gender": "男"})
    assert cleaned == {"name": "x", "gender": "male"} and errors == []
