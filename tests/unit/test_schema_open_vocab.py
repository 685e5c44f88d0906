"""Open vocabularies: unknown values kept as unreviewed terms, language levels from qualifiers, strict
mappings, the fuller person model (birth_year from birth_date) and the ontology's checks of its links."""

from __future__ import annotations

from pathlib import Path

import pytest

from talentgraph.errors import IngestError, OntologyError
from talentgraph.ingest.mapping import load_job
from talentgraph.schema.ontology import ONTOLOGY, NodeType, Ontology, Property, PropType
from talentgraph.schema.qualifiers import level_of, split_level
from talentgraph.schema.validation import MAX_TERM_CHARS, check_node_props

PERSON = ONTOLOGY.node("Person")


def check(props: dict[str, object], **kw: object) -> tuple[dict[str, object], list[str]]:
    cleaned, errors = check_node_props(PERSON, {"name": "林晓", **props}, **kw)  # type: ignore[arg-type]
    return cleaned, [str(e) for e in errors]


def test_unknown_skill_is_kept_for_review_not_rejected() -> None:
    cleaned, errors = check({"skills": "律师、 红酒品鉴 ,ＡＢＣ  Club"})
    assert errors == []
    assert cleaned["skills"] == ["law"]
    # NFKC (full-width → ASCII), spaces collapsed and trimmed; case kept as written.
    assert cleaned["skills_unreviewed"] == ["红酒品鉴", "ABC Club"]


def test_unknown_scalar_goes_to_its_companion_and_the_property_stays_empty() -> None:
    cleaned, errors = check({"education": " 私塾 ", "nationality": "Atlantis"})
    assert errors == []
    assert "education" not in cleaned and cleaned["education_unreviewed"] == ["私塾"]
    assert "nationality" not in cleaned and cleaned["nationality_unreviewed"] == ["Atlantis"]


def test_strict_properties_keep_the_old_behaviour() -> None:
    cleaned, errors = check({"skills": "律师、红酒品鉴"}, strict={"skills"})
    assert len(errors) == 1 and "Person.skills" in errors[0] and "红酒品鉴" in errors[0]
    assert "skills_unreviewed" not in cleaned


def test_closed_vocabularies_still_reject() -> None:
    _, errors = check({"gender": "未知性别"})
    assert len(errors) == 1 and "Person.gender" in errors[0] and "genders" in errors[0]


def test_a_sentence_is_not_a_term() -> None:
    _, errors = check({"skills": "x" * (MAX_TERM_CHARS + 1)})
    assert len(errors) == 1 and f"at most {MAX_TERM_CHARS} characters" in errors[0]


@pytest.mark.parametrize(
    ("cell", "language", "level"),
    [
        ("汉语(HSK4)", "zh", "B2"), ("汉语（HSK 6级）", "zh", "C2"), ("中文 HSK3", "zh", "B1"),
        ("英语（流利）", "en", "C1"), ("Russian (native)", "ru", "native"), ("日语 N2", "ja", "B2"),
        ("日语(JLPT N1)", "ja", "C1"), ("韩语 TOPIK 2", "ko", "A2"), ("法语 B1", "fr", "B1"),
        ("德语（母语）", "de", "native"), ("西班牙语(基础)", "es", "A2"), ("English - proficient", "en", "C2"),
    ],
)
def test_language_qualifiers_become_term_and_level(cell: str, language: str, level: str) -> None:
    cleaned, errors = check({"languages": [cell]})
    assert errors == []
    assert cleaned["languages"] == [language]
    assert cleaned["language_levels"] == [f"{language}:{level}"]


def test_explicit_levels_win_over_qualifiers_and_a_non_level_qualifier_is_kept_whole() -> None:
    cleaned, errors = check({"languages": "英语(流利)、英语(商务)、俄语", "language_levels": ["en:B2"]})
    assert errors == []
    assert cleaned["languages"] == ["en", "ru"]
    assert cleaned["language_levels"] == ["en:B2"]
    assert cleaned["languages_unreviewed"] == ["英语(商务)"]


