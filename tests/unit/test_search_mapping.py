"""The search mapping is derived from the ontology; documents follow it."""

from __future__ import annotations

import json

import pytest

from talentgraph.errors import OntologyError, ValidationError
from talentgraph.schema.ontology import ONTOLOGY, Property, PropType, SearchKind, Sensitivity
from talentgraph.search import analysis
from talentgraph.search.mapping import (
    SOURCE_FIELD,
    FieldKind,
    build_doc,
    facets,
    search_fields,
    source_of,
)
from talentgraph.types import Node


def _names(ontology=ONTOLOGY) -> dict[str, FieldKind]:  # type: ignore[no-untyped-def]
    return {f.name: f.kind for f in search_fields(ontology)}


def test_every_searchable_and_facet_property_has_fields() -> None:
    names = _names()
    for nt in ONTOLOGY.node_types:
        for p in nt.properties:
            if p.sensitivity is Sensitivity.SENSITIVE:
                continue
            if p.searchable is not None:
                assert p.name in names
                assert (p.name + "__bigram" in names) == (p.searchable is not SearchKind.KEYWORD)
            if p.facet:
                assert names[p.name + "__facet"] is FieldKind.FACET
    for d in ONTOLOGY.derived:
        assert names[d.name + "__facet"] is FieldKind.FACET
    assert names["id"] is FieldKind.ID and names["type"] is FieldKind.TYPE and names[SOURCE_FIELD] is FieldKind.SOURCE


def test_sensitive_properties_are_never_indexed() -> None:
    names = set(_names())
    for p in ONTOLOGY.node("Person").properties:
        if p.sensitivity is Sensitivity.SENSITIVE:
            assert not {n for n in names if n == p.name or n.startswith(p.name + "__")}
    node = Node("per:1", "Person", {"name": "王芳", "id_hash": "deadbeef", "id_last4": "1234", "id_kind": "passport"})
    doc = build_doc(node, None)
    blob = json.dumps(doc.fields, ensure_ascii=False)
    assert "deadbeef" not in blob and "1234" not in blob and "passport" not in blob


def test_adding_a_property_adds_fields() -> None:
    extended = ONTOLOGY.with_property(
        "Person", Property("hobby", PropType.STRING, "Hobby.", searchable=SearchKind.TEXT, facet=True)
    )
    before, after = _names(), _names(extended)
    assert set(after) - set(before) == {"hobby", "hobby__bigram", "hobby__facet"}
    doc = build_doc(Node("per:1", "Person", {"name": "王芳", "hobby": "太极拳"}), None, extended)
    assert doc.fields["hobby__facet"] == ["太极拳"] and doc.fields["hobby__bigram"] == "太极 极拳"


def test_a_document_follows_the_ontology_it_is_built_for() -> None:
    # build_doc works out a type's fields once per ontology: another ontology gets its own.
    extended = ONTOLOGY.with_property("Person", Property("hobby", PropType.STRING, "Hobby.", facet=True))
    node = Node("per:1", "Person", {"name": "王芳", "hobby": "太极拳"})
    for ontology, has_hobby in ((ONTOLOGY, False), (extended, True), (ONTOLOGY, False), (extended, True)):
        doc = build_doc(node, None, ontology)
        assert ("hobby__facet" in doc.fields) is has_hobby
        assert ("hobby" in source_of({SOURCE_FIELD: doc.fields[SOURCE_FIELD]})) is has_hobby


def test_a_sensitive_new_property_adds_nothing() -> None:
    extended = ONTOLOGY.with_property(
        "Person", Property("secret", PropType.STRING, "x", searchable=SearchKind.TEXT, sensitivity=Sensitivity.SENSITIVE)
    )
    assert _names(extended) == _names()


def test_shared_property_with_conflicting_kind_is_refused() -> None:
    clash = ONTOLOGY.with_property("Venue", Property("occupation", PropType.STRING, "x", searchable=SearchKind.NAME))
    with pytest.raises(OntologyError, match="occupation"):
        search_fields(clash)


def test_reserved_names_are_refused() -> None:
    bad = ONTOLOGY.with_property("Venue", Property("x__facet", PropType.STRING, "x", facet=True))
    with pytest.raises(OntologyError, match="reserved"):
        search_fields(bad)


def test_facets_by_public_name() -> None:
    f = facets()
    assert f["languages"].name == "languages__facet" and f["languages"].vocabularies == ("languages",)
    assert f["level"].vocabularies == ("party_levels", "area_levels")
    assert f["building"].values == "node_id" and f["party_member"].values == "bool"
    assert f["volunteer"].values == "bool" and f["year"].values == "int"


