"""The README's walkthrough end to end: the demo, the foreign-residents register, then `talentgraph resolve`
finds the woman registered twice (俄罗斯 / 俄罗斯联邦, passport spaced / unspaced, two phone formats)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from readme_examples import run_readme_example

from talentgraph.cli import main
from talentgraph.config import Settings
from talentgraph.stores import open_graph

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "foreign-residents"
DUPLICATE = ("per:JW24001", "per:JW24009")


def test_the_walkthrough_resolves_the_duplicate_woman(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["demo", "--residents", "400", "--no-serve", "--quiet", *data]) == 0
    capsys.readouterr()
    # A dry run predicts what the real run reports, row for row, also for the job that updates what the
    # first job of the same pipeline would insert.
    assert main(["ingest", str(EXAMPLE / "pipeline.yaml"), "--dry-run", "--json", "--quiet", *data]) == 0
    predicted = _counts(capsys.readouterr().out)
    assert main(["ingest", str(EXAMPLE / "pipeline.yaml"), "--json", "--quiet", *data]) == 0
    assert _counts(capsys.readouterr().out) == predicted
    assert predicted["volunteer_signup"]["updated"] == 3
    assert main(["resolve", "--json", *data]) == 0
    report = json.loads(capsys.readouterr().out)["report"]
    assert report["clusters"] >= 1 and report["links_written"] >= 1
    graph = open_graph(Settings(data_dir=tmp_path / "data"))
    try:
        nodes = graph.get_nodes(list(DUPLICATE))
        a, b = (nodes[i].props for i in DUPLICATE)
        assert a["canonical"] and a["canonical"] == b["canonical"]
        link = [e for e in graph.edges([DUPLICATE[0]], "SAME_AS", "out")[DUPLICATE[0]] if e.to_id == DUPLICATE[1]]
        assert link and link[0].props["status"] == "matched"
        weights = json.loads(link[0].props["weights"])
        assert weights["document"] > 0 and weights["phone"] > 0  # the explanation: same passport, same phone
        # both records stay as their rows wrote them
        assert a["nationality"] == b["nationality"] == "RU" and a["name"] and b["name"]
    finally:
        graph.close()
    body = _readme_query(tmp_path)
    person = body["data"]["person"]
    assert person["canonicalRecord"]["id"] == DUPLICATE[0]
    assert [(m["canonical"], m["node"]["id"]) for m in person["clusterMembers"]] == [(False, DUPLICATE[1])]
    link = person["clusterMembers"][0]["links"][0]
    assert link["status"] == "matched" and link["probability"] >= 0.95 and link["weights"]["document"] > 0
    assert {p["record"] for p in person["provenance"]} == set(DUPLICATE)
    assert body["data"]["persons"]["totalCount"] == 1  # one person, not two records

    # a reviewer who knows better splits the cluster; a re-run keeps the decision
    assert main(["resolve", "--split", str(a["canonical"]), "--json", *data]) == 0
    assert main(["resolve", "--json", *data]) == 0
    graph = open_graph(Settings(data_dir=tmp_path / "data"))
    try:
        nodes = graph.get_nodes(list(DUPLICATE))
        assert not (nodes[DUPLICATE[0]].props.get("canonical") and
                    nodes[DUPLICATE[0]].props.get("canonical") == nodes[DUPLICATE[1]].props.get("canonical"))
    finally:
        graph.close()



def _readme_query(tmp_path: Path) -> dict[str, Any]:
    """The README's resolution query, verbatim, as admin."""
    r = run_readme_example("clusterMembers", tmp_path / "data", tmp_path)
    body: dict[str, Any] = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    return body


def _counts(out: str) -> dict[str, dict[str, int]]:
    keys = ("inserted", "updated", "unchanged", "quarantined", "empty")
    return {row["job"]: {k: row[k] for k in keys} for row in json.loads(out)}
