"""Gazetteer (from the graph port, aliases from the ontology) and linking (exact → alias → normalised → pinyin,
type-checked; ambiguity; candidates)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from talentgraph.graph.port import NodeScan
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.text.gazetteer import Gazetteer, alias_properties, entity_types
from talentgraph.text.linking import Linker, bare, candidate_key, normalise
from talentgraph.text.model import Mention
from talentgraph.types import Node
from text_world import PLACES_AND_PEOPLE


class FakeStore:
    """``scan_nodes`` over in-memory nodes, ``page`` at a time, recording what was asked."""

    def __init__(self, nodes: dict[str, list[Node]]) -> None:
        self.nodes = nodes
        self.calls: list[tuple[str, str | None, tuple[str, ...]]] = []

    def scan_nodes(self, type_name: str, after: str | None, limit: int, *,
                   fields: Sequence[str] | None = None) -> NodeScan:
        self.calls.append((type_name, after, tuple(fields or ())))
        rows = self.nodes.get(type_name, [])
        start = int(after) + 1 if after is not None else 0
        items = [(str(i), rows[i]) for i in range(start, min(start + limit, len(rows)))]
        nxt = items[-1][0] if items and start + limit < len(rows) else None
        return NodeScan(items, nxt)


def node(id_: str, type_: str, **props: object) -> Node:
    return Node(id_, type_, props)


WORLD = Gazetteer.from_entries([
    *PLACES_AND_PEOPLE,
    ("联洋居民区党总支", "org:lyzz", "PartyOrganization"),
    ("拇指广场志愿服务队", "grp:thumb", "Group"),
    ("李娜", "per:3", "Person"),
    ("Li Na", "per:4", "Person", "alias"),
    ("中文长廊", "per:9", "Person"),  # a person whose name is also a venue's
])


def m(text: str, type_: str, source: str = "form", start: int = 0, score: float = 0.6) -> Mention:
    return Mention(start, start + len(text), text, type_, source, score=score)  # type: ignore[arg-type]


def link1(text: str, type_: str, linker: Linker | None = None, **kw: object) -> Mention:
    return (linker or Linker(WORLD)).link([m(text, type_, **kw)])[0]  # type: ignore[arg-type]


# --- gazetteer --------------------------------------------------------------------------------------------


def test_entity_types_and_aliases_come_from_the_ontology() -> None:
    types = entity_types()
    assert "Person" in types and "Venue" in types
    assert not {"Document", "Fact", "Candidate"} & set(types)
    person = ONTOLOGY.node("Person")
    assert set(alias_properties(person)) == {"latin_name", "other_names"}
    # Places, organisations and projects carry an English name (bilingual signage): an alias, like a Latin name.
    for type_name in ("Area", "Venue", "Group", "PartyOrganization", "Project"):
        assert alias_properties(ONTOLOGY.node(type_name)) == ("name_en",)
    assert alias_properties(ONTOLOGY.node("Enterprise")) == ("latin_name",)


def test_from_store_pages_every_type_with_title_and_alias_fields() -> None:
    venues = [node(f"ven:{i}", "Venue", name=f"场所{i:03d}广场") for i in range(7)]
    people = [node("per:1", "Person", name="张伟", latin_name="Zhang Wei", other_names=["小张", "W"]),
              node("per:2", "Person", name="张伟")]
    store = FakeStore({"Venue": venues, "Person": people})
    g = Gazetteer.from_store(store, page=3)
    assert len([c for c in store.calls if c[0] == "Venue"]) == 3  # 7 nodes, 3 a page
    assert ("Person", None, ("name", "latin_name", "other_names")) in store.calls
    assert {c[0] for c in store.calls} == set(entity_types())
    assert all(f"场所{i:03d}广场" in g for i in range(7))
    assert [(e.node_id, e.how) for e in g.lookup("张伟")] == [("per:1", "title"), ("per:2", "title")]
    assert [(e.node_id, e.how) for e in g.lookup("Zhang  Wei")] == [("per:1", "alias")]
    assert g.lookup("小张")[0].how == "alias"
    assert "W" not in g  # one character is no name


# The demo registers' names, Chinese titles with the English names the registers give them (name_en).
REGISTERS = {
    "Venue": [node("ven:V04", "Venue", name="大拇指广场", name_en="Thumb Plaza"),
              node("ven:V03", "Venue", name="上海图书馆东馆", name_en="Shanghai Library East")],
    "Area": [node("area:RA01", "Area", name="联洋新苑", name_en="Lianyang Xinyuan"),
             node("area:RA01-3", "Area", name="联洋新苑3号楼", name_en="Lianyang Xinyuan Building 3"),
             node("area:lianyang", "Area", name="联洋社区", name_en="Lianyang Community")],
    "PartyOrganization": [node("org:A01", "PartyOrganization", name="联洋新苑居民区党总支",
                               name_en="Lianyang Xinyuan General Party Branch"),
                          node("org:C00", "PartyOrganization", name="中共联洋社区委员会",
                               name_en="Lianyang Community Party Committee")],
    "Group": [node("grp:G009", "Group", name="联洋洋志愿者服务队", name_en="Lianyang Yang Volunteers")],
    "Project": [node("prj:P001", "Project", name="银龄助餐", name_en="Silver Age Meal Service")],
}


def test_english_names_from_the_graph_are_aliases_and_link() -> None:
    store = FakeStore(REGISTERS)
    g = Gazetteer.from_store(store)
    assert ("Venue", None, ("name", "name_en")) in store.calls
    assert [(e.node_id, e.how) for e in g.lookup("Thumb Plaza")] == [("ven:V04", "alias")]
    lk = Linker(g)
    for surface, type_, expected, method in [
        ("Thumb Plaza", "Venue", "ven:V04", "alias"),
        ("Lianyang Xinyuan General Party Branch", "PartyOrganization", "org:A01", "alias"),
        ("Lianyang Xinyuan", "Area", "area:RA01", "alias"),
        ("Lianyang Xinyuan Building 3", "Area", "area:RA01-3", "alias"),
        ("Lianyang Yang Volunteers", "Group", "grp:G009", "alias"),
        ("Silver Age Meal Service", "Project", "prj:P001", "alias"),
        ("THUMB PLAZA", "Venue", "ven:V04", "normalised"),  # headline capitals
        ("Lianyang  xinyuan general party branch", "PartyOrganization", "org:A01", "normalised"),
        ("Lianyang Xinyuan Residential Area", "Area", "area:RA01", "normalised"),  # with its level word
        ("联洋新苑小区", "Area", "area:RA01", "normalised"),
        ("联洋新苑居委会", "Area", "area:RA01", "normalised"),
    ]:
        r = link1(surface, type_, lk)
        assert (r.node_id, r.method) == (expected, method), surface
    # The type is checked: an English Venue name is no Group, and an area's name is no party organisation.
    assert link1("Thumb Plaza", "Group", lk).node_id is None
    assert link1("Lianyang Xinyuan", "PartyOrganization", lk).node_id is None
    assert link1("Lianyang Xinyuan Residential Area", "Area", lk).score == 0.85


def test_bare_drops_the_level_word_only() -> None:
    assert bare("联洋新苑居委会", "Area") == bare("联洋新苑小区", "Area") == bare("联洋新苑", "Area") == "联洋新苑"
    assert bare("Lianyang Xinyuan Residential Area", "Area") == "lianyangxinyuan"
    assert bare("居民区", "Area") == "居民区"  # a level word alone stays
    assert bare("联洋新苑居民区", "PartyOrganization") == normalise("联洋新苑居民区", "PartyOrganization")
    # Candidate keys keep the level word (normalise): the bare form is only a way to find a known area.
    assert candidate_key("联洋新苑居委", "Area") == "Area:联洋新苑居民区"


def test_title_beats_same_alias_and_digest_changes() -> None:
    g = Gazetteer.from_entries([("拇指广场", "ven:1", "Venue", "alias"), ("拇指广场", "ven:1", "Venue")])
    assert [e.how for e in g.lookup("拇指广场")] == ["title"]
    d = g.digest()
    g.add("中文长廊", "ven:2", "Venue")
    assert g.digest() != d


def test_a_party_organisation_links_by_its_formal_and_its_short_name() -> None:
    g = Gazetteer.from_entries([("中共联洋社区委员会", "org:C", "PartyOrganization"),
                                ("玉兰香苑居民区党支部", "org:Y", "PartyOrganization"),
                                ("联洋新苑", "area:RA1", "Area")])
    assert [(e.node_id, e.how) for e in g.lookup("联洋社区党委")] == [("org:C", "alias")]
    assert [(e.node_id, e.how) for e in g.lookup("中共玉兰香苑居民区支部委员会")] == [("org:Y", "alias")]
    assert len(g) == 5  # an area's name has no other form
    linker = Linker(g)
    got = linker.link([m("联洋社区党委", "PartyOrganization", source="ruler")], "联洋社区党委")[0]
    assert (got.node_id, got.method) == ("org:C", "alias")


# --- linking ---------------------------------------------------------------------------------------------


def test_exact_and_alias() -> None:
    a = link1("拇指广场", "Venue", source="ruler", score=1.0)
    assert (a.node_id, a.method, a.score, a.candidate_key) == ("ven:thumb", "exact", 1.0, None)
    b = link1("Shanghai Library East", "Venue", source="ruler")
    assert (b.node_id, b.method, b.score) == ("ven:lib", "alias", 0.95)


def test_type_is_checked() -> None:
    # 中文长廊 names a Venue and a Person: each mention links to its own type only.
    assert link1("中文长廊", "Venue").node_id == "ven:corridor"
    assert link1("中文长廊", "Person").node_id == "per:9"
    # A Group mention with a Venue's name never links to the Venue: it is a new Group.
    g = link1("拇指广场", "Group")
    assert g.node_id is None and g.candidate_key == "Group:拇指广场" and g.method == "form"


@pytest.mark.parametrize(("surface", "type_", "expected"), [
    ("联洋居委会", "Area", "area:lyjmq"),  # 居委会 = 居民区
    ("联洋居委", "Area", "area:lyjmq"),
    ("联洋 居民区", "Area", "area:lyjmq"),
    ("“拇指广场”", "Venue", "ven:thumb"),  # quotes
    ("ＴＨＵＭＢ　ＰＬＡＺＡ", "Venue", "ven:thumb"),  # full-width, case
    ("thumb-plaza", "Venue", "ven:thumb"),
    ("拇指广场志愿者服务队", "Group", "grp:thumb"),  # volunteer-team variants
])
def test_normalised(surface: str, type_: str, expected: str) -> None:
    r = link1(surface, type_)
    assert (r.node_id, r.method, r.score) == (expected, "normalised", 0.9)


def test_normalise_and_candidate_key() -> None:
    assert normalise("联洋新苑居委会", "Area") == normalise("联洋新苑居民区", "Area") == "联洋新苑居民区"
    assert normalise("ABC Co., Ltd.", "Enterprise") == normalise("abc limited", "Enterprise")
    assert normalise("居委会", "Area") == "居委会"  # a variant alone is not replaced by another
    assert candidate_key("联洋新苑居委", "Area") == "Area:联洋新苑居民区"


def test_pinyin_homophone_and_one_syllable() -> None:
    same = link1("联阳社区", "Area")  # 阳 = yang, like 洋
    assert (same.node_id, same.method, same.score) == ("area:lianyang", "pinyin", 0.8)
    near = link1("上海图书馆西馆", "Venue")  # dong → xi: one syllable off a 7-syllable name
    assert (near.node_id, near.method, near.score) == ("ven:lib", "pinyin", 0.65)
    # Two syllables off: a different name.
    assert link1("上海科技馆西馆", "Venue").node_id is None


def test_pinyin_short_names_need_exact_pinyin_and_never_persons() -> None:
    g = Gazetteer.from_entries([("拇指", "ven:1", "Venue"), ("张伟明", "per:1", "Person")])
    lk = Linker(g)
    assert link1("母指", "Venue", lk).node_id == "ven:1"  # homophone, 2 syllables
    assert link1("拇趾", "Venue", lk).node_id == "ven:1"
    assert link1("母址", "Venue", lk).node_id == "ven:1"
    assert link1("某指", "Venue", lk).node_id is None  # 2 syllables: no fuzz
    assert link1("张卫明", "Person", lk).node_id is None  # homophone person: another person
    assert link1("张伟亮", "Person", lk).node_id is None


def test_ambiguous_person_stays_unlinked_with_alternatives() -> None:
    r = link1("张伟", "Person", source="ruler", score=1.0)
    assert r.node_id is None and r.candidate_key is None
    assert r.alternatives == ("per:1", "per:2")
    assert r.method == "exact" and r.score == 0.5


def test_ambiguity_resolved_by_the_documents_other_mentions() -> None:
    text = "Zhang Wei（张伟）在拇指广场。"
    ms = [m("Zhang Wei", "Person", "ruler", 0, 1.0), m("张伟", "Person", "ruler", 10, 1.0),
          m("拇指广场", "Venue", "ruler", 14, 1.0)]
    out = Linker(WORLD).link(ms, text)
    assert out[0].node_id == "per:1" and out[0].method == "alias"
    assert out[1].node_id == "per:1" and out[1].score == 0.8 and out[1].alternatives == ("per:1", "per:2")
    assert out[2].node_id == "ven:thumb"


def test_candidates_keep_recognition_score_and_source() -> None:
    lk = Linker(WORLD)
    form = link1("联洋新苑1号楼党小组", "PartyOrganization", lk, score=0.8)
    assert form.node_id is None and form.method == "form" and form.score == 0.8
    assert form.candidate_key == "PartyOrganization:联洋新苑1号楼党小组"
    model = link1("王小明", "Person", lk, source="model", score=0.7)
    assert model.method == "model" and model.candidate_key == "Person:王小明"
    # The same new name written two ways is one candidate.
    assert link1("联洋新苑居委", "Area", lk).candidate_key == link1("联洋新苑居委会", "Area", lk).candidate_key


def test_link_reads_the_surface_from_the_text_and_keeps_order() -> None:
    text = "前往拇指广场和中文长廊"
    ms = [m("中文长廊", "Venue", start=7), m("拇指广场", "Venue", start=2)]
    out = Linker(WORLD).link(ms, text)
    assert [o.node_id for o in out] == ["ven:corridor", "ven:thumb"]
