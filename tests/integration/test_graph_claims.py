"""Property-level writes with provenance (issue 7, "a second register erases the first"), on every
graph backend: a register about existing people adds to them and never removes what another
register said; re-running a register changes nothing; disagreeing sources are both kept and the
job priority decides what is shown; GraphQL shows per-property provenance and conflicts only
where the role sees the property's value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from access_world import ask, client, load_access_world, make_access_world, serve

from talentgraph.access import subject
from talentgraph.graph import claims as graph_claims
from talentgraph.graph.port import GraphStore
from talentgraph.ingest.job import run_job
from talentgraph.ingest.mapping import load_job
from talentgraph.types import NodeRecord, Provenance

RESIDENTS = Provenance("residents", "residents.csv", 3, "2026-01-01T00:00:00Z")
VOLUNTEERS = Provenance("volunteers", "volunteers.csv", 7, "2026-02-01T00:00:00Z")
WANG = "per:W1"


def person(props: dict[str, Any], source: Provenance | None, *names: str) -> NodeRecord:
    return NodeRecord("Person", WANG, props, source, frozenset(names))


def claims(graph: GraphStore, node_id: str = WANG) -> dict[str, list[dict[str, Any]]]:
    return graph_claims.load(graph.get_nodes([node_id])[node_id].props, [])


def sources(graph: GraphStore, prop: str, node_id: str = WANG) -> dict[str | None, Any]:
    return {c["job"]: c["v"] for c in claims(graph, node_id).get(prop, [])}


# --- the store ----------------------------------------------------------------------------------


def test_a_second_source_adds_to_a_node_and_never_erases_the_first(fresh_graph: GraphStore) -> None:
    g = fresh_graph
    assert g.upsert_nodes([person({"name": "王晓明", "skills": ["law"]}, RESIDENTS)]).inserted == [WANG]
    assert g.upsert_nodes([person({"name": "王晓明", "phone": "+8613800000001"}, VOLUNTEERS)]).updated == [WANG]
    p = g.get_nodes([WANG])[WANG]
    assert (p.props["name"], p.props["skills"], p.props["phone"]) == ("王晓明", ["law"], "+8613800000001")
    assert p.props["version"] == 2
    assert sources(g, "name") == {"residents": "王晓明", "volunteers": "王晓明"}
    assert sources(g, "skills") == {"residents": ["law"]} and sources(g, "phone") == {"volunteers": "+8613800000001"}
    phone = claims(g)["phone"][0]
    assert (phone["file"], phone["row"], phone["at"]) == ("volunteers.csv", 7, "2026-02-01T00:00:00Z")
    # The last writer is still named on the node (the record-level system properties).
    assert (p.props["src_job"], p.props["src_row"]) == ("volunteers", 7)


def test_re_running_either_source_is_unchanged_and_logs_nothing(fresh_graph: GraphStore) -> None:
    g = fresh_graph
    first = person({"name": "王晓明", "skills": ["law"]}, RESIDENTS)
    second = person({"name": "王晓明", "phone": "+8613800000001"}, VOLUNTEERS)
    g.upsert_nodes([first])
    g.upsert_nodes([second])
    seq, before = g.last_seq(), g.get_nodes([WANG])[WANG]
    # The same values from a later run of the same jobs (other row numbers, another day) are not news.
    rerun = Provenance("residents", "residents-2026-03.csv", 9, "2026-03-01T00:00:00Z")
    assert g.upsert_nodes([first]).unchanged == [WANG]
    assert g.upsert_nodes([second]).unchanged == [WANG]
    assert g.upsert_nodes([person(first.props, rerun)]).unchanged == [WANG]
    assert g.last_seq() == seq and g.changes(seq) == []
    assert g.get_nodes([WANG])[WANG].props == before.props


def test_an_empty_value_withdraws_only_its_own_sources_claim(fresh_graph: GraphStore) -> None:
    g = fresh_graph
    g.upsert_nodes([person({"name": "王晓明", "skills": ["law"]}, RESIDENTS)])
    g.upsert_nodes([person({"name": "王晓明", "skills": ["translation"], "phone": "+8613800000001"}, VOLUNTEERS)])
    assert g.get_nodes([WANG])[WANG].props["skills"] == ["translation"]  # same priority: the latest write
    # The volunteer register now has empty 技能 and 电话 cells (it names both, gives neither).
    seq = g.last_seq()
    assert g.upsert_nodes([person({"name": "王晓明"}, VOLUNTEERS, "skills", "phone")]).updated == [WANG]
    p = g.get_nodes([WANG])[WANG]
    assert p.props["skills"] == ["law"] and "phone" not in p.props  # the residents' value is back
    assert sources(g, "skills") == {"residents": ["law"]} and "phone" not in claims(g)
    assert [c.id for c in g.changes(seq)] == [WANG]
    # A write that does not name a property leaves it alone; a None value says "empty" like a name does.
    assert g.upsert_nodes([person({"name": "王晓明"}, RESIDENTS)]).unchanged == [WANG]
    g.upsert_nodes([person({"name": "王晓明", "skills": None}, RESIDENTS)])
    assert "skills" not in g.get_nodes([WANG])[WANG].props


def test_disagreeing_sources_are_both_kept_and_priority_decides(fresh_graph: GraphStore) -> None:
    g = fresh_graph
    g.upsert_nodes([person({"name": "王晓明", "phone": "+8613800000001"}, RESIDENTS)])
    g.upsert_nodes([person({"name": "王晓明", "phone": "+8613900000002"}, VOLUNTEERS)])
    assert g.get_nodes([WANG])[WANG].props["phone"] == "+8613900000002"  # ties: the latest write
    assert sources(g, "phone") == {"residents": "+8613800000001", "volunteers": "+8613900000002"}
    # Re-running the older register does not make it the latest: nothing changed.
    assert g.upsert_nodes([person({"name": "王晓明", "phone": "+8613800000001"}, RESIDENTS)]).unchanged == [WANG]
    assert g.get_nodes([WANG])[WANG].props["phone"] == "+8613900000002"
    # The residents register declared priority 10: its value is shown, the other kept.
    trusted = Provenance(RESIDENTS.job, RESIDENTS.source, RESIDENTS.row, RESIDENTS.ingested_at, priority=10)
    assert g.upsert_nodes([person({"name": "王晓明", "phone": "+8613800000001"}, trusted)]).updated == [WANG]
    assert g.get_nodes([WANG])[WANG].props["phone"] == "+8613800000001"
    g.upsert_nodes([person({"name": "王晓明", "phone": "+8613900000003"}, VOLUNTEERS)])  # a later, lower one
    p = g.get_nodes([WANG])[WANG]
    assert p.props["phone"] == "+8613800000001"
    assert sources(g, "phone") == {"residents": "+8613800000001", "volunteers": "+8613900000003"}
    assert {c["job"]: c["p"] for c in claims(g)["phone"]} == {"residents": 10, "volunteers": 0}


# --- ingest: two registers about the same people --------------------------------------------------

RESIDENTS_JOB = """\
job: residents
source: {path: residents.csv}
nodes:
  - type: Person
    key: "{编号}"
    properties:
      name: 姓名
      skills: {column: 技能, split: "、"}
      phone: 电话
