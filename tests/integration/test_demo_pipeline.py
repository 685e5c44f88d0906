"""The shipped demo jobs ingest the generated registers into a real graph store (every backend).

Every job's rows are accounted for, exactly the deliberately bad rows are quarantined (each with a
reason), a second run changes nothing, and the graph answers the demo's questions.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from talentgraph.demo import PIPELINE, GeneratedRegisters, build, generate, load_truth
from talentgraph.graph.port import GraphStore
from talentgraph.ingest.job import JobSummary
from talentgraph.ingest.mapping import load_pipeline
from talentgraph.ingest.pipeline import run_pipeline

RESIDENTS = 3000
KEY = b"demo-test-key"

Ingested = tuple[GeneratedRegisters, GraphStore, list[JobSummary], list[JobSummary]]


@pytest.fixture(scope="module")
def ingested(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingested]:
    base = tmp_path_factory.mktemp("demo-pipeline")
    regs = generate(base / "input", residents=RESIDENTS, seed=7)
    store = graph_backend.fresh(base / "graph")
    specs = load_pipeline(PIPELINE, input_dir=regs.out_dir)
    first = run_pipeline(specs, store, id_hash_key=KEY, quarantine_dir=base / "q1")
    second = run_pipeline(specs, store, id_hash_key=KEY, quarantine_dir=base / "q2")
    yield regs, store, first, second
    store.close()


def test_pipeline_runs_one_job_per_register(ingested: Ingested) -> None:
    regs, _, first, _ = ingested
    assert [s.job for s in first] == list(regs.paths)
    assert {s.source for s in first} == {p.name for p in regs.paths.values()}


def test_accounting_and_quarantine_match_the_bad_rows(ingested: Ingested) -> None:
    regs, _, first, _ = ingested
    for s in first:
        assert s.rows_in == regs.rows[s.job], s.job
        assert s.rows_in == s.inserted + s.updated + s.unchanged + s.quarantined, s.job
        assert s.quarantined == regs.bad_rows[s.job], (s.job, s.quarantine_path)
        assert s.inserted == regs.good_rows[s.job], s.job
        assert s.partially_written == 0, s.job
        assert s.quarantine_path is not None
        with open(s.quarantine_path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == s.quarantined and all(r["_reason"] for r in rows), s.job


def test_gbk_register_was_detected(ingested: Ingested) -> None:
    _, _, first, _ = ingested
    enc = {s.job: (s.encoding or "").lower() for s in first}
    assert enc["residents"] in ("gb18030", "gbk") and enc["buildings"] in ("gb18030", "gbk")
    assert enc["foreign_residents"].startswith("utf-8")


def test_raw_identity_numbers_never_reach_quarantine_files(ingested: Ingested) -> None:
    regs, _, first, _ = ingested
    summary = next(s for s in first if s.job == "residents")
    text = Path(summary.quarantine_path).read_text(encoding="utf-8-sig")  # type: ignore[arg-type]
    with regs.paths["residents"].open(encoding="gbk", newline="") as f:
        numbers = [r["证件号码"] for r in csv.DictReader(f)]
    assert not any(n in text for n in numbers)


def test_second_run_changes_nothing(ingested: Ingested) -> None:
    regs, _, _, second = ingested
    for s in second:
        assert (s.inserted, s.updated) == (0, 0), s.job
        assert s.unchanged == regs.good_rows[s.job] and s.quarantined == regs.bad_rows[s.job], s.job


def test_graph_holds_the_community(ingested: Ingested) -> None:
    regs, store, _, _ = ingested
    truth = load_truth(regs.truth)
    assert store.count_nodes("Person") == len(truth) > RESIDENTS  # residents + their other records
    assert store.count_nodes("Enterprise") == 200
    assert store.count_nodes("Project") == 195
    assert store.count_nodes("Area") == 11 + 160
    plaza = store.get_nodes(["ven:V04"])["ven:V04"]
    assert (plaza.props["name"], plaza.props["parking_spaces"]) == ("大拇指广场", 170)  # the public record's figure
    assert 31.20 < plaza.props["lat"] < 31.24  # converted from GCJ-02, still in the community
    # Places, organisations and projects carry the English names of the bilingual signage (name_en).
    english = {i: n.props.get("name_en") for i, n in store.get_nodes(
        ["ven:V04", "area:RA01", "area:RA01-3", "org:A01", "grp:G009", "prj:P001"]).items()}
    assert english == {"ven:V04": "Thumb Plaza", "area:RA01": "Lianyang Xinyuan",
                       "area:RA01-3": "Lianyang Xinyuan Building 3", "org:A01": "Lianyang Xinyuan General Party Branch",
                       "grp:G009": "Lianyang Yang Volunteers", "prj:P001": "Silver Age Meal Service"}
    # Residential areas and buildings carry outlines (GCJ-02 rings converted to WGS84 polygons), the
    # enterprises and the seated party organisations coordinates.
    areas = store.list_nodes("Area", first=500).items
    shaped = [a for a in areas if a.props.get("outline")]
    assert {a.props["level"] for a in shaped} == {"residential_area", "building"}
    assert len(shaped) == sum(a.props["level"] in ("residential_area", "building") for a in areas)
    enterprises = store.list_nodes("Enterprise", first=500).items
    assert all(31.20 < e.props["lat"] < 31.24 and 121.53 < e.props["lon"] < 121.58 for e in enterprises)
    assert store.get_nodes(["org:C00"])["org:C00"].props["lat"] is not None
    co = store.edges(["org:C00"], "CO_BUILDS_WITH", "out")["org:C00"]
    assert len(co) == 36 and {e.node.type for e in co} == {"Enterprise", "Venue", "PartyOrganization"}
    leads = store.edges(["area:RA01-1"], "LEADS", "in")["area:RA01-1"]
    assert sorted(e.props["role"] for e in leads) == ["building_leader", "party_building_leader"]


def test_russian_speaking_lawyers_are_in_the_graph(ingested: Ingested) -> None:
    _, store, _, _ = ingested
    world = build(residents=RESIDENTS, seed=7)
    wanted = [r for r in world.residents if "legal_volunteer" in r.extra]
    assert sum(r.foreign for r in wanted) >= 3 and sum(not r.foreign for r in wanted) >= 3
    nodes = store.get_nodes([f"per:{r.key}" for r in wanted])
    assert len(nodes) == len(wanted)
    for node in nodes.values():
        assert "ru" in node.props["languages"]
        assert any(s == "law" or s.startswith("law.") for s in node.props["skills"])
        assert "id_hash" in node.props and node.props["id_last4"]


def test_every_truth_record_is_a_person_node(ingested: Ingested) -> None:
    regs, store, _, _ = ingested
    truth = load_truth(regs.truth)
    records = sorted(truth)
    found: dict[str, Any] = {}
    for i in range(0, len(records), 500):
        found.update(store.get_nodes(records[i:i + 500]))
    assert set(found) == set(truth) and {n.type for n in found.values()} == {"Person"}
    volunteers = [r for r in records if r.startswith("per:VT")]
    teams = store.edges(volunteers, "MEMBER_OF", "out")
    assert sum(bool(teams.get(r)) for r in volunteers) > 0.8 * len(volunteers)  # found by team name
    survey = [r for r in records if r.startswith("per:TS")]
    areas = store.edges(survey, "LIVES_IN", "out")
    assert all(e.node.props["level"] == "residential_area" for r in survey for e in areas.get(r, []))
    assert sum(bool(areas.get(r)) for r in survey) > 0.7 * len(survey)
    copy = found[next(r for r in volunteers if truth[r].startswith("LY") and "id_hash" in found[r].props)]
    assert copy.props["volunteer"] is True
    original = store.get_nodes([f"per:{truth[copy.id]}"])[f"per:{truth[copy.id]}"]
    assert copy.props["id_hash"] == original.props["id_hash"]  # spaced or not, the same hash


def test_a_pipeline_settles_the_store_between_jobs(ingested: Ingested, graph_backend: Any,
                                                   tmp_path: Path) -> None:
    """After each job but the last the store may tidy up in the background while the next job builds its
    rows (``GraphStore.settle``); a dry run writes nothing, so it has nothing to settle."""
    from api_world import CountingStore

    regs = ingested[0]
    specs = load_pipeline(PIPELINE, input_dir=regs.out_dir)[:3]
    counting = CountingStore(graph_backend.fresh(tmp_path / "graph"))
    try:
        done = run_pipeline(specs, counting, id_hash_key=KEY, quarantine_dir=tmp_path / "q")  # type: ignore[arg-type]
        assert [s.job for s in done] == [s.job for s in specs] and counting.calls["settle"] == 2
        run_pipeline(specs, counting, id_hash_key=KEY, quarantine_dir=tmp_path / "q2", dry_run=True)  # type: ignore[arg-type]
        assert counting.calls["settle"] == 2
        assert counting.count_nodes("Area") > 0
    finally:
        counting.close()
