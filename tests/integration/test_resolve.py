"""Entity resolution on both graph engines: links, clusters, decisions that survive re-runs, and
never a deleted or overwritten record."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from talentgraph.errors import BadQueryError, NotFoundError
from talentgraph.graph.port import GraphStore
from talentgraph.resolve.clusters import components
from talentgraph.resolve.run import Resolver
from tests.integration import resolve_world

PERSONS = 400


def _props(graph: GraphStore) -> dict[str, dict[str, object]]:
    page = graph.list_nodes("Person", first=10_000)
    return {n.id: {k: v for k, v in n.props.items() if k in {"name", "latin_name", "birth_date", "phone",
                                                            "nationality", "id_hash", "gender"}}
            for n in page.items}


def _links(graph: GraphStore) -> dict[tuple[str, str], dict[str, object]]:
    ids = list(_props(graph))
    out = {}
    for src, edges in graph.edges(ids, "SAME_AS", "out").items():
        for e in edges:
            out[(e.from_id, e.to_id)] = e.props
    return out


def _canonical(graph: GraphStore) -> dict[str, str]:
    page = graph.list_nodes("Person", first=10_000)
    return {n.id: str(n.props["canonical"]) for n in page.items if n.props.get("canonical")}


@pytest.fixture()
def world(fresh_graph: GraphStore) -> resolve_world.World:
    return resolve_world.build(fresh_graph, people=PERSONS)


def test_resolve_links_duplicates_and_keeps_every_record(fresh_graph: GraphStore, world: resolve_world.World,
                                                         tmp_path: Path) -> None:
    before = _props(fresh_graph)
    report = Resolver(fresh_graph, tmp_path).run()
    assert report.records == len(world.truth)
    assert _props(fresh_graph) == before  # nothing deleted, no value overwritten

    canon = _canonical(fresh_graph)
    true_pairs = {(a, b) for a in world.truth for b in world.truth
                  if a < b and world.truth[a] == world.truth[b]}
    predicted = {(a, b) for a in canon for b in canon if a < b and canon[a] == canon[b]}
    tp = len(true_pairs & predicted)
    assert tp / len(predicted) >= 0.98, (len(predicted), tp)
    assert tp / len(true_pairs) >= 0.9, (len(true_pairs), tp)
    a, b = world.name_only
    assert not (canon.get(a) and canon.get(a) == canon.get(b)), "linked on name alone"

    # every cluster member carries the cluster's canonical id, the canonical record included
    for rid, c in canon.items():
        assert canon[c] == c
    links = _links(fresh_graph)
    matched = [p for p in links.values() if p["status"] == "matched"]
    assert matched and len(matched) == report.matched_pairs
    sample = matched[0]
    assert float(sample["probability"]) >= 0.95  # type: ignore[arg-type]
    weights = json.loads(str(sample["weights"]))
    assert set(weights) == {"name", "birth", "phone", "document", "nationality", "gender"}
    assert sample["cluster"] in canon.values()
    assert (tmp_path / "resolve" / "model.json").exists()


def test_rerun_writes_nothing(fresh_graph: GraphStore, world: resolve_world.World, tmp_path: Path) -> None:
    r = Resolver(fresh_graph, tmp_path)
    first = r.run()
    seq = fresh_graph.last_seq()
    again = r.run()
    assert (again.links_written, again.links_removed, again.canonicals_written) == (0, 0, 0)
    assert again.clusters == first.clusters
    assert fresh_graph.last_seq() == seq  # not even a change-log entry


def test_decisions_survive_reruns(fresh_graph: GraphStore, world: resolve_world.World, tmp_path: Path) -> None:
    r = Resolver(fresh_graph, tmp_path)
    r.run()
    canon = _canonical(fresh_graph)
    a = next(x for x in sorted(canon) if canon[x] != x)
    b = canon[a]
    r.decide(a, b, "reject", by="steward")
    assert (a, b) not in _links(fresh_graph) and (b, a) not in _links(fresh_graph)
    r.run()
    assert (min(a, b), max(a, b)) not in _links(fresh_graph)

    # accept a pair the model never linked: a namesake the steward knows to be the same person
    x, y = world.name_only
    r.decide(x, y, "accept", by="steward")
    canon = _canonical(fresh_graph)
    assert canon[x] == canon[y]
    r.run()
    canon = _canonical(fresh_graph)
    assert canon[x] == canon[y]
    assert _links(fresh_graph)[(min(x, y), max(x, y))]["status"] == "accepted"

    # split the cluster: every record stands for itself again, also after a re-run
    cluster = canon[x]
    members = [m for m, c in canon.items() if c == cluster]
    r.split(cluster, by="steward")
    canon = _canonical(fresh_graph)
    assert not any(m in canon for m in members)
    r.run()
    canon = _canonical(fresh_graph)
    assert not any(canon.get(m) == canon.get(n) and canon.get(m) for m in members for n in members if m < n)


def test_steward_errors_name_what_to_do(fresh_graph: GraphStore, world: resolve_world.World, tmp_path: Path) -> None:
    r = Resolver(fresh_graph, tmp_path)
    with pytest.raises(NotFoundError, match="per:nobody"):
        r.decide("per:A00001", "per:nobody", "accept", by="steward")
    with pytest.raises(BadQueryError, match="same record"):
        r.decide("per:A00001", "per:A00001", "accept", by="steward")
    with pytest.raises(NotFoundError, match="No cluster"):
        r.split("per:A00001", by="steward")
    with pytest.raises(BadQueryError, match="threshold"):
        r.run(threshold=1.5)
    with pytest.raises(BadQueryError, match="review floor"):
        r.run(threshold=0.9, review_floor=0.95)


def test_pending_pairs_are_listed_with_names(fresh_graph: GraphStore, world: resolve_world.World,
                                             tmp_path: Path) -> None:
    r = Resolver(fresh_graph, tmp_path)
    report = r.run(threshold=0.999999, review_floor=0.3)
    queue = r.pending()
    assert len(queue) == report.pending_pairs
    if queue:
        assert all(p.names[0] for p in queue)
        assert queue == sorted(queue, key=lambda p: (-(p.probability or 0.0), p.a, p.b))


def test_components_are_transitive() -> None:
    comp = components([("b", "c"), ("a", "b"), ("x", "y")])
    assert comp == {"a": "a", "b": "a", "c": "a", "x": "x", "y": "x"}


def test_a_register_without_duplicates_links_nothing_and_says_why(fresh_graph: GraphStore, tmp_path: Path) -> None:
    from talentgraph.types import NodeRecord

    fresh_graph.upsert_nodes([NodeRecord("Person", f"per:S{i}", {"name": n, "birth_date": f"19{50 + i}-01-0{i + 1}",
                                                                  "phone": f"+861380000000{i}"})
                              for i, n in enumerate(["张伟", "Natalia Ivanova", "김민수"])])
    report = Resolver(fresh_graph, tmp_path).run()
    assert (report.records, report.clusters, report.links_written) == (3, 0, 0)
    assert "no links made" in report.note
    assert Resolver(fresh_graph, tmp_path).run().records == 3  # and again, still healthy


def test_records_are_read_in_id_order_with_what_a_full_read_gives(fresh_graph: GraphStore) -> None:
    """The model samples pairs with a seed: the same records must reach it in the same order, whatever order the
    engine scans its table in (written here in reverse id order), with the values a whole-node read gives."""
    from talentgraph.resolve import records
    from talentgraph.types import NodeRecord

    written = [NodeRecord("Person", f"per:R{i:03d}", {"name": f"王{'伟芳娜'[i % 3]}", "latin_name": f"Wang {i}",
                                                      "birth_date": f"19{60 + i % 30}-0{1 + i % 9}-1{i % 10}",
                                                      "other_names": [f"W{i}"], "canonical": None})
               for i in reversed(range(250))]
    for i in range(0, len(written), 60):  # several commits: scan positions follow write order
        fresh_graph.upsert_nodes(written[i:i + 60])
    table, recs = records.load(fresh_graph)
    ids = table.column("unique_id").to_pylist()
    assert ids == sorted(ids) and len(ids) == 250 and list(recs) == ids
    whole = {n.id: n for n in fresh_graph.list_nodes("Person", first=1000).items}
    assert table.to_pylist() == [records.features(whole[i]) for i in ids]
    assert recs == {i: records._record(whole[i], records._compared(records.ONTOLOGY)) for i in ids}


def test_a_run_shows_its_phases_on_stderr(fresh_graph: GraphStore, world: resolve_world.World, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolution takes seconds per phase at a district's scale: the CLI and the demo show where it is, and for how
    long (training alone 7 s at the demo's 56,000 records on a slow machine)."""
    from talentgraph.ingest import progress

    monkeypatch.setattr(progress, "SAY_AFTER", 0.01)  # Splink's training here lasts far longer than that
    monkeypatch.setattr(progress, "TICK", 0.005)
    report = Resolver(fresh_graph, tmp_path).run(progress=True)
    err = capsys.readouterr().err
    assert report.clusters > 0
    for phase in ("reading person records", f"training and scoring on {len(world.truth):,} records",
                  "writing links of", "3/3"):
        assert phase in err, err
    assert re.search(rf"training and scoring on {len(world.truth):,} records, \d+ s", err), err
    Resolver(fresh_graph, tmp_path).run()
    assert capsys.readouterr().err == ""  # quiet unless asked
