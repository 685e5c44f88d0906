"""The embedded store's ingest fast path: COPY without leaking Arrow tables, relationship lookups by
start node, and no lookups at all while a table is still empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from graph_world import people, person, structure

from talentgraph.graph.common import UnstorableValueError
from talentgraph.graph.ladybug import LadybugGraphStore
from talentgraph.graph.ladybug.bulk import forget_scan_statements
from talentgraph.types import RelRecord


@pytest.fixture()
def store(tmp_path: Path):
    s = LadybugGraphStore(tmp_path / "g", copy_threshold=10)  # every batch below takes the COPY path
    s.ensure_schema()
    s.upsert_nodes(structure())
    yield s
    s.close()


def _members(ids: range, role: str = "member") -> list[RelRecord]:
    return [RelRecord("MEMBER_OF", f"per:{i:05d}", f"grp:{i % 10}", {"role": role}) for i in ids]


def test_bulk_copies_leave_no_arrow_bound_statements_behind(store: LadybugGraphStore) -> None:
    # ladybug caches one prepared statement per Arrow object passed to COPY and keeps the table
    # alive with it: ~15 MB per 5,000-row batch, never freed until the connection closes.
    for start in range(0, 200, 50):
        store.upsert_nodes([person(i) for i in range(start, start + 50)])
        store.upsert_relationships(_members(range(start, start + 50)))
    cache = store._writer._pybind_implicit_prepared_cache  # the private cache the leak lived in
    assert len(cache) > 0  # still there under that name, so the next line checks something real
    assert forget_scan_statements(store._writer) == 0
    assert store.count_nodes("Person") == 200
    assert len(store.edges(["grp:3"], "MEMBER_OF", "in")["grp:3"]) == 20


def test_relationship_batch_mixing_new_changed_and_unchanged(store: LadybugGraphStore) -> None:
    store.upsert_nodes(people(400))
    first = _members(range(300))
    first.append(RelRecord("MEMBER_OF", "per:00001", "org:1", {"role": "secretary"}))
    assert len(store.upsert_relationships(first).inserted) == 301  # empty table: no lookups at all
    seq = store.last_seq()
    again = _members(range(20), "deputy") + _members(range(20, 400))
    # per:00001 has two MEMBER_OF edges (its group and the party branch); both change.
    again.append(RelRecord("MEMBER_OF", "per:00001", "org:1", {"role": "member"}))
    result = store.upsert_relationships(again)
    assert sorted(result.updated) == sorted([r.key for r in _members(range(20))] + ["per:00001|MEMBER_OF|org:1"])
    assert len(result.inserted) == 100 and len(result.unchanged) == 280 and not result.rejected
    changes = store.changes(seq, 1000)
    assert len(changes) == 121 and {c.version for c in changes} == {1, 2}
    edges = store.edges(["per:00001"], "MEMBER_OF", "out")["per:00001"]
    assert sorted((e.to_id, e.props["role"], e.props["version"]) for e in edges) == [
        ("grp:1", "deputy", 2), ("org:1", "member", 2)]


def test_nodes_into_a_non_empty_table_are_compared_not_duplicated(store: LadybugGraphStore) -> None:
    assert len(store.upsert_nodes(people(100)).inserted) == 100  # empty table: lookup skipped
    result = store.upsert_nodes(people(150)[:50] + [person(i, bio="新") for i in range(50, 150)])
    assert len(result.unchanged) == 50 and len(result.updated) == 50 and len(result.inserted) == 50
    assert store.count_nodes("Person") == 150



def test_a_bad_value_in_a_bulk_batch_is_refused_before_the_arrow_table(store: LadybugGraphStore) -> None:
    # Without the shared check the COPY path would fail inside pyarrow (an ArrowInvalid, no record
    # named); the row-by-row path inside the engine as "a bug in talentgraph".
    seq = store.last_seq()
    batch = people(50) + [person(50, birth_year="nineteen")]
    with pytest.raises(UnstorableValueError, match=r"Person per:00050: birth_year is 'nineteen' \(str\)"):
        store.upsert_nodes(batch)
    assert store.count_nodes("Person") == 0 and store.last_seq() == seq
    store.upsert_nodes(people(60))
    with pytest.raises(UnstorableValueError, match=r"MEMBER_OF per:00059\|MEMBER_OF\|grp:9: role is 3 \(int\)"):
        store.upsert_relationships(_members(range(59)) + [RelRecord("MEMBER_OF", "per:00059", "grp:9", {"role": 3})])
    assert store.edges(["grp:3"], "MEMBER_OF", "in")["grp:3"] == [] and store.last_seq() == seq + 60


def test_a_batch_naming_copied_nodes_from_a_second_source_merges_into_the_copy(store: LadybugGraphStore) -> None:
    # The first round COPYs new nodes; the second round (another source, same ids) must find them inside
    # the same transaction and add its claims, not insert them again.
    from dataclasses import replace

    from talentgraph.types import Provenance

    first = Provenance("residents", "r.csv", 1, "2026-01-01T00:00:00Z")
    second = Provenance("survey", "s.csv", 1, "2026-01-02T00:00:00Z")
    a = [replace(person(i), provenance=first) for i in range(30)]
    b = [replace(person(i), props={"phone": f"+86138000{i:05d}"}, provenance=second, names=frozenset({"phone"}))
         for i in range(30)]
    seq = store.last_seq()
    nodes, _ = store.upsert_batch([*a, *b], [])
    assert len(nodes.inserted) == 30 and not nodes.updated and not nodes.unchanged
    assert store.count_nodes("Person") == 30
    held = store.get_nodes(["per:00007"])["per:00007"].props
    assert (held["name"], held["phone"], held["version"]) == ("居民007", "+8613800000007", 2)
    assert len(store.changes(seq, 1000)) == 60  # each source's write is in the log


def test_links_of_many_ids_in_one_window_are_read_by_the_window(store: LadybugGraphStore,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Relationships of a dense run of nodes (a first sync's scan window) are read by their offset window, scattered
    ids by id; both give what ``edges`` gives, with deleted nodes and other nodes inside the window left out."""
    store.upsert_nodes(people(3000))
    store.upsert_relationships(_members(range(3000)))
    store.delete_nodes(["per:01500"])
    asked: list[str] = []
    read_arrow = store._read_arrow

    def spy(text: str, params: dict[str, object] | None = None) -> object:
        asked.append(text)
        return read_arrow(text, params)

    monkeypatch.setattr(store, "_read_arrow", spy)
    # As a first sync asks: the nodes of one scan window (COPY may place ids out of their order), less one.
    window = [node.id for _, node in store.scan_nodes("Person", None, 2000, fields=["name"]).items]
    dense, skipped = [i for i in window if i != window[1234]], window[1234]
    sparse = [f"per:{i:05d}" for i in range(0, 3000, 3)]
    for ids in (dense, sparse):
        asked.clear()
        found = store.links(ids, "MEMBER_OF", "out", far_prop="kind")
        # The scanned page's window is known from the scan: only ids outside it are looked up one by one.
        assert any("RETURN offset(ID(n)) AS pos" in text for text in asked) is (ids is sparse), asked
        assert {i: [(link.type, link.id, link.value) for link in ls] for i, ls in found.items()} == {
            i: [(e.node.type, e.node.id, e.node.props.get("kind")) for e in es]
            for i, es in store.edges(ids, "MEMBER_OF", "out", far_props=["kind"]).items()}
        assert all(found[i] == [] for i in ids if i == "per:01500")  # deleted
        assert ids is sparse or skipped not in found  # inside the window, not asked for
        windowed = any("offset(ID(a)) >= $lo" in text for text in asked)
        assert windowed is (ids is dense), asked
        # Asked again (a sync's next relationship for the same chunk): the window is known, only the links are read.
        asked.clear()
        assert store.links(ids, "LIVES_IN", "out") == {i: [] for i in ids}
        assert not [text for text in asked if "RETURN offset(ID(n)) AS pos" in text], asked
    store.links(dense, "MEMBER_OF", "out")  # its window known
    store.upsert_nodes([person(5000)])  # then a write: an id asked for may exist now, anywhere
    asked.clear()
    store.links(dense, "MEMBER_OF", "out")
    assert [text for text in asked if "RETURN offset(ID(n)) AS pos" in text], asked
