"""Graph → search projection: keeps the index in step with the graph's change log.

The index is a pure function of the graph, so it can always be rebuilt (``rebuild``). Incremental
``sync`` reads change-log entries after the index's cursor, collects the nodes whose documents may
have changed (the node itself, both ends of a changed relationship, and the residents of an area
whose place in the hierarchy changed), re-projects them in batches and advances the cursor.

Entity resolution: one document per person. A record resolved to another (its ``canonical`` names
that record) leaves the index; the canonical record's document carries its members' names, skills,
languages… (``mapping.build_doc``), so facets count the person once. Any change to a record of a
cluster re-projects the canonical record, and a split (``canonical`` cleared) brings the record back.

Derived fields (``schema.ontology.DERIVED_FIELDS``) are computed here from graph reads through the
``GraphStore`` port, one batched call per hop, so the projection costs the same on every backend.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from talentgraph.errors import OntologyError
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY, DerivedField, Ontology
from talentgraph.search import analysis
from talentgraph.search.mapping import build_doc
from talentgraph.search.port import SearchDoc, SearchIndex
from talentgraph.types import Cmp, Node, SortKey

log = logging.getLogger(__name__)

PARTY_STATUSES = frozenset({"party_member", "probationary_member"})
AREA_LEVELS_UP = ("building", "residential_area", "community", "subdistrict")
BATCH = 2000
CANONICAL = "canonical"  # entity resolution: the id of the record that stands for a cluster
SAME_AS = "SAME_AS"


@dataclass(frozen=True)
class SyncReport:
    changes_read: int
    indexed: int
    deleted: int
    cursor: int


class SearchProjector:
    def __init__(self, graph: GraphStore, index: SearchIndex, ontology: Ontology = ONTOLOGY) -> None:
        self.graph = graph
        self.index = index
        self.ontology = ontology
        self._searchable_types = {n.name for n in ontology.node_types}

    # --- incremental ----------------------------------------------------------------------------

    def sync(self, *, page: int = 20_000) -> SyncReport:
        cursor = self.index.get_cursor()
        start = cursor
        dirty: set[str] = set()
        deleted: set[str] = set()
        read = 0
        while True:
            changes = self.graph.changes(after_seq=cursor, limit=page)
            if not changes:
                break
            read += len(changes)
            area_moves: set[str] = set()
            new_areas: set[str] = set()
            for c in changes:
                if c.kind == "node":
                    if c.op == "delete":
                        deleted.add(c.id)
                        dirty.discard(c.id)
                    else:
                        dirty.add(c.id)
                        deleted.discard(c.id)
                        if c.version == 1:
                            new_areas.add(c.id)
                else:
                    for end in (c.from_id, c.to_id):
                        if end:
                            dirty.add(end)
                    if c.type == "PART_OF" and c.from_id and c.from_id.startswith(self.ontology.node("Area").id_prefix + ":"):
                        area_moves.add(c.from_id)
            # A new area's residents link to it after it exists, so their own LIVES_IN changes are
            # already in this stretch of the log: only areas that existed before can move residents.
            dirty |= self._residents_below(area_moves - new_areas)
            cursor = changes[-1].seq
        if read == 0:
            return SyncReport(0, 0, 0, start)
        indexed = 0
        pending = sorted(dirty - deleted)
        done: set[str] = set()
        while pending:
            # Entity resolution: a change to one record of a cluster re-projects the record that
            # stands for it (its document carries the members' values), in a further round.
            touched: set[str] = set()
            for chunk in _chunks(pending, BATCH):
                nodes = self.graph.get_nodes(chunk)
                gone = [i for i in chunk if i not in nodes]  # deleted after the change we read
                deleted.update(gone)
                docs, hidden = self._project(list(nodes.values()))
                deleted.update(hidden)
                indexed += self.index.index(docs)
                done.update(chunk)
                touched |= self._clusters_touched(list(nodes.values()))
            pending = sorted(touched - done - deleted)
        if deleted:
            self.index.delete(sorted(deleted))
        self.index.set_cursor(cursor)
        self.index.commit()
        return SyncReport(read, indexed, len(deleted), cursor)

    # --- full rebuild ---------------------------------------------------------------------------

    def rebuild(self) -> int:
        """Build a fresh index from the whole graph and swap it in (search keeps working meanwhile)."""
        cursor = self.graph.last_seq()
        return self.index.rebuild(self.all_docs(), cursor)

    def all_docs(self) -> Iterator[SearchDoc]:
        for node_type in self.ontology.node_types:
            after: str | None = None
            while True:
                page = self.graph.list_nodes(node_type.name, first=BATCH, after=after)
                if page.items:
                    yield from self.docs_for(page.items)
                if not page.has_next_page:
                    break
                after = page.end_cursor

    def learn_entity_names(self) -> int:
        """Feed the graph's entity names (all but people) to the segmenter of this process.

        Documents were segmented with these words when they were indexed (see ``docs_for``); a
        process that only queries must know them too, or "联洋小学" in a query would be cut
        differently from the same words in a document.
        """
        learned = 0
        for node_type in self.ontology.node_types:
            if node_type.name == "Person":
                continue
            after: str | None = None
            while True:
                page = self.graph.list_nodes(node_type.name, first=BATCH, after=after)
                learned += analysis.add_words(str(n.props.get(node_type.title) or "") for n in page.items)
                if not page.has_next_page:
                    break
                after = page.end_cursor
        return learned

    # --- documents ------------------------------------------------------------------------------

    def docs_for(self, nodes: Sequence[Node]) -> list[SearchDoc]:
        """The documents of ``nodes``; records resolved to another record have none (see ``_project``)."""
        return self._project(nodes)[0]

    def _project(self, nodes: Sequence[Node]) -> tuple[list[SearchDoc], set[str]]:
        """Documents of ``nodes`` and the ids that must leave the index.

        Entity resolution: one document per person. A record whose ``canonical`` names another
        record has no document of its own (its id is returned, to be deleted); the canonical
        record's document carries its members' values (``mapping.build_doc``'s ``also``).
        """
        hidden = {n.id for n in nodes if self._clustered(n.type) and _resolved_elsewhere(n)}
        by_type: dict[str, list[Node]] = defaultdict(list)
        for n in nodes:
            if n.id not in hidden:
                by_type[n.type].append(n)
        docs: list[SearchDoc] = []
        for type_name, group in by_type.items():
            fields = self.ontology.derived_for(type_name)
            derived = self._derive(group, fields) if fields else {}
            members = self._members(type_name, [n.id for n in group if _canonical(n) == n.id]) \
                if self._clustered(type_name) else {}
            if type_name != "Person":
                # Entity names feed the jieba dictionary so free text keeps them whole (same words at query time).
                analysis.add_words(n.props.get(self.ontology.node(type_name).title) or "" for n in group)
            for n in group:
                docs.append(build_doc(n, derived.get(n.id), also=members.get(n.id, ())))
        return docs, hidden

    # --- entity resolution ----------------------------------------------------------------------

    def _clustered(self, type_name: str) -> bool:
        return self.ontology.node(type_name).has(CANONICAL)

    def _members(self, type_name: str, canonical_ids: Sequence[str]) -> dict[str, list[Node]]:
        """Per canonical id, the other records naming it as their ``canonical``, by id (paged, one query)."""
        out: dict[str, list[Node]] = defaultdict(list)
        if not canonical_ids:
            return out
        where = Cmp(CANONICAL, "in", tuple(sorted(canonical_ids)))
        after: str | None = None
        while True:
            page = self.graph.list_nodes(type_name, where=where, sort=[SortKey("id")], first=BATCH, after=after)
            for n in page.items:
                c = _canonical(n)
                if c is not None and c != n.id:
                    out[c].append(n)
            if not page.has_next_page:
                return out
            after = page.end_cursor

    def _clusters_touched(self, nodes: Sequence[Node]) -> set[str]:
        """Canonical records whose documents a change to ``nodes`` may alter: their own cluster's and,
        for a record split off or moved, the cluster of any record it was scored against (SAME_AS)."""
        found: set[str] = set()
        records = [n for n in nodes if self._clustered(n.type)]
        for n in records:
            c = _canonical(n)
            if c is not None and c != n.id:
                found.add(c)
        try:
            self.ontology.rel(SAME_AS)
        except OntologyError:
            return found
        ids = [n.id for n in records]
        if ids:
            for direction in ("out", "in"):
                for es in self.graph.edges(ids, SAME_AS, direction).values():
                    found.update(c for c in (_canonical(e.node) for e in es) if c is not None)
        return found

    def _derive(self, nodes: Sequence[Node], fields: Iterable[DerivedField]) -> dict[str, dict[str, object]]:
        ids = [n.id for n in nodes]
        out: dict[str, dict[str, object]] = {i: {} for i in ids}
        sources = {f.source: f for f in fields}
        if any(s.startswith("area:") for s in sources):
            chains = self._area_chains(ids)
            for f in sources.values():
                if f.source.startswith("area:"):
                    level = f.source.split(":", 1)[1]
                    for i in ids:
                        out[i][f.name] = sorted(chains.get(i, {}).get(level, set()))
        member_types = [s.split(":", 1)[1] for s in sources if s.startswith("member_of:")]
        memberships: dict[str, list[tuple[str, str]]] = {}
        if member_types or "party_member" in sources:
            edges = self.graph.edges(ids, "MEMBER_OF", "out")
            memberships = {i: [(e.node.type, e.node.id) for e in es] for i, es in edges.items()}
        for f in sources.values():
            if f.source.startswith("member_of:"):
                wanted = f.source.split(":", 1)[1]
                for i in ids:
                    out[i][f.name] = sorted(oid for t, oid in memberships.get(i, []) if t == wanted)
            elif f.source == "party_member":
                for n in nodes:
                    in_org = any(t == "PartyOrganization" for t, _ in memberships.get(n.id, []))
                    out[n.id][f.name] = in_org or n.props.get("political_status") in PARTY_STATUSES
        return out

    def _area_chains(self, ids: Sequence[str]) -> dict[str, dict[str, set[str]]]:
        """For each node: area ids at every level above where it lives (one edges() call per hop)."""
        chains: dict[str, dict[str, set[str]]] = {i: defaultdict(set) for i in ids}
        lives = self.graph.edges(ids, "LIVES_IN", "out")
        frontier: dict[str, set[str]] = defaultdict(set)  # area id -> owners
        for owner, es in lives.items():
            for e in es:
                chains[owner][str(e.node.props.get("level"))].add(e.node.id)
                frontier[e.node.id].add(owner)
        for _ in range(len(AREA_LEVELS_UP)):
            if not frontier:
                break
            ups = self.graph.edges(list(frontier), "PART_OF", "out")
            nxt: dict[str, set[str]] = defaultdict(set)
            for area_id, es in ups.items():
                for e in es:
                    for owner in frontier[area_id]:
                        chains[owner][str(e.node.props.get("level"))].add(e.node.id)
                        nxt[e.node.id].add(owner)
            frontier = nxt
        return chains

    def _residents_below(self, area_ids: set[str]) -> set[str]:
        """Residents of an area (or of any area under it) whose derived place fields may have changed."""
        found: set[str] = set()
        frontier = set(area_ids)
        seen: set[str] = set()
        while frontier:
            seen |= frontier
            children: set[str] = set()
            for chunk in _chunks(sorted(frontier), 50):  # bounded answers: a community holds 10^5 residents
                for es in self.graph.edges(chunk, "LIVES_IN", "in").values():
                    found.update(e.node.id for e in es)
                for es in self.graph.edges(chunk, "PART_OF", "in").values():
                    children.update(e.node.id for e in es)
            frontier = children - seen
        return found


def _canonical(node: Node) -> str | None:
    value = node.props.get(CANONICAL)
    return str(value) if value else None


def _resolved_elsewhere(node: Node) -> bool:
    c = _canonical(node)
    return c is not None and c != node.id


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
