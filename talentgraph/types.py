"""Shared value types: what crosses the ports between ingest, graph, search and the API.

Kept deliberately small (Starlette's ``types.py`` habit): plain frozen dataclasses, no behaviour
beyond tiny helpers. Every backend returns these, so callers never see a driver's row objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Union

NodeId = str
"""Global node id, ``"<prefix>:<key>"`` where the prefix names the node type (see ``schema.ontology``)."""

Props = dict[str, Any]
Direction = Literal["out", "in"]


# --- writes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """Where a node or relationship came from; stored on every record."""

    job: str
    source: str
    row: int
    ingested_at: str  # ISO-8601 UTC
    # Which source's value a node shows when sources disagree: higher wins, ties go to the latest
    # write (graph/claims.py). Set per job with ``priority:`` in the job YAML.
    priority: int = 0


@dataclass(frozen=True)
class NodeRecord:
    """A node to upsert: ontology properties only (system properties are added by the store).

    A write sets only the properties it names: the keys of ``props`` plus ``names``. A named
    property whose value is None (or absent from ``props``) means "this source says empty": it
    withdraws this source's own earlier value but never removes what another source said.
    Properties not named are left as they are.
    """

    type: str
    id: NodeId
    props: Props
    provenance: Provenance | None = None
    names: frozenset[str] = frozenset()  # properties the source maps (an ingest job: its mapping's targets)


@dataclass(frozen=True)
class RelRecord:
    """A relationship to upsert; identified by (type, from_id, to_id)."""

    type: str
    from_id: NodeId
    to_id: NodeId
    props: Props = field(default_factory=dict)
    provenance: Provenance | None = None

    @property
    def key(self) -> str:
        # Asked for many times per record while a batch is written: computed once.
        try:
            return self.__dict__["_key"]  # type: ignore[no-any-return]
        except KeyError:
            key = self.__dict__["_key"] = rel_key(self.type, self.from_id, self.to_id)
            return key


def rel_key(rel_type: str, from_id: NodeId, to_id: NodeId) -> str:
    return f"{from_id}|{rel_type}|{to_id}"


@dataclass
class UpsertResult:
    """Outcome of one batch. ``inserted + updated + unchanged + rejected == len(batch)``."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Records not written, with the reason (e.g. a relationship whose endpoint does not exist).
    rejected: dict[str, str] = field(default_factory=dict)

    def merge(self, other: "UpsertResult") -> "UpsertResult":
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected.update(other.rejected)
        return self

    @property
    def total(self) -> int:
        return len(self.inserted) + len(self.updated) + len(self.unchanged)


# --- reads --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    id: NodeId
    type: str
    props: Props  # ontology + system properties (version, src_*, ingested_at, updated_at)


@dataclass(frozen=True)
class Edge:
    """A relationship seen from one end: ``node`` is the *other* end."""

    type: str
    from_id: NodeId
    to_id: NodeId
    props: Props
    node: Node


class Link(NamedTuple):
    """The far end of one relationship as a bulk walk reads it (``GraphStore.links``): its type, id and one
    property's value (None when not asked for, absent, or the type has no such property)."""

    type: str
    id: NodeId
    value: Any = None


@dataclass(frozen=True)
class Relationship:
    """A stored relationship by itself (the change feed reads them by key): its ends and every property."""

    type: str
    key: str
    from_id: NodeId
    to_id: NodeId
    props: Props  # ontology + system properties (version, src_*, ingested_at, updated_at)


@dataclass(frozen=True)
class Path:
    nodes: list[Node]
    edges: list[Edge]

    @property
    def hops(self) -> int:
        return len(self.edges)


@dataclass(frozen=True)
class Subgraph:
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool  # True when the node cap cut the neighbourhood short


@dataclass(frozen=True)
class Page:
    items: list[Node]
    total_count: int | None  # None unless the caller asked for it (``list_nodes(count=True)``)
    end_cursor: str | None
    has_next_page: bool


@dataclass(frozen=True)
class Change:
    """One change-log entry. ``kind`` is node or rel; for rels ``id`` is the rel key."""

    seq: int
    op: Literal["upsert", "delete"]
    kind: Literal["node", "rel"]
    type: str
    id: str
    version: int
    ts: str
    from_id: str | None = None
    to_id: str | None = None


# --- filters (engine-neutral; compiled to Cypher WHERE clauses by graph/cypher.py) ----------------

# ``is_own_id``: the (string) field holds the node's own id; never offered to API callers.
CmpOp = Literal["eq", "ne", "in", "contains", "starts_with", "gt", "gte", "lt", "lte", "is_null", "is_own_id"]


@dataclass(frozen=True)
class Cmp:
    field: str
    op: CmpOp
    value: Any = None


@dataclass(frozen=True)
class And:
    items: tuple["Filter", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Filter", ...]


@dataclass(frozen=True)
class Not:
    item: "Filter"


@dataclass(frozen=True)
class Linked:
    """The node has a ``rel_type`` relationship (``direction`` seen from it) to a node in ``ids``.

    How a role's area scope reaches inside a store query: "lives in one of these areas" is
    ``Linked("LIVES_IN", "out", area_ids)``, so counts and cursors stay right.
    """

    rel_type: str
    direction: Direction
    ids: tuple[str, ...]


Filter = Union[Cmp, And, Or, Not, Linked]


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False
