"""The ``GraphStore`` port: everything ingest, the search projection and the API ask of a graph.

Adapters: ``graph/ladybug/`` (embedded default) and ``graph/neo4j/``. Both build their query text
with the pure functions in ``graph/cypher.py`` through a ``Dialect``; what differs between engines
is recorded in ``GraphCapabilities``, not in ``if backend == ...`` branches.

Contract every adapter keeps (the contract suite in ``tests/integration`` checks it):
- upserts are idempotent and keyed by id (nodes) or (type, from, to) (relationships);
- a node upsert writes only the properties its record names, each as a claim of the record's
  source (``graph/claims.py``): another source's values are kept, the node shows per property the
  claim of the highest-priority source (ties: the latest write), and ``prov`` keeps every claim;
  a record whose claims are all as stored (a re-run of the same source) is reported ``unchanged``
  and writes nothing, not even a change-log entry. A relationship is written whole; one whose
  properties hash the same as the stored ones is ``unchanged`` likewise;
- every insert/update/delete appends one change-log entry with a strictly increasing ``seq`` in
  the same transaction as the data;
- ``upsert_batch`` writes nodes, relationships and their change-log entries in one transaction:
  a failure anywhere leaves none of them (ingest writes each batch of rows this way);
- reads return ``types.Node``/``types.Edge``; batched reads take many ids and make one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from talentgraph.types import (
    Change,
    Direction,
    Edge,
    Filter,
    Link,
    Node,
    NodeRecord,
    Page,
    Path,
    Relationship,
    RelRecord,
    SortKey,
    Subgraph,
    UpsertResult,
)

if TYPE_CHECKING:
    from talentgraph.graph.walk import Walk, WalkResult

MAX_PATH_HOPS = 6


@dataclass(frozen=True)
class GraphCapabilities:
    name: str  # "ladybug" | "neo4j"
    bulk_copy: bool  # can load new rows with COPY FROM an Arrow table
    single_writer_process: bool  # only one read-write process per database (LadybugDB)
    # The planner binds an unlabelled far end of a multi-pair relationship table to every node table it
    # could be (LadybugDB: 10x slower for one parent), so ``edges`` asks once per far-end type.
    edges_per_far_type: bool = False
    # A root field's relationship selections are read in one ``walk`` statement (both engines: with
    # only the selected columns and the root carried, not bound again, LadybugDB 0.22 runs the 2-hop
    # walk at 50k in ~6 ms against ~20 ms for whole nodes; False: level by level, one ``edges`` each).
    walks: bool = True
    # A page's ``count`` is counted in the page's statement. LadybugDB 0.22 runs a count before the
    # page 2x slower than the two statements (measured at 50k: 120 ms against 57 ms): it counts apart.
    count_in_page: bool = True


@dataclass(frozen=True)
class FacetCount:
    value: object
    count: int


@dataclass(frozen=True)
class SourceRecords:
    """What one source (an ingest job) owns in the graph: what a snapshot of it may end."""

    nodes: dict[str, list[str]]  # node type → ids it has a claim on (or wrote last, claimed by nobody)
    rels: dict[str, list[str]]  # relationship type → keys it wrote last


@dataclass(frozen=True)
class NodeScan:
    """One page of a node table read in the adapter's scan order (``GraphStore.scan_nodes``)."""

    items: list[tuple[str, Node]]  # (position, node): pass a position as ``after`` to continue after it
    next: str | None  # the position to continue after; None when the table has nothing further


@dataclass(frozen=True)
class RelScan:
    """One page of a relationship table read by start node (``GraphStore.scan_relationships``)."""

    items: list[tuple[str, Relationship]]  # (position of the start node, relationship), by position then key
    next: str | None  # start nodes up to this position were read whole; None when nothing further


@dataclass
class Withdrawal:
    """What ``withdraw`` did, each list in the order it was logged."""

    rels: list[str]  # the source's relationships deleted (keys)
    updated: list[str]  # nodes kept: other sources still claim properties; the source's claims withdrawn
    deleted: list[str]  # nodes nobody claims any more: deleted (DETACH)
    detached: list[str]  # other relationships deleted with those nodes (keys)


