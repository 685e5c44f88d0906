"""The review queue of candidate entities: pending, accept, reject, merge into an existing node.

Decisions are writes of one source, ``REVIEW_JOB``, at a priority above the documents' (which claim
``review: pending``), so a document read again never re-opens a decided candidate, and the candidate
node outlives the documents that named it (a rejected name stays rejected: not proposed again).

- accept: a node of the candidate's type is created with its name (source ``REVIEW_JOB``, provenance
  the documents that name it); the documents' MENTIONS and the Facts' ABOUT move to it, each still
  written by its own document's source, so a later change of that document replaces them as usual;
- merge: the same, into an existing node; the name is added to the node's alias property when its
  type has one (a list of names, searchable as a name: ``Person.other_names``);
- reject: the candidate is marked rejected; the documents' mentions of it stay (they did name it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from talentgraph.errors import BadQueryError, NotFoundError, ValidationError
from talentgraph.graph.common import SYSTEM_REL_NAMES
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY, NodeType, Ontology, PropType, SearchKind
from talentgraph.schema.validation import check_node_props
from talentgraph.text.store import (
    ABOUT,
    ACCEPTED,
    CANDIDATE,
    MENTIONS,
    MERGED,
    PENDING,
    REJECTED,
    now,
    refresh_facts,
)
from talentgraph.types import Cmp, NodeRecord, Provenance, RelRecord, SortKey

REVIEW_JOB = "docs-review"
# Above the documents' priority 0: the decision is what the candidate shows.
REVIEW_PRIORITY = 10
_DECIDED = frozenset({ACCEPTED, REJECTED, MERGED})


@dataclass(frozen=True)
class Pending:
    id: str
    name: str
    candidate_type: str
    confidence: float | None
    documents: list[dict[str, Any]]  # {id, title, count, sentence}

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "candidate_type": self.candidate_type,
                "confidence": self.confidence, "mentions": sum(d["count"] for d in self.documents),
                "documents": self.documents}


def pending(graph: GraphStore, *, first: int = 100) -> list[Pending]:
    """Pending candidates, the surest first, each with the documents that name it."""
    page = graph.list_nodes(CANDIDATE, where=Cmp("review", "eq", PENDING),
                            sort=(SortKey("confidence", descending=True),), first=first)
    ids = [n.id for n in page.items]
    edges = graph.edges(ids, MENTIONS, "in", far_props=["title"]) if ids else {}
    out: list[Pending] = []
    for n in page.items:
        docs = [{"id": e.from_id, "title": e.node.props.get("title"), "count": int(e.props.get("count") or 1),
                 "sentence": e.props.get("sentence")} for e in edges.get(n.id, [])]
        conf = n.props.get("confidence")
        out.append(Pending(n.id, str(n.props.get("name") or ""), str(n.props.get("candidate_type") or ""),
                           float(conf) if isinstance(conf, (int, float)) else None, docs))
    return out


def _candidate(graph: GraphStore, cand_id: Any, ontology: Ontology) -> Any:
    if not isinstance(cand_id, str) or not cand_id.startswith(ontology.node(CANDIDATE).id_prefix + ":"):
        raise NotFoundError(f"{cand_id!r} is not a candidate id.",
                            hint="Candidate ids look like cand:3f2a…; list them with `talentgraph docs pending`.")
    node = graph.get_nodes([cand_id]).get(cand_id)
    if node is None:
        raise NotFoundError(f"No candidate {cand_id}.", hint="List them with `talentgraph docs pending`.")
    review = node.props.get("review")
    if review in _DECIDED:
        where = f" ({node.props.get('resolved_to')})" if node.props.get("resolved_to") else ""
        raise BadQueryError(f"Candidate {cand_id} was already {review}{where}.",
                            hint="Only pending candidates are reviewed; `talentgraph docs pending` lists them.")
    return node


def _documents(graph: GraphStore, cand_id: str) -> list[str]:
    return sorted(e.from_id for e in graph.edges([cand_id], MENTIONS, "in", far_props=()).get(cand_id, []))


def _decide(graph: GraphStore, node: Any, review: str, resolved_to: str | None, by: str) -> None:
    # The decision claims name and type too: the candidate keeps them when every document is gone.
    prov = Provenance(job=REVIEW_JOB, source=by, row=0, ingested_at=now(), priority=REVIEW_PRIORITY)
    props = {"name": node.props.get("name"), "candidate_type": node.props.get("candidate_type"),
             "review": review, "resolved_to": resolved_to}
    graph.upsert_nodes([NodeRecord(CANDIDATE, node.id, props, prov, frozenset(props))])


def _repoint(graph: GraphStore, cand_id: str, target: str, ontology: Ontology) -> dict[str, int]:
    """Move the candidate's MENTIONS and ABOUT relationships to ``target``, each under the source that
    wrote it (its document), new ones written before the old are deleted: never a moment without."""
    moved: dict[str, int] = {}
    target_type = ontology.type_of_id(target).name
    for rel_name in (MENTIONS, ABOUT):
        rt = ontology.rel(rel_name)
        edges = graph.edges([cand_id], rel_name, "in").get(cand_id, [])
        records: list[RelRecord] = []
        old: list[str] = []
        for e in edges:
            if not rt.allows(ontology.type_of_id(e.from_id).name, target_type):
                continue
            props = {k: v for k, v in e.props.items() if k not in SYSTEM_REL_NAMES}
            job = str(e.props.get("src_job") or e.from_id)
            prov = Provenance(job=job, source=str(e.props.get("src_file") or ""), row=0, ingested_at=now())
            records.append(RelRecord(rel_name, e.from_id, target, props, prov))
            old.append(RelRecord(rel_name, e.from_id, cand_id).key)
        if records:
            graph.upsert_relationships(records)
            graph.delete_relationships(old)
        moved[rel_name] = len(records)
    return moved


def alias_property(node_type: NodeType) -> str | None:
    """The property holding a node's other names: a list of names searchable as a name, if the type has one."""
    for p in node_type.properties:
        if p.type is PropType.STRING_LIST and p.searchable is SearchKind.NAME:
            return p.name
    return None


