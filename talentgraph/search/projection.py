"""Graph → search projection: keeps the index in step with the graph's change log.

The index is a pure function of the graph, so it can always be rebuilt (``rebuild``). Incremental
``sync`` reads change-log entries after the index's cursor, collects the nodes whose documents may
have changed (the node itself, both ends of a changed relationship, and the residents of an area
whose place in the hierarchy changed), re-projects them in batches and advances the cursor.

Entity resolution: one document per person. A record resolved to another (its ``canonical`` names
that record) leaves the index; the canonical record's document carries its members' names, skills,
languages… (``mapping.build_doc``), so facets count the person once. Any change to a record of a
cluster re-projects the canonical record, and a split (``canonical`` cleared) brings the record back.

Derived fields (``schema.ontology.DERIVED_FIELDS``) are computed here from their declared paths
(``Linked``, ``Within``, ``Flag``) through the ``GraphStore`` port, one batched call per distinct
relationship and direction; nothing here names a relationship or a node type. A container's parents
(``Within``: an area's place in the hierarchy) are read once per sync or rebuild, not once per chunk.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import defaultdict
from collections.abc import Collection, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from talentgraph.errors import OntologyError
from talentgraph.graph.port import GraphStore
from talentgraph.memory import collector_held, release_free_memory
from talentgraph.schema.ontology import ONTOLOGY, DerivedField, Flag, Hop, Linked, Ontology, Sensitivity, Within
from talentgraph.search import analysis, docpool
from talentgraph.search.docpool import DocBuilder, DocInput, build_here
from talentgraph.search.mapping import document_properties
from talentgraph.search.port import DocEncoder, EncodedDoc, SearchDoc, SearchIndex
from talentgraph.search.writer import IndexFeeder
from talentgraph.types import Cmp, Edge, Link, Node, SortKey

log = logging.getLogger(__name__)

# Records per read of the graph (nodes, then one edges() call per derived path). LadybugDB plans a lookup of
# an id list as a hash join over the whole relationship table, so a call costs about a table scan whatever
# the list's length (1M residents, LIVES_IN: 2,000 ids 1.17 s, 20,000 ids 1.73 s); fewer, larger calls.
BATCH = 20_000
# Change-log seqs per read in a sync: a window costs about a scan of the log's seq column, so wide ones
# (1M residents' 2.7M entries on LadybugDB: 20,000-entry pages of ``changes`` 27k entries/s, 100,000-seq
# windows 107k/s).
LOG_WINDOW = 100_000
CANONICAL = "canonical"  # entity resolution: the id of the record that stands for a cluster
SAME_AS = "SAME_AS"


@dataclass(frozen=True)
class SyncReport:
    """What a sync did. ``changes_read``: the change-log entries it brought the index past (a first sync into
    an empty index covers the whole log without reading it); ``cursor``: where the index now stands."""

    changes_read: int
    indexed: int
    deleted: int
    cursor: int


class SearchProjector:
    def __init__(self, graph: GraphStore, index: SearchIndex, ontology: Ontology = ONTOLOGY, *,
                 lexicon_path: Path | None = None) -> None:
        self.graph = graph
        self.index = index
        self.ontology = ontology
        # Where the entity names the index was analysed with are kept (``analysis.save_lexicon``),
        # beside the index, so a process that only opens the index segments queries the same way.
        self.lexicon_path = lexicon_path
        self._searchable_types = {n.name for n in ontology.node_types}
        # Types whose records form clusters (entity resolution): asked once per node read by a sync.
        self._clustered_types = frozenset(n.name for n in ontology.node_types if n.has(CANONICAL))
        # What a record's document needs read: the properties documents are built from
        # (``mapping.document_properties``), whether it stands for another (``canonical``) and what derived flags
        # read. Not its claims, system columns, dates, phone or hashed id; cluster members, whose claims order a
        # golden value, are read whole (``_members``).
        self._doc_fields = sorted({name for n in ontology.node_types for name in document_properties(ontology, n.name)}
                                  | {CANONICAL}
                                  | {d.path.prop for d in ontology.derived if isinstance(d.path, Flag) and d.path.prop})
        # Containers' parents (Within paths), kept for one sync or rebuild: key (up rel, level prop).
        self._parents: dict[tuple[str, str], dict[str, tuple[tuple[str, str], ...]]] = {}
        # One per hierarchy walked (the fields of one hierarchy differ only in their level).
        self._withins = tuple(dict.fromkeys(replace(d.path, level="") for d in ontology.derived
                                            if isinstance(d.path, Within)))
        self._containments = {w.up for w in self._withins}
        self._container_prefixes: dict[str, set[str]] = defaultdict(set)
        for w in self._withins:
            self._container_prefixes[w.up].add(ontology.node(w.hop.to).id_prefix)
        self._builder: DocBuilder | None = None  # a document worker started ahead of the next sync
        self._builder_lock = threading.Lock()  # a server may sync on several threads: one of them takes it

    def start_builder(self) -> None:
        """Start the next sync's document worker now, while this process is small (``DocBuilder.start``): an
        ingest calls it before its jobs. ``stop_builder`` ends it if no sync takes it."""
        with self._builder_lock:
            if self._builder is None and DocBuilder.available():
                builder = DocBuilder(self.index.encoder())
                builder.start()
                self._builder = builder

    def stop_builder(self) -> None:
        with self._builder_lock:
            builder, self._builder = self._builder, None
        if builder is not None:
            builder.close()

    # --- incremental ----------------------------------------------------------------------------

    def sync(self, *, page: int = LOG_WINDOW, progress: bool = False) -> SyncReport:
        """Apply the change log after the index's cursor; ``progress``: bars on stderr (the CLI).

        An index built for another search mapping (the ontology's searchable fields changed in an upgrade)
        cannot take the changes: it is rebuilt from the graph instead, which also brings it up to date."""
        if self.index.mapping_stale():
            log.warning("The search index was built for an older search mapping: rebuilding it from the graph.")
            indexed = self.rebuild(progress=progress)
            return SyncReport(changes_read=0, indexed=indexed, deleted=0, cursor=self.index.get_cursor())
        self._parents = {}
        try:
            return self._sync(page, progress)
        finally:
            self._parents = {}

    def _sync(self, page: int, progress: bool) -> SyncReport:
        cursor = self.index.get_cursor()
        start = cursor
        dirty: set[str] = set()
        deleted: set[str] = set()
        # Nodes first written in this stretch of the log: none was scored against another record
        # before, unless resolution wrote SAME_AS links in the same stretch (``saw_links``).
        fresh: set[str] = set()
        saw_links = False
        read = 0
        # Up to the head as it is now (every entry up to it is readable: ``GraphStore.last_seq``); what
        # commits meanwhile is the next sync's. Bounded windows, not ``changes(after, limit)``: on LadybugDB
        # (no ordered index on seq) each page of that is a scan of the whole log plus a sort.
        head = self.graph.last_seq()
        if cursor == 0 < head and self.index.count() == 0:
            return self._first_sync(head, progress)
        reading = _bar("search sync: change log", head - cursor if progress else None, " changes", progress)
        while cursor < head:
            upto = min(head, cursor + page)
            changes = self.graph.change_window(cursor, upto)
            cursor = upto
            if not changes:
                continue
            read += len(changes)
            reading.update(len(changes))
            area_moves: set[str] = set()
            new_areas: set[str] = set()
            for c in changes:
                if c.kind == "node":
                    if c.op == "delete":
                        deleted.add(c.id)
                        dirty.discard(c.id)
                        fresh.discard(c.id)
                    else:
                        dirty.add(c.id)
                        deleted.discard(c.id)
                        if c.version == 1:
                            new_areas.add(c.id)
                            fresh.add(c.id)
                else:
                    saw_links = saw_links or c.type == SAME_AS
                    for end in (c.from_id, c.to_id):
                        if end:
                            dirty.add(end)
                    if c.from_id and c.type in self._containments and \
                            c.from_id.partition(":")[0] in self._container_prefixes[c.type]:
                        area_moves.add(c.from_id)
            # A new area's residents link to it after it exists, so their own LIVES_IN changes are
            # already in this stretch of the log: only areas that existed before can move residents.
            dirty |= self._residents_below(area_moves - new_areas)
        reading.close()
        if read == 0:
            return SyncReport(0, 0, 0, start)
        if saw_links:
            fresh = set()
        # Entity names are learned before the documents that may contain them are cut: the types whose
        # names teach the segmenter come first (ids sort by type prefix, "per:" before "prj:").
        pending = sorted(dirty - deleted, key=self._learning_first)
        whole = self._projected_whole(pending)
        done: set[str] = set()
        projecting = _bar("search sync: documents", len(pending), " docs", progress)

        def node_chunks() -> Iterator[tuple[list[Node], int]]:
            nonlocal pending
            while pending:
                # Entity resolution: a change to one record of a cluster re-projects the record that
                # stands for it (its document carries the members' values), in a further round.
                touched: set[str] = set()
                for chunk in _chunks(pending, BATCH):
                    nodes = self.graph.get_nodes(chunk, fields=self._doc_fields)
                    deleted.update(i for i in chunk if i not in nodes)  # deleted after the change we read
                    done.update(chunk)
                    touched |= self._clusters_touched([n for n in nodes.values() if n.type not in whole], fresh)
                    yield list(nodes.values()), len(chunk)
                pending = sorted(touched - done - deleted)
                if pending:  # clusters re-projected in a further round
                    projecting.total = (projecting.total or 0) + len(pending)

        indexed, hidden = self._write(node_chunks(), len(pending), projecting)
        deleted |= hidden
        projecting.set_postfix_str("committing")
        if deleted:
            self.index.delete(sorted(deleted))
        self._save_lexicon()
        self.index.set_cursor(cursor)
        self.index.commit()
        projecting.close()
        return SyncReport(read, indexed, len(deleted), cursor)

    def _first_sync(self, head: int, progress: bool) -> SyncReport:
        """Every node into an empty index, read one table at a time (``scan_nodes``) rather than through the
        change log and then node by node: the log holds two to three entries per node (each write and link),
        and on Neo4j reading them, then the nodes by id, held the sync's main thread most (py-spy, 50k).

        What the log would have said is known without it: every node is new, none was deleted (a node deleted
        before ``head`` is not in its table), and every type is projected whole, so no cluster needs looking up.
        Nodes written while the tables are read are the next sync's (its log starts after ``head``). Every entity
        name is learned before any document is cut, as a rebuild does."""
        self._learn_from_graph()
        types = self._types_to_scan()
        total = sum(self.graph.count_nodes(t) for t in types)
        projecting = _bar("search sync: documents", total, " docs", progress)
        # The index is empty as committed, and each node is projected once: its documents are all new (what a failed
        # sync left uncommitted is dropped first).
        self.index.discard_uncommitted()
        indexed, _hidden = self._write(self._scanned(types), total, projecting, new=True)  # hidden: never indexed
        projecting.set_postfix_str("committing")
        self._save_lexicon()
        self.index.set_cursor(head)
        self.index.commit()
        projecting.close()
        return SyncReport(changes_read=head, indexed=indexed, deleted=0, cursor=head)

    def _types_to_scan(self) -> list[str]:
        """Every node type, those whose names teach the segmenter first."""
        return sorted((t.name for t in self.ontology.node_types), key=lambda name: not self._learns_names(name))

    def _scanned(self, types: Sequence[str]) -> Iterator[tuple[list[Node], int]]:
        """Every node of ``types`` in chunks of ``BATCH``, read one table at a time with only the properties
        documents are built from (``scan_nodes``), each chunk with its node count."""
        for type_name in types:
            after: str | None = None
            while True:
                page = self.graph.scan_nodes(type_name, after, BATCH, fields=self._doc_fields)
                if page.items:
                    yield [n for _, n in page.items], len(page.items)
                if page.next is None:
                    break
                after = page.next

    def _write(self, chunks: Iterator[tuple[list[Node], int]], expected: int, bar: Any, *,
               new: bool = False) -> tuple[int, set[str]]:
        """The documents of each chunk of nodes (with how many records it stands for, for ``bar``) written to the
        index by a thread (``writer``) while the next are built (``_built``); how many were written, and the ids of
        records that must not have one (``_inputs``)."""
        feeder = IndexFeeder(self.index, new=new)
        indexed = 0
        hidden: set[str] = set()
        built = self._built(chunks, expected, self.index.encoder(), hidden)
        try:
            for docs, count in built:
                indexed += feeder.put(docs)
                bar.update(count)
            indexed += feeder.drain()
        finally:
            built.close()  # after an error: the document worker ends here, not when the generator is collected
            feeder.close()
        return indexed, hidden

    def _built(self, chunks: Iterator[tuple[list[Node], int]], expected: int, encode: DocEncoder,
               hidden: set[str]) -> Generator[tuple[Sequence[SearchDoc] | Sequence[EncodedDoc], int], None, None]:
        """The documents of each chunk of nodes as they are built, with how many records they stand for; the ids of
        records that must not have a document are added to ``hidden``.

        A worker process builds the documents, encoded by ``encode``, while the next chunk is read (``docpool``: in
        pieces; when the worker has ``AHEAD_DOCS`` waiting, this process builds the next piece itself, and at the
        end it takes back what the worker has not started)."""
        with self._builder_lock:
            builder, self._builder = self._builder, None
        if builder is not None and (expected < docpool.MIN_DOCS or builder.form != encode.form):
            builder.close()  # started for another encoding (a rebuild's), or too few documents to repay it
            builder = None
        if builder is None and expected >= docpool.MIN_DOCS and DocBuilder.available():
            builder = DocBuilder(encode)
        try:
            while True:
                # A chunk's nodes, inputs and documents are many acyclic objects that live until it is handed over:
                # the cyclic collector is held while it is read and built (``collector_held``).
                with collector_held():
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    nodes, n = chunk
                    inputs, gone = self._inputs(nodes)
                    hidden |= gone
                    if builder is None:
                        yield build_here(inputs), n
                    else:
                        for piece, k in docpool.pieces(inputs, n, docpool.PIECE):
                            if builder.queued() < docpool.AHEAD_DOCS:
                                builder.submit(piece, k)
                            else:
                                yield build_here(piece), k
                            yield from builder.finished()
                    del chunk, nodes, inputs
                release_free_memory()  # the chunk's nodes and query results (talentgraph/memory.py)
            if builder is not None:
                yield from builder.drain()
        finally:
            if builder is not None:
                builder.close()

    # --- full rebuild ---------------------------------------------------------------------------

    def rebuild(self, *, progress: bool = False) -> int:
        """Build a fresh index from the whole graph and swap it in (search keeps working meanwhile).

        ``progress``: a bar on stderr (the CLI); silent otherwise.
        """
        cursor = self.graph.last_seq()
        # Every entity name first: a person's free text is segmented with the venue and project
        # names whatever order the types are read in.
        self._learn_from_graph()
        self._save_lexicon()
        types = self._types_to_scan()
        total = sum(self.graph.count_nodes(t) for t in types)
        bar = _bar("search rebuild", total, " nodes", progress)
        # Built as the first sync builds them (tables scanned, a document worker beside this process), encoded for
        # the index the rebuild makes, which may differ from the live one (an upgrade's mapping, an older form).
        self._parents = {}
        built = self._built(self._scanned(types), total, self.index.rebuild_encoder(), set())

        def docs() -> Iterator[SearchDoc | EncodedDoc]:
            for page, count in built:
                yield from page
                bar.update(count)
            bar.set_postfix_str("committing")

        try:
            return self.index.rebuild(docs(), cursor)
        finally:
            built.close()
            self._parents = {}
            bar.close()

    def all_docs(self) -> Iterator[SearchDoc]:
        """The documents of the whole graph, built in this process from the tables a rebuild scans (records
        resolved to another record have none)."""
        self._parents = {}
        try:
            for nodes, _count in self._scanned(self._types_to_scan()):
                yield from self.docs_for(nodes)
        finally:
            self._parents = {}

    def learn_entity_names(self) -> int:
        """Teach this process's segmenter the entity names the index was analysed with.

        Documents were segmented with these words when they were indexed (see ``_inputs``); a
        process that only queries must know them too, or "联洋小学" in a query would be cut
        differently from the same words in a document. Read from the lexicon file beside the index
        when there is one (the same words with the same weights, whatever order they were learned
        in), else from the graph's names (all but people's).
        """
        if self.lexicon_path is not None and self.lexicon_path.exists():
            return analysis.load_lexicon(self.lexicon_path)
        learned = self._learn_from_graph()
        if learned:
            self._save_lexicon()
        return learned

    def _learn_from_graph(self) -> int:
        learned = 0
        for node_type in self.ontology.node_types:
            if not self._learns_names(node_type.name):
                continue
            after: str | None = None
            while True:
                page = self.graph.list_nodes(node_type.name, first=BATCH, after=after)
                learned += analysis.add_words(str(n.props.get(node_type.title) or "") for n in page.items)
                if not page.has_next_page:
                    break
                after = page.end_cursor
        return learned

    def _save_lexicon(self) -> None:
        path = self.lexicon_path
        if path is None:
            return
        words = analysis.lexicon()
        if analysis.read_lexicon(path) != words:
            path.parent.mkdir(parents=True, exist_ok=True)
            analysis.save_lexicon(path, words)

    # --- documents ------------------------------------------------------------------------------

    def docs_for(self, nodes: Sequence[Node]) -> list[SearchDoc]:
        """The documents of ``nodes``; records resolved to another record have none (see ``_inputs``)."""
        return build_here(self._inputs(nodes)[0])

    def _learning_first(self, node_id: str) -> tuple[bool, str]:
        try:
            learns = self._learns_names(self.ontology.type_of_id(node_id).name)
        except OntologyError:
            learns = False
        return (not learns, node_id)

    def _inputs(self, nodes: Sequence[Node]) -> tuple[list[DocInput], set[str]]:
        """What the documents of ``nodes`` are built from, and the ids that must leave the index.

        Entity resolution: one document per person. A record whose ``canonical`` names another
        record has no document of its own (its id is returned, to be deleted); the canonical
        record's document carries its members' values (``mapping.build_doc``'s ``also``).
        """
        hidden = {n.id for n in nodes if self._clustered(n.type) and _resolved_elsewhere(n)}
        by_type: dict[str, list[Node]] = defaultdict(list)
        for n in nodes:
            if n.id not in hidden:
                by_type[n.type].append(n)
        for type_name, group in by_type.items():
            if self._learns_names(type_name):
                # Entity names feed the jieba dictionary so free text keeps them whole (same words at
                # query time: see ``learn_entity_names``), before any document of the batch is cut.
                title = self.ontology.node(type_name).title
                analysis.add_words(str(n.props.get(title) or "") for n in group)
        inputs: list[DocInput] = []
        for type_name, group in by_type.items():
            fields = self.ontology.derived_for(type_name)
            derived = self._derive(group, fields) if fields else {}
            members = self._members(type_name, [n.id for n in group if _canonical(n) == n.id]) \
                if self._clustered(type_name) else {}
            inputs.extend((n, derived.get(n.id), members.get(n.id, ())) for n in group)
        return inputs, hidden

    def _learns_names(self, type_name: str) -> bool:
        """Whether the type's names teach the segmenter words: not people's (a personal name is no word)."""
        nt = self.ontology.node(type_name)
        return nt.prop(nt.title).sensitivity is not Sensitivity.NAME

    # --- entity resolution ----------------------------------------------------------------------

    def _clustered(self, type_name: str) -> bool:
        return type_name in self._clustered_types

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

    def _projected_whole(self, pending: Sequence[str]) -> set[str]:
        """The clustered types every record of which is among ``pending``: a record of theirs can touch no cluster
        whose record is not projected in this sync anyway (the first sync of a resolved graph), so the lookups
        ``_clusters_touched`` makes for them are skipped. A record written after the count is the next sync's."""
        counts: dict[str, int] = defaultdict(int)
        for node_id in pending:
            try:
                counts[self.ontology.type_of_id(node_id).name] += 1
            except OntologyError:
                continue
        return {t for t, n in counts.items() if self._clustered(t) and n >= self.graph.count_nodes(t)}

    def _clusters_touched(self, nodes: Sequence[Node], fresh: Collection[str] = ()) -> set[str]:
        """Canonical records whose documents a change to ``nodes`` may alter: their own cluster's and,
        for a record split off or moved, the cluster of any record it was scored against (SAME_AS).
        ``fresh``: records first written since the last sync, which no record was scored against."""
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
        ids = [n.id for n in records if n.id not in fresh]
        if ids:
            for direction in ("out", "in"):
                for es in self.graph.edges(ids, SAME_AS, direction, far_props=[CANONICAL], rel_props=()).values():
                    found.update(c for c in (_canonical(e.node) for e in es) if c is not None)
        return found

    def _derive(self, nodes: Sequence[Node], fields: Iterable[DerivedField]) -> dict[str, dict[str, object]]:
        """Values of ``fields`` for ``nodes``, computed from the fields' declared paths."""
        ids = [n.id for n in nodes]
        out: dict[str, dict[str, object]] = {i: {} for i in ids}
        fields = list(fields)
        # One links() call per relationship and direction (and level property a place field reads on it), shared
        # by every field that follows it: far ends as plain (type, id, value) tuples.
        wanted: dict[tuple[str, str], set[str]] = {(h.rel, h.direction): set() for f in fields for h in f.hops}
        for f in fields:
            if isinstance(f.path, Within):
                wanted[(f.path.hop.rel, f.path.hop.direction)].add(f.path.level_prop)
        found: dict[tuple[str, str, str | None], dict[str, list[Link]]] = {}
        for (rel, direction), props in sorted(wanted.items()):
            asked: list[str | None] = [*sorted(props)] or [None]
            for prop in asked:
                found[(rel, direction, prop)] = self.graph.links(ids, rel, "out" if direction == "out" else "in",
                                                                 far_prop=prop)
        by_step = {key[:2]: links for key, links in found.items()}

        def linked(i: str, hop: Hop) -> list[str]:
            return [link.id for link in by_step[(hop.rel, hop.direction)].get(i, ()) if link.type == hop.to]

        chains: dict[Within, dict[str, dict[str, set[str]]]] = {}
        for f in fields:
            p = f.path
            if isinstance(p, Linked):
                for i in ids:
                    out[i][f.name] = sorted(linked(i, p.hop))
            elif isinstance(p, Flag):
                for n in nodes:
                    out[n.id][f.name] = any(linked(n.id, h) for h in p.linked) or (
                        p.prop is not None and n.props.get(p.prop) in p.values)
            elif isinstance(p, Within):
                key = replace(p, level="")
                if key not in chains:
                    chains[key] = self._chains(ids, p, found[(p.hop.rel, p.hop.direction, p.level_prop)])
                for i in ids:
                    out[i][f.name] = sorted(chains[key].get(i, {}).get(p.level, set()))
        return out

    def _chains(self, ids: Sequence[str], path: Within, links: dict[str, list[Link]]) -> dict[str, dict[str, set[str]]]:
        """For each node: container ids per level, from where ``path.hop`` leads up the hierarchy."""
        chains: dict[str, dict[str, set[str]]] = {i: defaultdict(set) for i in ids}
        parents = self._parents.setdefault((path.up, path.level_prop), {})
        starts: dict[str, str] = {}
        for found in links.values():
            for link in found:
                if link.type == path.hop.to:
                    starts[link.id] = str(link.value)
        self._read_parents(list(starts), path, parents)
        # Every node below one container gets the same chain: worked out once per container.
        above: dict[str, list[tuple[str, str]]] = {}
        for start in starts:
            up: list[tuple[str, str]] = []
            frontier = [start]
            for _ in range(len(path.levels)):
                step = [p for c in frontier for p in parents.get(c, ())]
                up.extend(step)
                frontier = [pid for pid, _ in step]
            above[start] = up
        for owner, found in links.items():
            chain = chains[owner]
            for link in found:
                if link.type != path.hop.to:
                    continue
                chain[starts[link.id]].add(link.id)
                for pid, plevel in above[link.id]:
                    chain[plevel].add(pid)
        return chains

    def _read_parents(self, start: list[str], path: Within, parents: dict[str, tuple[tuple[str, str], ...]]) -> None:
        """Fill ``parents`` (container id → its parents' ids and levels) for ``start`` and everything
        above, reading only containers not read before in this sync or rebuild (one call per level)."""
        frontier = [c for c in start if c not in parents]
        for _ in range(len(path.levels)):
            if not frontier:
                return
            ups = self.graph.links(frontier, path.up, "out", far_prop=path.level_prop)
            nxt: list[str] = []
            for c in frontier:
                ps = tuple((link.id, str(link.value)) for link in ups.get(c, ()) if link.type == path.hop.to)
                parents[c] = ps
                nxt.extend(pid for pid, _ in ps if pid not in parents)
            frontier = list(dict.fromkeys(nxt))

    def _residents_below(self, container_ids: set[str]) -> set[str]:
        """Nodes linked (by a ``Within`` path) to a container, or to any container under it, whose
        derived place fields may have changed."""
        found: set[str] = set()
        for path in self._withins:
            back: Literal["out", "in"] = "in" if path.hop.direction == "out" else "out"
            frontier = set(container_ids)
            seen: set[str] = set()
            while frontier:
                seen |= frontier
                children: set[str] = set()
                for chunk in _chunks(sorted(frontier), 50):  # bounded answers: a community holds 10^5 residents
                    for es in self.graph.edges(chunk, path.hop.rel, back, far_props=(), rel_props=()).values():
                        found.update(e.node.id for e in es)
                    for es in self.graph.edges(chunk, path.up, "in", far_props=(), rel_props=()).values():
                        children.update(e.node.id for e in es if e.node.type == path.hop.to)
                frontier = children - seen
        return found


class _Silent:
    """Stands in for a progress bar where nobody watches (tests, the server)."""

    total: int | None = None

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(desc: str, total: int | None, unit: str, enabled: bool) -> Any:
    if not enabled:
        return _Silent()
    from tqdm import tqdm

    return tqdm(desc=desc, total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=True)


def _canonical(node: Node) -> str | None:
    value = node.props.get(CANONICAL)
    return str(value) if value else None


def _resolved_elsewhere(node: Node) -> bool:
    c = _canonical(node)
    return c is not None and c != node.id


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
