"""Documents into the graph end to end on the embedded stores: the CLI on a folder, re-ingest (unchanged:
no change-log entry; changed: its mentions replaced), the candidate review, the API (``mentionedIn``,
``mentions``, search hits with highlights, facts and candidates by role) and hostile inputs.

The text pipeline is replaced by a small deterministic extractor (``Fake``): what is under test here is
the storing and serving, with the exact mentions and facts known. ``test_shipped_pipeline_end_to_end``
runs the real pipeline when it is importable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from access_world import ask, client, load_access_world, make_access_world

from talentgraph.access.audit import AuditLog
from talentgraph.access.gate import Gate
from talentgraph.access.keys import KeyStore
from talentgraph.access.policy import POLICY
from talentgraph.admin import AdminOps
from talentgraph.cli import main
from talentgraph.config import Settings
from talentgraph.docs_cli import server_ops
from talentgraph.graph.port import GraphStore
from talentgraph.server import create_app
from talentgraph.stores import open_graph, open_stores
from talentgraph.text import jobs, review
from talentgraph.text.model import DocumentText, Extraction, Fact, Mention, Sentence
from talentgraph.text.store import candidate_id, document_id, write_extraction
from talentgraph.types import Cmp

pytestmark = pytest.mark.anyio

# What the fake recogniser knows: names in the access world, and names no register has.
KNOWN = {"联洋市民中心": ("Venue", "ven:V1"), "联洋第一党支部": ("PartyOrganization", "org:O1"),
         "联洋新苑": ("Area", "area:RA1")}
NEW = {"芳甸路楼组党小组": "PartyOrganization", "梧桐书房": "Venue", "银杏志愿服务队": "Group"}
HOUSEHOLDS = re.compile(r"(约)?(\d[\d,]*)户")

REPORT = ("联洋社区2025年工作报告\n"
          "联洋新苑共有约820户居民。联洋第一党支部在联洋市民中心举办书法课。\n"
          "新成立的芳甸路楼组党小组在梧桐书房开展读书会，联洋市民中心提供场地。")
NEWS = "梧桐书房开放\n梧桐书房位于联洋新苑，共有900户居民受益。"


class Fake:
    """Recognises ``KNOWN`` (linked) and ``NEW`` (candidates) by exact match; households facts by regex."""

    def __init__(self, graph: GraphStore | None = None) -> None:
        self.calls = 0

    def __call__(self, docs: Sequence[DocumentText]) -> Iterable[Extraction]:
        for d in docs:
            self.calls += 1
            if "EXPLODE" in d.text:
                raise RuntimeError("the recogniser fell over")
            yield extract(d)


def sentences(text: str) -> list[Sentence]:
    out, start = [], 0
    for m in re.finditer(r"[。\n]", text):
        if m.end() - start > 1:
            out.append(Sentence(start, m.end()))
        start = m.end()
    if start < len(text):
        out.append(Sentence(start, len(text)))
    return out


def extract(d: DocumentText) -> Extraction:
    mentions: list[Mention] = []
    for name, (t, node_id) in KNOWN.items():
        for m in re.finditer(re.escape(name), d.text):
            mentions.append(Mention(m.start(), m.end(), name, t, "ruler", node_id=node_id, score=1.0, method="exact"))
    for name, t in NEW.items():
        for m in re.finditer(re.escape(name), d.text):
            mentions.append(Mention(m.start(), m.end(), name, t, "form", candidate_key=f"{t}:{name}", score=0.75,
                                    method="form"))
    mentions.sort(key=lambda m: m.start)
    sents = sentences(d.text)
    facts = []
    for m in HOUSEHOLDS.finditer(d.text):
        sent = next(s for s in sents if s.start <= m.start() < s.end)
        subject = next((x for x in reversed(mentions) if x.end <= m.start() and x.type == "Area"), None)
        facts.append(Fact("households", float(m.group(2).replace(",", "")), "户", bool(m.group(1)), m.start(),
                          m.end(), sent, subject))
    return Extraction(d, sents, mentions, facts, pipeline="fake-1")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "SpacyExtractor", Fake)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data dir whose graph holds the access world (registers: areas, venue, party branch, persons)."""
    d = tmp_path / "data"
    graph = open_graph(Settings(data_dir=d))
    try:
        load_access_world(graph, make_access_world())
        graph.delete_nodes(["cand:C1", "fact:F1"])  # the world's own text-to-graph records: start from registers
    finally:
        graph.close()
    return d


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    f = tmp_path / "docs"
    f.mkdir()
    (f / "report.txt").write_text(REPORT, encoding="utf-8")
    (f / "news.md").write_text(NEWS, encoding="utf-8")
    (f / "empty.txt").write_bytes(b"")
    (f / "blob.txt").write_bytes(bytes(range(256)) * 8)
    return f


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main([*argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out) if "--json" in argv else out.out


def _graph(data: Path) -> GraphStore:
    return open_graph(Settings(data_dir=data))


def test_cli_fills_documents_mentions_candidates_and_facts(fake: None, data: Path, folder: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    docs = _cli(capsys, "ingest-docs", str(folder), "--json", "--data-dir", str(data))
    by_name = {Path(d["path"]).name: d for d in docs}
    assert {n: d["status"] for n, d in by_name.items()} == {
        "blob.txt": "failed", "empty.txt": "failed", "news.md": "new", "report.txt": "new"}
    assert "empty" in by_name["empty.txt"]["reason"] and "binary" in by_name["blob.txt"]["reason"]
    report = by_name["report.txt"]
    surfaces = [(m["surface"], m["type"], m.get("node") or m.get("candidate")) for m in report["mentions"]]
    assert ("联洋市民中心", "Venue", "ven:V1") in surfaces
    assert ("芳甸路楼组党小组", "PartyOrganization", candidate_id("PartyOrganization:芳甸路楼组党小组")) in surfaces
    [claim] = report["claims"]
    assert (claim["measure"], claim["quantity"], claim["about"], claim["approximate"]) == (
        "households", 820.0, "area:RA1", True)
    # The register says 800 households: "about 820" agrees within the tolerance; "900" does not.
    assert (claim["graph_value"], claim["disagrees"]) == (800.0, False)
    assert (by_name["news.md"]["claims"][0]["graph_value"], by_name["news.md"]["claims"][0]["disagrees"]) == (800.0, True)

    graph = _graph(data)
    try:
        rid = document_id(str(folder / "report.txt"))
        doc = graph.get_nodes([rid])[rid]
        assert doc.props["title"] == "联洋社区2025年工作报告" and doc.props["language"] == "zh"
        assert doc.props.get("published") is None and doc.props["pipeline"] == "fake-1" and doc.props["text"] == REPORT
        edges = {e.to_id: e for e in graph.edges([rid], "MENTIONS", "out")[rid]}
        venue = edges["ven:V1"]
        assert venue.props["count"] == 2 and venue.props["method"] == "exact" and venue.props["surface"] == "联洋市民中心"
        assert json.loads(venue.props["spans"]) == [[m.start(), m.end()] for m in re.finditer("联洋市民中心", REPORT)]
        assert venue.props["sentence"] == "联洋第一党支部在联洋市民中心举办书法课。"
        # One candidate per name across documents: 梧桐书房 is named by both.
        shu = candidate_id("Venue:梧桐书房")
        assert shu in edges and {e.from_id for e in graph.edges([shu], "MENTIONS", "in")[shu]} == {
            rid, document_id(str(folder / "news.md"))}
        cand = graph.get_nodes([shu])[shu].props
        assert (cand["name"], cand["candidate_type"], cand["review"], cand["confidence"]) == (
            "梧桐书房", "Venue", "pending", 0.75)
        facts = graph.edges([rid], "STATES", "out")[rid]
        assert len(facts) == 1 and graph.edges([facts[0].to_id], "ABOUT", "out")[facts[0].to_id][0].to_id == "area:RA1"
        # Claims never overwrite register data.
        assert graph.get_nodes(["area:RA1"])["area:RA1"].props["households"] == 800
        assert {p.name for p in review.pending(graph)} == {"芳甸路楼组党小组", "梧桐书房"}
    finally:
        graph.close()


def test_reingest_unchanged_is_a_no_op_and_a_changed_text_replaces_its_mentions(
        fake: None, data: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cli(capsys, "ingest-docs", str(folder), "--json", "--data-dir", str(data))
    graph = _graph(data)
    seq = graph.last_seq()
    graph.close()
    again = _cli(capsys, "ingest-docs", str(folder), "--json", "--data-dir", str(data))
    assert sorted(d["status"] for d in again) == ["failed", "failed", "unchanged", "unchanged"]
    graph = _graph(data)
    assert graph.last_seq() == seq  # nothing written, not even a change-log entry
    graph.close()

    # The report changes: the party group and the branch are gone, a volunteer team appears.
    (folder / "report.txt").write_text("联洋社区2025年工作报告\n银杏志愿服务队在联洋市民中心服务。", encoding="utf-8")
    changed = {Path(d["path"]).name: d for d in _cli(capsys, "ingest-docs", str(folder / "report.txt"), "--json",
                                                     "--data-dir", str(data))}
    assert changed["report.txt"]["status"] == "changed" and changed["report.txt"]["ended"] > 0
    graph = _graph(data)
    try:
        rid = document_id(str(folder / "report.txt"))
        targets = {e.to_id: e.props for e in graph.edges([rid], "MENTIONS", "out")[rid]}
        assert set(targets) == {"ven:V1", candidate_id("Group:银杏志愿服务队")}
        assert targets["ven:V1"]["count"] == 1
        assert not graph.edges([rid], "STATES", "out").get(rid)
        # The party group only this report named is gone; the reading room, named by the news too, stays.
        gone, kept = candidate_id("PartyOrganization:芳甸路楼组党小组"), candidate_id("Venue:梧桐书房")
        assert set(graph.get_nodes([gone, kept])) == {kept}
        assert graph.count_nodes("Fact") == 1  # the news' fact
    finally:
        graph.close()


def test_review_accept_reject_merge(fake: None, data: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cli(capsys, "ingest-docs", str(folder), "--json", "--data-dir", str(data))
    party, shu = candidate_id("PartyOrganization:芳甸路楼组党小组"), candidate_id("Venue:梧桐书房")
    rid, nid = document_id(str(folder / "report.txt")), document_id(str(folder / "news.md"))
    pending = _cli(capsys, "docs", "pending", "--json", "--data-dir", str(data))
    assert {p["id"] for p in pending} == {party, shu}
    assert next(p for p in pending if p["id"] == shu)["mentions"] == 3

    # A party organisation needs its level: the review says which property, and takes it with --set.
    assert main(["docs", "--accept", party, "--data-dir", str(data)]) == 2
    assert "level" in capsys.readouterr().err
    accepted = _cli(capsys, "docs", "--accept", party, "--set", "level=building_group", "--json", "--data-dir", str(data))
    new_id = accepted["node"]
    assert accepted["type"] == "PartyOrganization" and accepted["documents"] == [rid]
    merged = _cli(capsys, "docs", "--merge-into", shu, "ven:V1", "--json", "--data-dir", str(data))
    assert merged["moved"]["MENTIONS"] == 2 and merged["alias"] is None  # venues keep no alias list
    assert _cli(capsys, "docs", "pending", "--json", "--data-dir", str(data)) == []

    graph = _graph(data)
    try:
        node = graph.get_nodes([new_id])[new_id].props
        assert node["name"] == "芳甸路楼组党小组" and node["level"] == "building_group"
        assert node["src_job"] == review.REVIEW_JOB and rid in json.loads(node["prov"])["s"][0][1]
        assert {e.to_id for e in graph.edges([rid], "MENTIONS", "out")[rid]} >= {new_id, "ven:V1"}
        assert not any(graph.edges([party, shu], "MENTIONS", "in").values())
        # ven:V1 had its own MENTIONS from the report: the merged one joins it (one relationship per pair).
        assert {e.from_id for e in graph.edges(["ven:V1"], "MENTIONS", "in")["ven:V1"]} >= {rid, nid}
        decided = graph.get_nodes([party, shu])
        assert (decided[party].props["review"], decided[party].props["resolved_to"]) == ("accepted", new_id)
        assert (decided[shu].props["review"], decided[shu].props["resolved_to"]) == ("merged", "ven:V1")
        # The news' fact was about 联洋新苑; the merge refreshed nothing there, and the register is untouched.
        assert graph.get_nodes(["ven:V1"])["ven:V1"].props["name"] == "联洋市民中心"
    finally:
        graph.close()

    # Documents read again (changed) keep the decisions: mentions go to the nodes, nothing re-opens.
    (folder / "news.md").write_text(NEWS + "\n芳甸路楼组党小组也来了。银杏志愿服务队来了。", encoding="utf-8")
    again = {Path(d["path"]).name: d for d in _cli(capsys, "ingest-docs", str(folder / "news.md"), "--json",
                                                   "--data-dir", str(data))}
    targets = {m.get("node") or m.get("candidate") for m in again["news.md"]["mentions"]}
    assert {new_id, "ven:V1"} <= targets and shu not in targets and party not in targets
    team = candidate_id("Group:银杏志愿服务队")
    assert [p["id"] for p in _cli(capsys, "docs", "pending", "--json", "--data-dir", str(data))] == [team]
    rejected = _cli(capsys, "docs", "--reject", team, "--json", "--data-dir", str(data))
    assert rejected["review"] == "rejected"
    (folder / "news.md").write_text(NEWS + "\n银杏志愿服务队又来了。", encoding="utf-8")
    _cli(capsys, "ingest-docs", str(folder / "news.md"), "--json", "--data-dir", str(data))
    assert _cli(capsys, "docs", "pending", "--json", "--data-dir", str(data)) == []  # not proposed again
    graph = _graph(data)
    try:
        assert graph.get_nodes([team])[team].props["review"] == "rejected"
    finally:
        graph.close()

    # Decided or unknown ids: one clear error each, exit 2.
    for argv, words in ((["--reject", team], "already rejected"), (["--accept", "cand:nope"], "No candidate"),
                        (["--accept", "ven:V1"], "not a candidate id"),
                        (["--merge-into", team, "ven:nope"], "already rejected")):
        assert main(["docs", *argv, "--data-dir", str(data)]) == 2
        assert words in capsys.readouterr().err


def test_merge_into_a_person_records_an_alias(data: Path, tmp_path: Path) -> None:
    graph = _graph(data)
    try:
        text = "走访记录\n居民张小明参加了活动。"
        doc = DocumentText(str(tmp_path / "note.txt"), "走访记录", text, "zh", text_hash="h1")
        m = Mention(7, 10, "张小明", "Person", "model", candidate_key="Person:张小明", score=0.6, method="model")
        r = write_extraction(graph, Extraction(doc, sentences(text), [m], [], pipeline="t"))
        assert r.status == "new" and r.candidates == [candidate_id("Person:张小明")]
        out = review.merge(graph, r.candidates[0], "per:00", by="test")
        assert out["alias"] == "张小明"
        assert graph.get_nodes(["per:00"])["per:00"].props["other_names"] == ["Alias00", "张小明"]
    finally:
        graph.close()


# --- the API ---------------------------------------------------------------------------------------


@pytest.fixture
def served(fake: None, data: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[Any, dict[str, str]]]:
    _cli(capsys, "ingest-docs", str(folder), "--json", "--data-dir", str(data))
    settings = Settings(data_dir=data, ingest_roots=str(folder))
    stores = open_stores(settings)
    keys = KeyStore(data / "keys.json", POLICY.roles)
    raw = {role: keys.create(f"t-{role}", role, ["area:RA1"] if POLICY.role(role).scoped else [])[0]
           for role in POLICY.roles}
    admin = AdminOps(keys=keys, roots=[folder])
    import threading

    admin.docs = server_ops(stores, threading.Lock(), admin.roots)
    app = create_app(stores.graph, stores.search, settings, gate=Gate(keys=keys), audit=AuditLog(data / "audit"),
                     admin=admin)
    try:
        yield app, raw
    finally:
        stores.close()


VENUE_DOCS = """{ venue(id: "ven:V1") { name mentionedIn(first: 10) { edges { properties { count sentence method }
  node { ... on Document { id title } } } } } }"""


async def test_graphql_mentioned_in_mentions_facts_candidates_and_search(served: tuple[Any, dict[str, str]],
                                                                         folder: Path) -> None:
    app, keys = served
    rid = document_id(str(folder / "report.txt"))
    async with app.router.lifespan_context(app), client(app) as c:
        body = await ask(c, keys["analyst"], VENUE_DOCS)
        assert "errors" not in body, body
        edges = body["data"]["venue"]["mentionedIn"]["edges"]
        report = next(e for e in edges if e["node"]["id"] == rid)
        assert report["properties"]["count"] == 2 and "书法课" in report["properties"]["sentence"]

        q = f"""{{ document(id: "{rid}") {{ title text language docKind
            mentions(first: 20) {{ edges {{ properties {{ surface spans score }} node {{ __typename id }} }} }}
            states(first: 5) {{ nodes {{ ... on Fact {{ statement quantity graphValue disagrees
               about {{ nodes {{ id }} }} }} }} }} }} }}"""
        body = await ask(c, keys["analyst"], q)
        assert "errors" not in body, body
        doc = body["data"]["document"]
        assert doc["text"] == REPORT and doc["docKind"] == "report"
        kinds = {e["node"]["__typename"] for e in doc["mentions"]["edges"]}
        assert {"Venue", "Area", "PartyOrganization", "Candidate"} <= kinds
        [fact] = doc["states"]["nodes"]
        assert fact["graphValue"] == 800.0 and fact["disagrees"] is False and fact["about"]["nodes"] == [{"id": "area:RA1"}]

        body = await ask(c, keys["analyst"], '{ candidates(where: {review: {eq: "pending"}}, first: 10) '
                                             '{ totalCount nodes { name candidateType mentionedIn { nodes { id } } } } '
                                             'facts(where: {disagrees: {eq: true}}) { nodes { statement } } '
                                             'area(id: "area:RA1") { facts { nodes { ... on Fact { quantity } } } } }')
        assert "errors" not in body, body
        assert body["data"]["candidates"]["totalCount"] == 2
        assert body["data"]["facts"]["nodes"] == [{"statement": "900户"}]
        assert sorted(n["quantity"] for n in body["data"]["area"]["facts"]["nodes"]) == [820.0, 900.0]

        search = '{ search(query: "书法课", types: [Document], first: 5) { totalCount hits { id title highlights { field fragments } } } }'
        body = await ask(c, keys["analyst"], search)
        assert "errors" not in body, body
        hit = next(h for h in body["data"]["search"]["hits"] if h["id"] == rid)
        assert hit["title"] == "联洋社区2025年工作报告"
        fragments = [f for h in hit["highlights"] if h["field"] == "text" for f in h["fragments"]]
        assert any("<mark>书法课</mark>" in f for f in fragments), hit

        # The platform: documents by title, never their text, the sentences they mention or the candidates.
        body = await ask(c, keys["platform"], f'{{ document(id: "{rid}") {{ title }} }}')
        assert body["data"]["document"]["title"] == "联洋社区2025年工作报告"
        for q in (f'{{ document(id: "{rid}") {{ text }} }}', VENUE_DOCS, '{ candidates { totalCount } }',
                  '{ facts { nodes { sentence } } }'):
            body = await ask(c, keys["platform"], q)
            assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", (q, body)
        body = await ask(c, keys["platform"], search)
        # Matched only through the text it may not read: no hit, no highlight.
        assert "errors" not in body and body["data"]["search"] == {"totalCount": 0, "hits": []}, body


async def test_admin_route_confines_paths_and_answers_one_error_shape(served: tuple[Any, dict[str, str]],
                                                                      folder: Path, tmp_path: Path) -> None:
    app, keys = served
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "x.txt").write_text("联洋市民中心", encoding="utf-8")
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    async with app.router.lifespan_context(app), client(app) as c:
        for paths in ([str(outside)], [str(folder / ".." / "secret" / "x.txt")], ["/etc/passwd"]):
            r = await c.post("/admin/docs", json={"action": "ingest", "paths": paths}, headers=admin)
            assert r.status_code == 403 and r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", r.text
            assert "secret" not in r.text or "outside" in r.text
        r = await c.post("/admin/docs", json={"action": "accept", "id": "cand:0000"}, headers=admin)
        assert r.status_code == 404
        err = r.json()["errors"][0]
        assert err["extensions"]["code"] == "NOT_FOUND" and "cand:0000" in err["message"]
        r = await c.post("/admin/docs", json={"action": "ingest", "paths": [str(folder / "report.txt")]}, headers=admin)
        assert r.status_code == 200 and r.json()["documents"][0]["status"] == "unchanged"
        r = await c.post("/admin/docs", json={"action": "pending"}, headers={"Authorization": f"Bearer {keys['analyst']}"})
        assert r.status_code == 403
        r = await c.post("/admin/docs", json={"action": "explode"}, headers=admin)
        assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["code"] == "BAD_QUERY"


def test_hostile_inputs_fail_alone(fake: None, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "hostile"
    f.mkdir()
    (f / "ok.txt").write_text("梧桐书房开放。", encoding="utf-8")
    (f / "boom.txt").write_text("联洋市民中心 EXPLODE", encoding="utf-8")
    (f / "huge.txt").write_bytes(b"a" * 21_000_000)
    (f / "weird.exe").write_bytes(b"MZ\x00\x00")
    docs = {Path(d["path"]).name: d for d in _cli(capsys, "ingest-docs", str(f), str(tmp_path / "missing.txt"),
                                                  "--json", "--data-dir", str(data))}
    assert docs["ok.txt"]["status"] == "new"
    assert docs["boom.txt"]["status"] == "failed" and "fell over" in docs["boom.txt"]["reason"]
    assert docs["huge.txt"]["status"] == "failed" and "too big" in docs["huge.txt"]["reason"]
    assert docs["weird.exe"]["status"] == "failed" and docs["missing.txt"]["status"] == "failed"
    graph = _graph(data)
    try:
        assert graph.count_nodes("Document", Cmp("title", "eq", "梧桐书房开放。")) == 1
    finally:
        graph.close()


def test_job_file_ingests_a_folder(fake: None, data: Path, folder: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    job = tmp_path / "reports.yaml"
    job.write_text(f"documents: reports\npaths: [{folder}]\n", encoding="utf-8")
    rows = _cli(capsys, "ingest", str(job), "--json", "--quiet", "--data-dir", str(data))
    [summary] = rows
    assert (summary["job"], summary["rows_in"], summary["inserted"], summary["quarantined"]) == ("reports", 4, 2, 2)


def test_shipped_pipeline_end_to_end(data: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        from talentgraph.text import pipeline  # noqa: F401
    except ImportError:
        pytest.skip("the text pipeline (talentgraph/text/pipeline.py) is not importable")
    docs = _cli(capsys, "ingest-docs", str(folder / "report.txt"), "--json", "--data-dir", str(data))
    assert docs[0]["status"] == "new", docs
    targets = {m.get("node") for m in docs[0]["mentions"]}
    assert "ven:V1" in targets, docs[0]["mentions"]


# --- the port-level writes, on every graph backend (Neo4j when it runs) ------------------------------


def test_store_and_review_through_the_port(fresh_graph: GraphStore, tmp_path: Path) -> None:
    load_access_world(fresh_graph, make_access_world())
    path = str(tmp_path / "r.txt")

    def doc(text: str) -> DocumentText:
        import hashlib

        return DocumentText(path, "报告", text, "zh", text_hash=hashlib.sha256(text.encode()).hexdigest())

    first = write_extraction(fresh_graph, extract(doc(REPORT)))
    assert first.status == "new" and len(first.candidates) == 2 and len(first.facts) == 1
    seq = fresh_graph.last_seq()
    assert write_extraction(fresh_graph, extract(doc(REPORT))).status == "unchanged"
    assert fresh_graph.last_seq() == seq
    shu = candidate_id("Venue:梧桐书房")
    accepted = review.accept(fresh_graph, shu, by="test")
    assert fresh_graph.get_nodes([accepted["node"]])[accepted["node"]].props["name"] == "梧桐书房"
    changed = write_extraction(fresh_graph, extract(doc("梧桐书房今天开放。")))
    assert changed.status == "changed" and [m.target for m in changed.mentions] == [accepted["node"]]
    rid = document_id(path)
    assert {e.to_id for e in fresh_graph.edges([rid], "MENTIONS", "out")[rid]} == {accepted["node"]}
    assert fresh_graph.count_nodes("Fact") == 1  # the world's own; the report's went with its text
    assert fresh_graph.get_nodes([shu])[shu].props["review"] == "accepted"


def test_a_batch_is_one_write_and_a_bad_document_fails_alone(fresh_graph: GraphStore, tmp_path: Path) -> None:
    import hashlib
    from dataclasses import replace

    from talentgraph.graph import claims as graph_claims
    from talentgraph.text.store import write_extractions

    load_access_world(fresh_graph, make_access_world())

    def doc(name: str, text: str) -> DocumentText:
        return DocumentText(str(tmp_path / name), name, text, "zh", text_hash=hashlib.sha256(text.encode()).hexdigest())

    good = [extract(doc("a.txt", REPORT)), extract(doc("b.txt", NEWS))]
    bad = extract(doc("c.txt", NEWS + "补记。"))
    bad = replace(bad, document=replace(bad.document, title=["不是", "文字"]))  # type: ignore[arg-type]  # unstorable
    seq = fresh_graph.last_seq()
    out = write_extractions(fresh_graph, [good[0], bad, good[1]])
    assert isinstance(out[1], Exception) and not isinstance(out[0], Exception) and not isinstance(out[2], Exception)
    assert [r.status for r in (out[0], out[2]) if not isinstance(r, Exception)] == ["new", "new"]
    assert document_id(str(tmp_path / "c.txt")) not in fresh_graph.get_nodes([document_id(str(tmp_path / "c.txt"))])
    # 梧桐书房 is named by both good documents: one Candidate, each document's claim kept.
    shu = candidate_id("Venue:梧桐书房")
    held = graph_claims.load(fresh_graph.get_nodes([shu])[shu].props, [])
    assert {c["job"] for c in held["review"]} == {document_id(str(tmp_path / n)) for n in ("a.txt", "b.txt")}
    assert fresh_graph.last_seq() > seq
    # Alone, the good ones are unchanged: nothing written.
    seq = fresh_graph.last_seq()
    again = write_extractions(fresh_graph, good)
    assert [getattr(r, "status", r) for r in again] == ["unchanged", "unchanged"] and fresh_graph.last_seq() == seq


def test_the_bar_names_the_pipelines_loading_and_the_batch_being_read(
    data: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first batch loads the language pipelines and reads every document in it before one file is counted (16 s
    at the demo's 200 documents on a slow machine): the bar says so while it lasts, and counts the files after."""
    import time

    from talentgraph.ingest import progress

    class Slow(Fake):
        def __call__(self, docs: Sequence[DocumentText]) -> Iterable[Extraction]:
            time.sleep(0.3)  # what loading spaCy's pipelines takes, scaled down (the extraction is the fake's)
            return list(super().__call__(docs))

    monkeypatch.setattr(jobs, "SpacyExtractor", Slow)
    monkeypatch.setattr(progress, "SAY_AFTER", 0.1)
    monkeypatch.setattr(progress, "TICK", 0.02)
    graph = _graph(data)
    try:
        summary = jobs.ingest_documents(graph, [folder], progress=True)
    finally:
        graph.close()
    err = capsys.readouterr().err
    assert re.search(r"loading the language pipelines, then finding entities, links and facts in 2 documents, \d+ s",
                     err)
    assert f"{summary.rows_in} files" in err and summary.rows_in == 4  # two texts, an empty file, a binary blob
