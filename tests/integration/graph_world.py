"""The synthetic community the graph store tests load: n persons in 10 volunteer groups, one party
branch, a community with 5 buildings. Deterministic, so every expectation is computed from n."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from talentgraph.types import NodeRecord, Provenance, RelRecord

PROV = Provenance(job="job-test", source="people.csv", row=1, ingested_at="2024-01-01T00:00:00.000Z")


def person(i: int, **extra: object) -> NodeRecord:
    props: dict[str, object] = {
        "name": f"居民{i % 1000:03d}",  # five people share each name: the id tiebreak matters
        "gender": "female" if i % 2 else "male",
        "birth_year": 1950 + i % 50,
        "languages": None if i % 7 == 0 else (["zh", "en"] if i % 2 else ["fr"]),
        "skills": ["python"] if i % 5 == 0 else None,
        "volunteer": i % 3 == 0,
    }
    props.update(extra)
    return NodeRecord("Person", f"per:{i:05d}", props, Provenance(PROV.job, PROV.source, i + 1, PROV.ingested_at))


def people(n: int) -> list[NodeRecord]:
    return [person(i) for i in range(n)]


def structure() -> list[NodeRecord]:
    nodes = [NodeRecord("Group", f"grp:{g}", {"name": f"志愿者分队{g}", "kind": "volunteer_branch"}) for g in range(10)]
    nodes.append(NodeRecord("PartyOrganization", "org:1", {"name": "第一支部", "level": "branch",
                                                           "established": "2001-07-01"}))
    nodes.append(NodeRecord("Area", "area:c", {"name": "社区", "level": "community"}))
    nodes += [NodeRecord("Area", f"area:b{b}", {"name": f"{b}号楼", "level": "building"}) for b in range(5)]
    return nodes


def relationships(n: int) -> list[RelRecord]:
    rels = [RelRecord("MEMBER_OF", f"per:{i:05d}", f"grp:{i % 10}", {"role": "captain" if i < 10 else "member"})
            for i in range(n)]
    rels += [RelRecord("PART_OF", f"area:b{b}", "area:c") for b in range(5)]
    rels += [RelRecord("LIVES_IN", f"per:{i:05d}", f"area:b{(i // 50) % 5}") for i in range(0, n, 50)]
    rels.append(RelRecord("MEMBER_OF", "per:00001", "org:1", {"role": "secretary", "since": "2020-03-01"}))
    return rels


def expected_people(n: int, pred: Callable[[dict[str, Any]], bool]) -> list[str]:
    return [r.id for r in people(n) if pred(r.props)]


def load_small(store: Any) -> None:
    """structure() + 20 persons and their relationships: what the write tests start from."""
    store.upsert_nodes(structure() + [person(i) for i in range(20)])
    store.upsert_relationships(relationships(20))


@contextmanager
def write_held_open(store: Any, monkeypatch: pytest.MonkeyPatch, group_id: str) -> Iterator[None]:
    """A write of one Group, held inside its transaction (after the engine's writer lock is taken) until the
    block ends; it commits then. What a long admin ingest's batch or a checkpoint looks like to a reader."""
    inside, release = threading.Event(), threading.Event()
    lock_writers = store._lock_writers

    def held(tx: Any) -> None:
        lock_writers(tx)
        inside.set()
        release.wait(30)

    monkeypatch.setattr(store, "_lock_writers", held)
    writer = threading.Thread(target=store.upsert_nodes,
                              args=([NodeRecord("Group", group_id, {"name": "Held", "kind": "culture_team"})],))
    writer.start()
    try:
        assert inside.wait(30), "the write never began"
        yield
    finally:
        release.set()
        writer.join(30)