@pytest.mark.parametrize(
    ("text", "level"),
    [("HSK1", "A1"), ("hsk 5", "C1"), ("新HSK9级", "C2"), ("N5", "A1"), ("jlpt n3", "B1"), ("topik6", "C2"),
     ("c1", "C1"), ("Native speaker", "native"), ("母语", "native"), ("入门", "A1"), ("一般", "B1"),
     ("良好", "B2"), ("fluent", "C1"), ("精通", "C2"), ("商务", None), ("N6", None), ("HSK", None), ("4", None)],
)
def test_level_mapping(text: str, level: str | None) -> None:
    assert level_of(text) == level


def test_split_level_leaves_names_with_spaces_alone() -> None:
    assert split_level("Tok Pisin") is None
    assert split_level("Tai Chi") is None
    assert split_level("日语 N2") == ("日语", "B2")


def test_birth_year_is_derived_from_birth_date() -> None:
    cleaned, errors = check({"birth_date": "1984-03-02", "registered_on": "2020-05-01", "arrived_on": "2019-09-01"})
    assert errors == []
    assert cleaned["birth_date"] == "1984-03-02" and cleaned["birth_year"] == 1984
    assert cleaned["registered_on"] == "2020-05-01" and cleaned["arrived_on"] == "2019-09-01"
    assert list(cleaned).index("birth_year") < list(cleaned).index("birth_date")  # ontology order kept


def test_birth_year_that_contradicts_the_date_is_an_error() -> None:
    _, errors = check({"birth_year": 1985, "birth_date": "1984-03-02"})
    assert len(errors) == 1
    assert "Person.birth_year: 1985" in errors[0] and "1984, the year of birth_date 1984-03-02" in errors[0]


def test_other_names_are_a_name_list() -> None:
    cleaned, errors = check({"other_names": "王安娜、Anna W."})
    assert errors == [] and cleaned["other_names"] == ["王安娜", "Anna W."]
    assert PERSON.prop("other_names").searchable == "name" and PERSON.prop("other_names").sensitivity == "name"
    for name in ("birth_date", "registered_on", "arrived_on", "birth_year"):
        assert PERSON.prop(name).sensitivity == "personal"


def test_companions_share_the_sensitivity_of_their_property() -> None:
    for p in PERSON.properties:
        if p.unreviewed is not None:
            companion = PERSON.prop(p.unreviewed)
            assert companion.type is PropType.STRING_LIST and companion.sensitivity == p.sensitivity
            assert companion.searchable == "text" and not companion.facet


def test_ontology_refuses_a_link_to_a_missing_property() -> None:
    bad = NodeType("Thing", "thg", "物", "A thing.", (
        Property("name", PropType.STRING, "Name.", required=True),
        Property("kind", PropType.STRING, "Kind.", vocabulary="skills", unreviewed="kind_unreviewed"),
    ))
    with pytest.raises(OntologyError, match="kind_unreviewed"):
        Ontology((bad,), ())


def _job(tmp_path: Path, prop: str) -> Path:
    (tmp_path / "p.csv").write_text("编号,姓名,技能,电话\nP1,林晓,律师,13800138000\n", encoding="utf-8")
    job = tmp_path / "job.yaml"
    job.write_text("job: people\nsource: {path: p.csv}\nnodes:\n  - type: Person\n    key: '{编号}'\n"
                   f"    properties:\n      name: 姓名\n      {prop}\n", encoding="utf-8")
    return job


def test_mapping_strict_flag(tmp_path: Path) -> None:
    spec = load_job(_job(tmp_path, "skills: {column: 技能, split: '[、]', strict: true}"))
    (skills,) = [p for p in spec.nodes[0].properties if p.name == "skills"]
    assert skills.strict_vocabulary == "skills"
    with pytest.raises(IngestError, match="has no vocabulary"):
        load_job(_job(tmp_path, "phone: {column: 电话, strict: true}"))
    with pytest.raises(IngestError, match="not true or false"):
        load_job(_job(tmp_path, "skills: {column: 技能, strict: 'yes'}"))
