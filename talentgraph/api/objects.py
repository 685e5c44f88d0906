"""The GraphQL types that do not depend on the ontology: the Node interface, paging, search, paths.

Resolvers receive the port's values (``types.Node``, ``types.Edge``) as roots; the interface's
``resolve_type`` reads ``Node.type``, so no wrapper object is built per node.
"""

from __future__ import annotations

import json
from enum import Enum
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from talentgraph.access.policy import RoleView
from talentgraph.api.execution import info_free, plain_getter
from talentgraph.errors import OntologyError
from talentgraph.schema.ontology import Ontology
from talentgraph.types import Edge, Node

if TYPE_CHECKING:
    from talentgraph.api.context import ApiContext


def title_of(node: Node, ontology: Ontology) -> str | None:
    try:
        value = node.props.get(ontology.node(node.type).title)
    except OntologyError:
        return None
    return None if value is None else str(value)


@plain_getter(attrgetter("id"))
def _node_id(root: Node) -> strawberry.ID:
    return strawberry.ID(root.id)


@plain_getter(attrgetter("type"))
def _node_type(root: Node) -> str:
    return root.type


@info_free
def _resolve_node_type(obj: Any, info: Any, abstract_type: Any) -> str:
    # Object type names are the ontology's type names, so the port's Node.type is the answer.
    return cast(Node, obj).type


def _node_title(root: Node, info: Info) -> str | None:
    ctx: ApiContext = info.context
    return title_of(root, ctx.ontology)


@strawberry.interface(name="Node", description="Any node of the graph; use `... on Person { … }` for its fields.")
class NodeInterface:
    id: strawberry.ID = strawberry.field(resolver=_node_id, description="Global id, '<prefix>:<key>'.")
    type: str = strawberry.field(resolver=_node_type, description="Node type name (Person, Enterprise, …).")
    title: str | None = strawberry.field(resolver=_node_title, description="Display name (the type's title property).")

    resolve_type = staticmethod(_resolve_node_type)


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="One source's value of one property: the job, file and row that said it, and when.")
class Provenance:
    property: str = strawberry.field(description="The property's GraphQL field name (phone, birthYear, …).")
    value: JSON | None = strawberry.field(description="The value this source gives.")
    job: str | None
    source: str | None = strawberry.field(description="The source file.")
    row: int | None = strawberry.field(description="Row in the source file (1-based, after the header).")
    ingested_at: str | None = strawberry.field(description="When the job ran (ISO-8601 UTC).")
    priority: int = strawberry.field(description="The job's priority: the highest is shown, ties to the latest.")
    shown: bool = strawberry.field(description="The node shows this source's value.")
    record: strawberry.ID | None = strawberry.field(
        default=None, description="The record this source wrote: the node itself, or on a golden record (entity "
        "resolution) the member of the cluster the value comes from.")


@strawberry.type(description="A property whose sources disagree: every value with its source, and which is shown.")
class Conflict:
    property: str = strawberry.field(description="The property's GraphQL field name.")
    value: JSON | None = strawberry.field(description="The value the node shows.")
    values: list[Provenance] = strawberry.field(description="Every source's value, the shown one first.")


@strawberry.type(description="One scored SAME_AS pair (entity resolution): the evidence that two records are "
                             "one person.")
class SameAsLink:
    from_id: strawberry.ID
    to_id: strawberry.ID
    probability: float | None = strawberry.field(description="Match probability of the pair (Fellegi-Sunter).")
    status: str | None = strawberry.field(description="matched (by the model), accepted (by a steward) or pending.")
    cluster: str | None = strawberry.field(description="The canonical record's id (empty for a pending pair).")
    weights: JSON | None = strawberry.field(
        description="Per-comparison match weights, e.g. {\"name\": 4.1, \"phone\": -2.3}: why the pair scored.")


@strawberry.type(description="A vocabulary term: stable id and its Chinese and English labels.")
class VocabLabel:
    id: str
    zh: str | None
    en: str | None


@strawberry.type(description="A relationship in a path or neighbourhood.")
class GraphEdge:
    type: str
    from_id: strawberry.ID
    to_id: strawberry.ID
    properties: JSON = strawberry.field(description="Relationship properties (role, since, …) and system fields.")


EDGE_SYSTEM_FIELDS = ("key", "version", "updated_at")


def graph_edge(edge: Edge, view: RoleView) -> GraphEdge:
    """A generic edge: the properties the role reads plus key/version/updatedAt (no content hash)."""
    try:
        names = [p.name for p in view.props(view.ontology.rel(edge.type).properties)]
    except OntologyError:
        names = []
    props = {k: edge.props[k] for k in (*names, *EDGE_SYSTEM_FIELDS) if edge.props.get(k) is not None}
    return GraphEdge(type=edge.type, from_id=strawberry.ID(edge.from_id), to_id=strawberry.ID(edge.to_id),
                     properties=cast(JSON, jsonable(props)))