def test_build_doc_fields_and_source() -> None:
    node = Node("per:7", "Person", {
        "name": "曾伟", "latin_name": "Zeng Wei", "languages": ["俄语", "zh"], "skills": ["law.litigation"],
        "nationality": "CN", "bio": "<b>律师</b>", "volunteer": True, "birth_year": 1980, "version": 3,
    })
    doc = build_doc(node, {"building": ["area:b1"], "party_member": False})
    f = doc.fields
    assert doc.id == f["id"] == "per:7" and doc.type == f["type"] == "Person"
    assert "zeng" in f["name"].split() and "曾伟" in f["name"].split()
    assert f["languages"] == "ru zh" and f["languages__facet"] == ["俄语", "zh"]
    assert f["volunteer__facet"] == ["true"] and f["party_member__facet"] == ["false"]
    assert f["building__facet"] == ["area:b1"]
    assert all(" " not in t for v in f.values() if isinstance(v, str) for t in v.split(" "))
    src = source_of({SOURCE_FIELD: f[SOURCE_FIELD]})
    assert src["bio"] == "<b>律师</b>" and src["party_member"] is False and "birth_year" not in src
    assert "version" not in f


def test_unknown_derived_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="floor"):
        build_doc(Node("per:1", "Person", {"name": "王芳"}), {"floor": ["3"]})


def _claimed(node_id: str, props: dict[str, object], priority: int) -> Node:
    """A stored node whose every value is one claim of a job with ``priority`` (graph/claims.py)."""
    from talentgraph.graph import claims

    prov = {name: [{"v": v, "job": f"job{priority}", "file": "f.csv", "row": 1, "at": "2024-01-01T00:00:00Z",
                    "p": priority, "t": "2024-01-01T00:00:00Z"}] for name, v in props.items()}
    return Node(node_id, "Person", {**props, "prov": claims.dump(prov)})


def test_a_cluster_document_carries_its_members_names_and_counts_one_value_per_scalar() -> None:
    canonical = Node("per:1", "Person", {"name": "欧阳娜娜", "languages": ["zh"], "canonical": "per:1",
                                         "bio": "律师"})
    low = _claimed("per:3", {"name": "欧阳娜娜", "latin_name": "Ouyang Nana", "volunteer": False,
                             "languages": ["en"], "canonical": "per:1"}, 1)
    high = _claimed("per:2", {"name": "Наталья Оуян", "latin_name": "Natalia Ouyang", "volunteer": True,
                              "languages": ["ru", "zh"], "bio": "переводчик", "canonical": "per:1"}, 5)
    doc = build_doc(canonical, also=[low, high])
    src = json.loads(doc.fields[SOURCE_FIELD])
    # Any record's name finds the person (the Cyrillic name transliterated too) …
    assert "natalya" in doc.fields["name"] or "natalia" in doc.fields["name"]
    assert src["name"] == "欧阳娜娜" and src["_also"]["name"] == ["Наталья Оуян"]
    # … a scalar the canonical record lacks takes the highest-priority member's value, the rest go to _also …
    assert src["latin_name"] == "Natalia Ouyang" and src["_also"]["latin_name"] == ["Ouyang Nana"]
    # … a scalar facet counts that golden value only, a list facet the union in golden order …
    assert doc.fields["volunteer__facet"] == ["true"]
    assert doc.fields["languages__facet"] == ["zh", "ru", "en"] and src["languages"] == ["zh", "ru", "en"]
    # … and personal values stay with their own record (the index scopes a document by its own residence).
    assert "переводчик" not in doc.fields[SOURCE_FIELD] and "perevodchik" not in doc.fields.get("bio", "")


def test_a_remembered_analysis_gives_way_to_a_learned_word() -> None:
    """Documents remember what a slot's values analysed to (occupations repeat on every row) until the segmenter
    learns a word that may cut them otherwise."""
    word = "花木街道睦邻点"
    bio = f"常去{word}"

    def person(i: int) -> Node:
        return Node(f"per:{i}", "Person", {"name": "何芳", "bio": bio, "occupation": "教师"})

    before = build_doc(person(1)).fields
    assert before == {**build_doc(person(1)).fields} and word not in before["bio"].split()
    assert analysis.add_words([word]) == 1
    after = build_doc(person(2)).fields
    assert word in after["bio"].split() and after["bio"] == " ".join(analysis.analyze_text(bio))


def test_values_equal_as_keys_are_not_taken_for_one_another() -> None:
    """1, 1.0 and True are one dict key; a remembered analysis of one must not answer for another."""
    onto = ONTOLOGY.with_property("Person", Property("note", PropType.STRING, "A note.", searchable=SearchKind.TEXT))
    docs = [build_doc(Node(f"per:{i}", "Person", {"name": "x", "note": v}), ontology=onto).fields["note"]
            for i, v in enumerate(["1", 1, 1.0, True, "True", 1, True])]
    assert docs == ["1", "1", "1 0 10", "true", "true", "1", "true"]  # 1.0 as text: "1", "0" and "10"