class GraphStore(Protocol):
    capabilities: GraphCapabilities

    def ensure_schema(self) -> None:
        """Create tables/constraints/indexes derived from the ontology; idempotent."""

    # --- writes ---------------------------------------------------------------------------------
    def upsert_nodes(self, records: Sequence[NodeRecord]) -> UpsertResult: ...
    def upsert_relationships(self, records: Sequence[RelRecord]) -> UpsertResult: ...
    def upsert_batch(
        self, nodes: Sequence[NodeRecord], rels: Sequence[RelRecord]
    ) -> tuple[UpsertResult, UpsertResult]:
        """(node result, relationship result) of one transaction writing both and their change log.

        Relationships may point at nodes of the same batch. All or nothing: if any statement fails,
        no node, relationship or change-log entry of the batch is stored. One node id from several
        sources (provenance jobs) is written once per source, in order, each keeping its claims; from
        one source twice, the last record wins.
        """
    def delete_nodes(self, ids: Sequence[str]) -> int:
        """Delete nodes and their relationships (a tombstone change per node and relationship)."""
    def delete_relationships(self, keys: Sequence[str]) -> int: ...
    def source_records(self, job: str, node_types: Sequence[str], rel_types: Sequence[str]) -> SourceRecords:
        """The nodes of ``node_types`` source ``job`` claims and the relationships of ``rel_types`` it
        wrote last (``src_job``): what it owns, so what a full snapshot of it may end."""
    def withdraw(self, job: str, node_ids: Sequence[str], rel_keys: Sequence[str]) -> Withdrawal:
        """End what source ``job`` said about these records, in one transaction with its change log.

        Its relationships among ``rel_keys`` are deleted (a key another source wrote since is kept);
        its claims on ``node_ids`` are withdrawn, each property showing the next claim (an upsert
        change with a new version); a node left with no claim of any source is deleted with its
        relationships (tombstones). Records it does not own are untouched, so a re-run does nothing.
        """

    # --- reads ----------------------------------------------------------------------------------
    def get_nodes(self, ids: Sequence[str], *, fields: Sequence[str] | None = None) -> dict[str, Node]:
        """Batched get; ids may span types; missing ids are absent from the result. ``fields``: nodes carry
        their id and only these properties (ontology or system), not every column."""
    def list_nodes(
        self,
        type_name: str,
        *,
        where: Filter | None = None,
        sort: Sequence[SortKey] = (),
        first: int = 20,
        after: str | None = None,
        count: bool = False,
    ) -> Page:
        """Keyset pagination: cursors encode the sort values + id, never an offset.

        One statement sorts and cuts the page before it reads the page's nodes whole (LadybugDB:
        ids and sort keys first, then a lookup by id). ``count``: also count every match (in the same
        statement; one more for a page past the end) into ``Page.total_count``, which is None otherwise.
        """
    def count_nodes(self, type_name: str, where: Filter | None = None) -> int: ...
    def edges(
        self,
        ids: Sequence[str],
        rel_type: str,
        direction: Direction,
        *,
        where: Filter | None = None,  # on the other node
        edge_where: Filter | None = None,  # on the relationship's properties
        limit_per_node: int | None = None,
        other_types: Sequence[str] | None = None,  # only these far-end types (a role's view); None: any
        far_props: Sequence[str] | None = None,  # the far node with its id and only these properties
        rel_props: Sequence[str] | None = None,  # the relationship with only these properties
    ) -> dict[str, list[Edge]]:
        """For each id, its relationships of one type in one direction, in one query (DataLoader).

        ``far_props``: far nodes carry only these properties (the search projection's walks need an
        id or a level, not whole nodes); None: every property. ``rel_props`` likewise for the
        relationships (their ends come from the key, always read)."""
    def links(self, ids: Sequence[str], rel_type: str, direction: Direction, *,
              far_prop: str | None = None) -> dict[str, list[Link]]:
        """For each id, the far ends of its relationships of one type in one direction: type, id and the value
        of ``far_prop`` (None where not asked or the type has none), in no order — a bulk walk's read (the search
        projection's derived fields), without the properties, ordering and limits of ``edges``."""
    def walk(self, walk: "Walk") -> "WalkResult":
        """A root node (by id) or page and nested relationship steps from it, in one statement.

        Per step and parent, the edges ``edges`` returns for that parent with the step's arguments
        (``graph/walk.py``); the root page is the one ``list_nodes`` returns (without a count).
        """
    def facet_counts(self, type_name: str, field: str, where: Filter | None = None) -> list[FacetCount]:
        """Counts grouped by a facet property; list properties count each element."""
    def grouped_counts(self, type_name: str, rel_type: str, direction: Direction, group_ids: Sequence[str], *,
                       field: str | None = None, where: Filter | None = None) -> dict[str, list[FacetCount]]:
        """Per id of ``group_ids``: how many ``type_name`` nodes matching ``where`` have a ``rel_type``
        relationship (``direction`` seen from them) to it, by value of ``field`` (list properties count
        each element; None: one count with value None). Counted in the store (area statistics);
        ids nothing is linked to are absent."""
    def shortest_path(self, from_id: str, to_id: str, max_hops: int = MAX_PATH_HOPS, *,
                      rel_types: Sequence[str] | None = None,
                      node_types: Sequence[str] | None = None) -> Path | None:
        """One shortest undirected path; ``rel_types``/``node_types`` restrict it (a role's view)."""
    def neighbourhood(self, node_id: str, depth: int, limit: int, *,
                      rel_types: Sequence[str] | None = None,
                      node_types: Sequence[str] | None = None) -> Subgraph:
        """Breadth first; only ``rel_types`` to ``node_types`` when given (a role's view)."""

    # --- change log -----------------------------------------------------------------------------
    def changes(self, after_seq: int = 0, limit: int = 1000, *,
                types: Sequence[str] | None = None) -> list[Change]:
        """Change-log entries after ``after_seq`` in seq order; ``types``: only these node/relationship types."""
    def change_window(self, after_seq: int, upto_seq: int, *,
                      types: Sequence[str] | None = None) -> list[Change]:
        """Every change-log entry with ``after_seq < seq <= upto_seq`` in seq order (no row limit: the caller
        sizes the window). A bounded range reads a fraction of what ``changes`` (``ORDER BY seq LIMIT``) does
        on LadybugDB, which has no ordered index on seq."""
    def last_seq(self) -> int:
        """The log's head: every entry up to it is committed and readable, so a reader that reads up to it and
        takes it as its position never steps over an entry that becomes visible later."""
    def scan_nodes(self, type_name: str, after: str | None, limit: int, *,
                   fields: Sequence[str] | None = None) -> NodeScan:
        """Up to ``limit`` nodes of one type after position ``after`` (None: from the start), in the adapter's
        scan order: a position per stored node that stays the node's while it exists (LadybugDB: its internal
        offset; Neo4j: its id). A node that exists throughout a scan is returned once; one written or deleted
        meanwhile may or may not be (the change feed finds those in the log). ``fields`` as in ``get_nodes``;
        with ``fields`` a node's props hold those of them that are not null, in the order asked (a bulk
        reader asks in the order it shows them and need not copy the props again)."""
    def scan_relationships(self, rel_type: str, from_type: str, after: str | None, limit: int, *,
                           after_key: str | None = None, fields: Sequence[str] | None = None) -> RelScan:
        """The ``rel_type`` relationships leaving ``from_type`` nodes, by start node in ``scan_nodes`` order and
        by key within one; about ``limit`` start nodes' worth (all of one start node's together). Continues
        after start position ``after``, or with ``after_key`` inside it: after that key of that start node.
        ``fields``: the props to read (None: every stored one); a relationship's props then hold those of them
        that are not null, in the order asked, as ``scan_nodes`` does."""
    def get_relationships(self, keys: Sequence[str]) -> dict[str, Relationship]:
        """Stored relationships by key (keys may span types); missing keys are absent from the result."""
    def prune_changes(self, before_ts: str, up_to_seq: int) -> int:
        """Drop change-log entries older than ``before_ts`` with seq ≤ ``up_to_seq`` that a reader no longer
        needs to reach the current state: delete tombstones and upserts a later entry of the same record
        supersedes. The newest entry is always kept (it holds the log's position). Returns how many went."""
    def settle(self) -> None:
        """A hint that the caller will not use the store for a while (an ingest between jobs, or between the
        batches of one job, building the next rows): housekeeping the last writes left (LadybugDB: checkpointing
        its write-ahead log, which the next write transaction would otherwise start with) may run now, in the
        background.
        Returns at once; reads and writes meanwhile wait for it or go on as the engine allows."""

    def close(self) -> None: ...