def accept(graph: GraphStore, cand_id: Any, *, by: str, node_type: str | None = None,
           props: Mapping[str, Any] | None = None, ontology: Ontology = ONTOLOGY) -> dict[str, Any]:
    """Create the node the candidate names (its type, or ``node_type``), with ``props`` beside the name."""
    node = _candidate(graph, cand_id, ontology)
    type_name = node_type or str(node.props.get("candidate_type") or "")
    try:
        nt = ontology.node(type_name)
    except Exception:
        raise BadQueryError(f"{type_name!r} is not a node type a candidate can become.",
                            hint="Pass a type: Venue, PartyOrganization, Enterprise, Project, Group, Area, Person.") \
            from None
    if not ontology.rel(MENTIONS).allows("Document", nt.name) or nt.name == CANDIDATE:
        raise BadQueryError(f"A candidate cannot become a {nt.name}.", hint="Pass a type documents mention.")
    values = {**dict(props or {}), nt.title: node.props.get("name")}
    cleaned, errors = check_node_props(nt, values)
    if errors:
        e = errors[0]
        raise ValidationError(e.field, e.value, e.expected, hint=e.hint)
    docs = _documents(graph, node.id)
    new_id = ontology.make_id(nt.name, "txt-" + node.id.partition(":")[2])
    prov = Provenance(job=REVIEW_JOB, source=", ".join(docs[:20]) or by, row=0, ingested_at=now())
    graph.upsert_nodes([NodeRecord(nt.name, new_id, cleaned, prov)])
    moved = _repoint(graph, node.id, new_id, ontology)
    _decide(graph, node, ACCEPTED, new_id, by)
    return {"candidate": node.id, "review": ACCEPTED, "node": new_id, "type": nt.name, "documents": docs,
            "moved": moved}