"""
VOLUNTEERS_JOB = """\
job: volunteers
priority: {priority}
source: {{path: volunteers.csv}}
nodes:
  - type: Person
    key: "{{编号}}"
    properties:
      name: 姓名
      phone: 电话
      volunteer: {{column: 志愿者, transform: bool}}
"""


def _write(dir_: Path, name: str, rows: list[str]) -> None:
    (dir_ / name).write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_a_second_register_adds_to_existing_people(fresh_graph: GraphStore, tmp_path: Path) -> None:
    g, key, q = fresh_graph, b"k" * 32, tmp_path / "q"
    _write(tmp_path, "residents.csv", ["编号,姓名,技能,电话", "1,王晓明,法律,+8613800000001", "2,李晓亮,翻译,"])
    _write(tmp_path, "volunteers.csv", ["编号,姓名,电话,志愿者", "1,王晓明,+8613900000002,是", "2,李晓亮,+8613900000003,是"])
    (tmp_path / "residents.yaml").write_text(RESIDENTS_JOB, encoding="utf-8")
    (tmp_path / "volunteers.yaml").write_text(VOLUNTEERS_JOB.format(priority=0), encoding="utf-8")
    residents, volunteers = load_job(tmp_path / "residents.yaml"), load_job(tmp_path / "volunteers.yaml")
    assert run_job(residents, g, id_hash_key=key, quarantine_dir=q).inserted == 2
    assert run_job(volunteers, g, id_hash_key=key, quarantine_dir=q).updated == 2
    people = g.get_nodes(["per:1", "per:2"])
    assert people["per:1"].props["skills"] and people["per:2"].props["skills"]  # not erased by the second register
    assert people["per:1"].props["volunteer"] is True and people["per:2"].props["phone"] == "+8613900000003"
    # Re-running both: nothing new, not a change-log entry.
    seq = g.last_seq()
    for spec in (residents, volunteers):
        s = run_job(spec, g, id_hash_key=key, quarantine_dir=q)
        assert (s.unchanged, s.updated, s.inserted) == (2, 0, 0)
    assert g.last_seq() == seq
    # The volunteer register is trusted less: with priority -1 the residents' phone is shown again.
    (tmp_path / "volunteers.yaml").write_text(VOLUNTEERS_JOB.format(priority=-1), encoding="utf-8")
    assert load_job(tmp_path / "volunteers.yaml").priority == -1
    run_job(load_job(tmp_path / "volunteers.yaml"), g, id_hash_key=key, quarantine_dir=q)
    people = g.get_nodes(["per:1", "per:2"])
    assert people["per:1"].props["phone"] == "+8613800000001"  # residents (priority 0) over volunteers (-1)
    assert people["per:2"].props["phone"] == "+8613900000003"  # the residents register has no phone for him
    assert sources(g, "phone", "per:1") == {"residents": "+8613800000001", "volunteers": "+8613900000002"}


# --- GraphQL: provenance and conflicts, masked per role -------------------------------------------

PERSON = """query($id: ID!) { person(id: $id) { phone
  provenance { property value job source row ingestedAt priority shown }
  conflicts { property value values { value job shown } } } }"""
ENTERPRISE = """{ enterprise(id: "ent:E1") { employees
  provenance { property value job } conflicts { property value values { value job shown } } } }"""
SECOND = Provenance("hr-register", "hr.csv", 5, "2026-02-01T00:00:00Z", priority=5)


@pytest.fixture()
def served(fresh_graph: GraphStore, tmp_path: Path) -> Any:
    load_access_world(fresh_graph, make_access_world())
    # A second register disagrees on two residents' phones (per:00 lives in the staff key's area,
    # per:01 does not) and on the enterprise's head count.
    fresh_graph.upsert_nodes([
        NodeRecord("Person", "per:00", {"phone": "+8613911111100"}, SECOND),
        NodeRecord("Person", "per:01", {"phone": "+8613911111101"}, SECOND),
        NodeRecord("Enterprise", "ent:E1", {"employees": 150}, SECOND),
    ])
    return serve(fresh_graph, None, tmp_path / "data")


def _by_prop(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        out.setdefault(e["property"], []).append(e)
    return out


@pytest.mark.anyio
async def test_graphql_shows_provenance_and_conflicts_only_where_the_value_is_seen(served: Any) -> None:
    async with client(served.app) as c:
        admin = (await ask(c, served.keys["admin"], PERSON, id="per:00"))["data"]["person"]
        assert admin["phone"] == "+8613911111100"  # priority 5 over the access-test register's 0
        phone = _by_prop(admin["provenance"])["phone"]
        assert [(e["job"], e["value"], e["shown"], e["priority"]) for e in phone] == [
            ("hr-register", "+8613911111100", True, 5), ("access-test", "+8613800000000", False, 0)]
        assert phone[0]["source"] == "hr.csv" and phone[0]["row"] == 5
        assert admin["conflicts"] == [{"property": "phone", "value": "+8613911111100", "values": [
            {"value": "+8613911111100", "job": "hr-register", "shown": True},
            {"value": "+8613800000000", "job": "access-test", "shown": False}]}]
        # Identity documents: never, not even their provenance, not even for admin.
        assert not {"idHash", "idLast4", "idKind"} & set(_by_prop(admin["provenance"]))
        assert "name" in _by_prop(admin["provenance"]) and "birthYear" in _by_prop(admin["provenance"])

        # Staff see a resident's phone inside their area, and so its provenance and conflict …
        staff_in = (await ask(c, served.keys["staff"], PERSON, id="per:00"))["data"]["person"]
        assert staff_in["phone"] and "phone" in _by_prop(staff_in["provenance"])
        assert [x["property"] for x in staff_in["conflicts"]] == ["phone"]
        # … and outside it neither the phone nor where it came from.
        staff_out = (await ask(c, served.keys["staff"], PERSON, id="per:01"))["data"]["person"]
        assert staff_out == {"phone": None, "provenance": [], "conflicts": []}

        # An analyst never sees a phone, so not its provenance either: the fields do not exist on Person.
        analyst = await ask(c, served.keys["analyst"],
                            '{ person(id: "per:00") { name provenance { property value } } }')
        assert analyst["errors"] and "provenance" in json.dumps(analyst["errors"])
        assert (await ask(c, served.keys["analyst"], '{ person(id: "per:00") { conflicts { property } } }'))["errors"]
        # On an enterprise every property is public: the analyst sees its sources and the conflict.
        ent = (await ask(c, served.keys["analyst"], ENTERPRISE))["data"]["enterprise"]
        assert ent["employees"] == 150
        assert {e["job"]: e["value"] for e in _by_prop(ent["provenance"])["employees"]} == {
            "hr-register": 150, "access-test": 120}
        assert [x["property"] for x in ent["conflicts"]] == ["employees"]


def test_a_subject_export_names_every_source_but_never_an_identity_value(served: Any, fresh_graph: GraphStore,
                                                                         tmp_path: Path) -> None:
    export = subject.export_person(fresh_graph, None, "per:00", quarantine_dir=tmp_path / "none", audit=None)
    by_property = export["node"]["provenance"]["by_property"]
    assert {c["job"]: c["value"] for c in by_property["phone"]} == {"access-test": "+8613800000000",
                                                                    "hr-register": "+8613911111100"}
    assert by_property["id_hash"] == [{"value": None, "job": "access-test", "file": "party_members.csv", "row": 1,
                                       "ingested_at": "2024-01-01T00:00:00Z", "priority": 0}]
    assert "hash-0" not in json.dumps(export)


def test_one_batch_with_a_node_from_two_sources_keeps_both_claims(fresh_graph: GraphStore) -> None:
    # Documents stored in one batch each name the same Candidate: neither document's claim may be lost.
    g = fresh_graph
    nodes, _ = g.upsert_batch([person({"name": "王晓明", "skills": ["law"]}, RESIDENTS),
                               person({"name": "王晓明", "phone": "+8613800000001"}, VOLUNTEERS),
                               person({"name": "王晓明", "phone": "+8613800000002"}, VOLUNTEERS)], [])
    assert (nodes.inserted, nodes.updated, nodes.unchanged) == ([WANG], [], [])
    p = g.get_nodes([WANG])[WANG].props
    assert (p["name"], p["skills"], p["phone"]) == ("王晓明", ["law"], "+8613800000002")  # one source twice: the last
    assert sources(g, "name") == {"residents": "王晓明", "volunteers": "王晓明"}
    assert sources(g, "skills") == {"residents": ["law"]}
    # The same batch again is news to nobody.
    again, _ = g.upsert_batch([person({"name": "王晓明", "skills": ["law"]}, RESIDENTS),
                               person({"name": "王晓明", "phone": "+8613800000002"}, VOLUNTEERS)], [])
    assert again.unchanged == [WANG] and not again.inserted and not again.updated