def jsonable(props: dict[str, Any]) -> dict[str, Any]:
    # Drivers may hand back dates or other non-JSON values; the JSON scalar must not fail on them.
    return cast(dict[str, Any], json.loads(json.dumps(props, default=str)))


@strawberry.type(description="Shortest path between two nodes.")
class GraphPath:
    nodes: list[NodeInterface]
    edges: list[GraphEdge]

    @strawberry.field
    def hops(self) -> int:
        return len(self.edges)


@strawberry.type(description="Nodes around a node, breadth first, cut at `limit` nodes.")
class Neighbourhood:
    nodes: list[NodeInterface]
    edges: list[GraphEdge]
    truncated: bool


SUPPRESSED_DESCRIPTION = ("null when fewer than the policy's k (k-anonymity) and the caller's role may only see "
                          "aggregates of this field; `display` then reads \"<k\".")


@strawberry.type(description="Count of nodes having one value of a facet property.")
class FacetCount:
    value: str
    count: int | None = strawberry.field(description=f"The count; {SUPPRESSED_DESCRIPTION}")
    display: str = strawberry.field(description="The count as shown to people: a number or \"<k\".")
    label: str | None = strawberry.field(description="Chinese label from the property's vocabulary.")
    label_en: str | None


@strawberry.input(description="Restrict search hits to these facet values (vocabulary ids or labels).")
class SearchFilter:
    field: str
    values: list[str]


@strawberry.type
class Highlight:
    field: str
    fragments: list[str] = strawberry.field(description="HTML fragments; matches wrapped in <mark>, the rest escaped.")


@strawberry.type
class SearchHit:
    id: strawberry.ID
    type: str
    score: float
    title: str | None
    highlights: list[Highlight]
    explanations: list[str] = strawberry.field(description="Why it matched, e.g. '俄语 ← languages: ru'.")

    @strawberry.field(description="The matching node, read from the graph (null if deleted since indexing).")  # type: ignore[untyped-decorator]
    async def node(self, info: Info) -> NodeInterface | None:
        ctx: ApiContext = info.context
        return cast(NodeInterface | None, await ctx.loaders.node.load(str(self.id)))


@strawberry.type
class SearchFacetValue:
    value: str
    count: int | None = strawberry.field(description=f"The count; {SUPPRESSED_DESCRIPTION}")
    display: str = strawberry.field(description="The count as shown to people: a number or \"<k\".")
    label: str | None = strawberry.field(description="Chinese label, else English, else the value.")
    label_zh: str | None
    label_en: str | None


@strawberry.type
class SearchFacet:
    field: str
    values: list[SearchFacetValue]


@strawberry.type
class SearchResult:
    total_count: int
    hits: list[SearchHit]
    facets: list[SearchFacet]
    page_info: PageInfo


@strawberry.type(description="One entry of the access record (PIPL art. 55): who read what, when, with what outcome. "
                             "Ids and counts only, never the data itself.")
class AuditRecord:
    seq: int
    at: str
    principal: str
    role: str
    via: str
    operation: str
    document_hash: str | None
    person_ids: list[strawberry.ID]
    count: int | None = strawberry.field(description="Aggregate values returned (facets).")
    outcome: str
    status: int
    duration_ms: float
    path: str
    hash: str = strawberry.field(description="This entry's link in the hash chain (`talentgraph audit --verify`).")


@strawberry.type(description="One change to a record the caller's role may see, in commit order.")
class ChangeEvent:
    seq: int = strawberry.field(description="Position in the change log.")
    op: str = strawberry.field(description="`upsert` (created or changed) or `delete` (a tombstone).")
    kind: str = strawberry.field(description="`node` or `rel`.")
    type: str = strawberry.field(description="Node or relationship type.")
    id: strawberry.ID = strawberry.field(description="Node id, or relationship key `from|TYPE|to`.")
    at: str = strawberry.field(description="When the change was written (ISO 8601, UTC).")
    version: int
    from_: strawberry.ID | None = strawberry.field(name="from", description="A relationship's start node.")
    to: strawberry.ID | None = strawberry.field(description="A relationship's end node.")
    data: JSON | None = strawberry.field(description="The record as the caller's role may read it; null for a delete.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this event.")


@strawberry.type(description="A page of the change feed. Without `after` the feed starts with a snapshot: every "
                             "current record once; then follow with `after: cursor`.")
class ChangePage:
    events: list[ChangeEvent]
    cursor: str = strawberry.field(description="Continue after this (the last change-log entry read, shown or not).")
    seq: int = strawberry.field(description="The change-log position this page reaches: a consumer that applied "
                                            "every page up to here and follows from `cursor` misses no change and "
                                            "gets none twice.")
    head_seq: int = strawberry.field(description="The newest change-log position when the page was read.")
    has_more: bool = strawberry.field(description="More changes lie after `cursor` already.")
    snapshot: bool = strawberry.field(description="Read from the start (no `after`).")