def reject(graph: GraphStore, cand_id: Any, *, by: str, ontology: Ontology = ONTOLOGY) -> dict[str, Any]:
    node = _candidate(graph, cand_id, ontology)
    _decide(graph, node, REJECTED, None, by)
    return {"candidate": node.id, "review": REJECTED}


def merge(graph: GraphStore, cand_id: Any, into: Any, *, by: str, ontology: Ontology = ONTOLOGY) -> dict[str, Any]:
    """The candidate is the existing node ``into``: mentions move there, its name becomes an alias."""
    node = _candidate(graph, cand_id, ontology)
    if not isinstance(into, str) or not into:
        raise BadQueryError("merge needs the id of the node to merge into.", hint="e.g. --merge-into ven:0012.")
    target = graph.get_nodes([into]).get(into)
    if target is None:
        raise NotFoundError(f"No node {into}.", hint="Give the id of an existing node (search finds it).")
    if target.type == CANDIDATE or not ontology.rel(MENTIONS).allows("Document", target.type):
        raise BadQueryError(f"{into} is a {target.type}; a candidate merges into an entity documents mention.")
    alias = _add_alias(graph, node, target, ontology)
    moved = _repoint(graph, node.id, into, ontology)
    _decide(graph, node, MERGED, into, by)
    refresh_facts(graph, [into], ontology)
    return {"candidate": node.id, "review": MERGED, "node": into, "alias": alias, "moved": moved}


def _add_alias(graph: GraphStore, cand: Any, target: Any, ontology: Ontology) -> str | None:
    nt = ontology.node(target.type)
    prop = alias_property(nt)
    name = cand.props.get("name")
    if prop is None or not name or name == target.props.get(nt.title):
        return None
    have = list(target.props.get(prop) or [])
    if name in have:
        return None
    # A claim holds one value per property: the review's claim is the node's list plus the name, at the
    # registers' priority, so it never hides what a register writes later.
    prov = Provenance(job=REVIEW_JOB, source=cand.id, row=0, ingested_at=now())
    graph.upsert_nodes([NodeRecord(nt.name, target.id, {prop: [*have, name]}, prov)])
    return str(name)


def perform(graph: GraphStore, body: Mapping[str, Any], *, by: str) -> dict[str, Any]:
    """One review request (``talentgraph docs`` / ``POST /admin/docs``)."""
    action = body.get("action")
    if action == "pending":
        first = body.get("first", 100)
        if not isinstance(first, int) or isinstance(first, bool) or not 0 < first <= 1000:
            raise BadQueryError(f"first {first!r} is not a whole number from 1 to 1000.")
        return {"pending": [p.to_dict() for p in pending(graph, first=first)]}
    if action == "accept":
        props = body.get("props") or {}
        node_type = body.get("type")
        if not isinstance(props, dict) or not (node_type is None or isinstance(node_type, str)):
            raise BadQueryError("accept takes props (an object) and type (a node type name).")
        return accept(graph, body.get("id"), by=by, node_type=node_type, props=props)
    if action == "reject":
        return reject(graph, body.get("id"), by=by)
    if action == "merge":
        return merge(graph, body.get("id"), body.get("into"), by=by)
    raise BadQueryError(f"action {action!r} is not one of pending, accept, reject, merge.",
                        hint='Send e.g. {"action": "accept", "id": "cand:3f2a…"}.')


def pending_ids(graph: GraphStore, ids: Sequence[str]) -> list[str]:
    """Those of ``ids`` that are candidates still pending (tests and the CLI's summary)."""
    found = graph.get_nodes(list(ids), fields=["review"])
    return [i for i in ids if i in found and found[i].props.get("review") == PENDING]


__all__ = ["REVIEW_JOB", "REVIEW_PRIORITY", "Pending", "accept", "alias_property", "merge", "pending",
           "pending_ids", "perform", "reject"]
