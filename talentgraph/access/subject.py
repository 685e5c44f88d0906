"""Data subject rights (PIPL arts. 45, 47): everything held about one person, exported or erased.

Both operations are admin-only (policy operation ``subject_rights``); the CLI and server routes that
call these functions check the caller's role first. Personal data about a person lives in four
places, and both operations visit all four:

- the graph: the Person node (properties and provenance) and every relationship of every type the
  ontology declares for Person, in both directions;
- the search index: the person's document (a projection of the node);
- quarantine files: rejected register rows that name the person in their ``_ids`` column
  (``ingest/quarantine.py``). Files written before that column existed cannot be matched to an id
  and are reported as not checked, never guessed at;
- the audit log: who read the person's data. Exported, never erased: the audit keeps the fact of an
  access (ids, roles, times), not the data, and an erasure must itself stay on record.

An id counts as known while any of the first three holds something for it, so a person whose only
trace is a quarantined row (never written to the graph) can still be exported and erased; once
nothing is left, both raise ``NotFoundError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, Protocol

from talentgraph.errors import BadQueryError, NotFoundError, OntologyError
from talentgraph.graph import claims
from talentgraph.graph.port import GraphStore
from talentgraph.ingest.quarantine import (
    IDS_COLUMN,
    REASON_COLUMN,
    ROW_COLUMN,
    RowsNaming,
    quarantine_files,
    remove_rows,
    rows_naming,
)
from talentgraph.schema.ontology import (
    ONTOLOGY,
    SYSTEM_NODE_PROPERTIES,
    SYSTEM_REL_PROPERTIES,
    NodeType,
    Ontology,
    Property,
    Sensitivity,
)
from talentgraph.search.mapping import ID_FIELD, TYPE_FIELD, source_of
from talentgraph.search.port import SearchIndex
from talentgraph.search.query import MatchAll, Terms
from talentgraph.types import Change, Direction, Edge, Node, rel_key

FORMAT_VERSION = 1
PERSON = "Person"

# Sensitive properties an export shows as values; every other sensitive property is reported only
# as held (its name, never its value).
SHOWN_SENSITIVE = frozenset({"id_kind", "id_last4"})
WHY_WITHHELD = (
    "Identity-document numbers are never stored: only their kind, their last four characters and a "
    "keyed hash (HMAC-SHA256) used to recognise the same document when a register is re-imported. "
    "The hash is left out of this export on purpose: it is a matching key, not information about the "
    "person, and anyone holding it together with the system's key could confirm a guessed number; an "
    "export leaves the system, so it says only that a document is held, its kind and last four characters."
)
NO_IDS = f"could not check: no {IDS_COLUMN} column"
# Change detection only (a hash over all properties, the identity hash among them): not data about anyone.
_INTERNAL = frozenset({"content_hash", "key"})
_NODE_SYSTEM = frozenset(p.name for p in SYSTEM_NODE_PROPERTIES) - _INTERNAL
_REL_SYSTEM = frozenset(p.name for p in SYSTEM_REL_PROPERTIES) - _INTERNAL


class AuditReader(Protocol):
    """What subject access needs of the audit log (``access/audit.py``'s ``AuditLog`` has it)."""

    def read(self, *, person: str | None = None) -> Sequence[Any]: ...


# --- export ---------------------------------------------------------------------------------------


def export_person(
    graph: GraphStore,
    index: SearchIndex | None,
    person_id: str,
    *,
    quarantine_dir: Path,
    audit: AuditReader | None,
    ontology: Ontology = ONTOLOGY,
) -> dict[str, Any]:
    """Everything held about one person, JSON-ready, for a subject access request (PIPL art. 45).

    Sections: ``node`` (properties, provenance, and identity documents only as held + kind + last
    four: see ``WHY_WITHHELD``), ``relationships`` (each with the other node's id and type, its
    title unless that is itself personal, e.g. another person's name, and the relationship's
    properties and provenance), ``search_document`` (the values as indexed), ``quarantine`` (rows
    that name the person, and files that could not be checked) and ``audit`` (who read them).
    """
    person_type = _person_type(person_id, ontology)
    node = graph.get_nodes([person_id]).get(person_id)
    document = _search_document(index, person_id) if index is not None else None
    scans = _scan_quarantine(quarantine_dir, person_id)
    if node is None and document is None and not any(s.matches for s in scans):
        raise _not_found(person_id)
    edges = _edges(graph, person_id, person_type, ontology) if node is not None else []
    entries = list(audit.read(person=person_id)) if audit is not None else []
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": _now(),
        "person_id": person_id,
        "node": _node_section(node, person_type) if node is not None else None,
        "relationships": [_edge_section(d, e, ontology) for d, e in edges],
        "search_document": document if index is not None else {"checked": False},
        "quarantine": _quarantine_section(scans),
        "audit": {"checked": audit is not None, "entries": [_jsonable(_entry_dict(e)) for e in entries]},
    }


def _claims_section(node: Node, declared: Mapping[str, Property]) -> dict[str, Any]:
    """Which source said what, per property; identity documents name their sources, not their values."""
    out: dict[str, Any] = {}
    for name, items in sorted(claims.load(node.props, list(declared)).items()):
        prop = declared.get(name)
        withheld = prop is not None and prop.sensitivity is Sensitivity.SENSITIVE
        out[name] = [{"value": None if withheld else c.get("v"), "job": c.get("job"), "file": c.get("file"),
                      "row": c.get("row"), "ingested_at": c.get("at"), "priority": c.get("p") or 0}
                     for c in items]
    return out


def _node_section(node: Node, node_type: NodeType) -> dict[str, Any]:
    declared = {p.name: p for p in node_type.properties}
    properties: dict[str, Any] = {}
    provenance: dict[str, Any] = {}
    sensitive: dict[str, Any] = {}
    for name, value in sorted(node.props.items()):
        if _empty(value) or name in _INTERNAL:
            continue
        if name == claims.PROV:
            provenance["by_property"] = _claims_section(node, declared)
            continue
        prop = declared.get(name)
        if prop is not None and prop.sensitivity is Sensitivity.SENSITIVE:
            sensitive[name] = value
        elif name in _NODE_SYSTEM:
            provenance[name] = _jsonable(value)
        else:
            properties[name] = _jsonable(value)
    identity: dict[str, Any] = {"held": "yes" if sensitive else "no"}
    identity.update({k: _jsonable(v) for k, v in sensitive.items() if k in SHOWN_SENSITIVE})
    withheld = sorted(k for k in sensitive if k not in SHOWN_SENSITIVE)
    if withheld:
        identity["withheld"] = withheld
        identity["why"] = WHY_WITHHELD
    return {"type": node.type, "properties": properties, "provenance": provenance, "identity_document": identity}


def _edge_section(direction: Direction, edge: Edge, ontology: Ontology) -> dict[str, Any]:
    rel = ontology.rel(edge.type)
    declared = {p.name for p in rel.properties}
    other = edge.node
    other_type = ontology.node(other.type)
    far: dict[str, Any] = {"id": other.id, "type": other.type}
    if other_type.prop(other_type.title).sensitivity is Sensitivity.PUBLIC:
        far["title"] = _jsonable(other.props.get(other_type.title))
    else:
        far["title_withheld"] = "the other node's title is personal data of someone else"
    props = {k: v for k, v in sorted(edge.props.items()) if not _empty(v) and k not in _INTERNAL}
    return {
        "type": edge.type,
        "direction": direction,
        "key": rel_key(edge.type, edge.from_id, edge.to_id),
        "other": far,
        "properties": {k: _jsonable(v) for k, v in props.items() if k in declared or k not in _REL_SYSTEM},
        "provenance": {k: _jsonable(v) for k, v in props.items() if k in _REL_SYSTEM and k not in declared},
    }


def _quarantine_section(scans: list[RowsNaming]) -> dict[str, Any]:
    rows = [
        {
            "file": s.path.name,
            "row": _int_or_text(m.get(ROW_COLUMN, "")),
            "reason": m.get(REASON_COLUMN, ""),
            "cells": {k: v for k, v in m.items() if k not in (ROW_COLUMN, REASON_COLUMN, IDS_COLUMN)},
        }
        for s in scans
        for m in s.matches
    ]
    return {
        "rows": rows,
        "unchecked_files": [{"file": s.path.name, "rows": s.rows, "reason": NO_IDS} for s in scans if not s.has_ids],
        # Rows rejected before their columns were known (a malformed line) name no id: they may be anyone's.
        "rows_without_ids": {s.path.name: s.without_ids for s in scans if s.without_ids},
    }


def _entry_dict(entry: Any) -> Any:
    if hasattr(entry, "to_dict"):
        return entry.to_dict()
    if is_dataclass(entry) and not isinstance(entry, type):
        return asdict(entry)
    if isinstance(entry, Mapping):
        return dict(entry)
    return str(entry)


# --- erasure --------------------------------------------------------------------------------------


@dataclass
class ErasureReport:
    """What an erasure removed (or, with ``dry_run``, would remove): ids and counts, never values.

    Safe to keep in the audit log as the record of the erasure: the fact stays, the data does not.
    """

    person_id: str
    dry_run: bool
    node_deleted: bool
    relationships_deleted: int
    relationship_keys: list[str]
    search_document_deleted: bool
    quarantine_rows_removed: dict[str, int]  # file name -> rows naming the person
    quarantine_files_deleted: list[str]  # files left without rows
    quarantine_unchecked: dict[str, str]  # file name -> why it could not be checked
    quarantine_rows_without_ids: dict[str, int]  # rows naming no id (malformed lines): look at them by hand
    tombstone_seqs: list[int]  # change-log entries of the deletion (empty for a dry run)
    erased_at: str
    format_version: int = FORMAT_VERSION
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def erase_person(
    graph: GraphStore,
    index: SearchIndex,
    person_id: str,
    *,
    quarantine_dir: Path,
    dry_run: bool = False,
    ontology: Ontology = ONTOLOGY,
) -> ErasureReport:
    """Delete everything held about one person (PIPL art. 47); the audit log is kept.

    Order: quarantine rows, then the graph node with its relationships (``delete_nodes`` writes a
    tombstone per node and relationship in the same transaction), then the search document
    (delete + commit; the index's change-log cursor is not moved, so the projector still applies
    the tombstones). A failure part-way leaves the node in place whenever anything before it is
    unfinished, so running the erasure again completes it.
    """
    person_type = _person_type(person_id, ontology)
    node = graph.get_nodes([person_id]).get(person_id)
    in_search = _search_document(index, person_id) is not None
    scans = _scan_quarantine(quarantine_dir, person_id)
    if node is None and not in_search and not any(s.matches for s in scans):
        raise _not_found(person_id, erased=True)
    edges = _edges(graph, person_id, person_type, ontology) if node is not None else []
    keys = sorted({rel_key(e.type, e.from_id, e.to_id) for _, e in edges})
    report = ErasureReport(
        person_id=person_id,
        dry_run=dry_run,
        node_deleted=node is not None,
        relationships_deleted=len(keys),
        relationship_keys=keys,
        search_document_deleted=in_search,
        quarantine_rows_removed={s.path.name: len(s.matches) for s in scans if s.matches},
        quarantine_files_deleted=[s.path.name for s in scans if s.matches and len(s.matches) == s.rows],
        quarantine_unchecked={s.path.name: NO_IDS for s in scans if not s.has_ids},
        quarantine_rows_without_ids={s.path.name: s.without_ids for s in scans if s.without_ids},
        tombstone_seqs=[],
        erased_at=_now(),
    )
    if node is None:
        report.notes.append("no graph node: it was erased or never written; the remaining traces were removed")
    if dry_run:
        return report

    removed: dict[str, int] = {}
    emptied: list[str] = []
    for s in scans:
        if s.matches:
            count, deleted = remove_rows(s.path, person_id)
            if count:
                removed[s.path.name] = count
            if deleted:
                emptied.append(s.path.name)
    report.quarantine_rows_removed, report.quarantine_files_deleted = removed, emptied

    if node is not None:
        before = graph.last_seq()
        report.node_deleted = graph.delete_nodes([person_id]) > 0
        tombstones = _tombstones(graph, before, person_id)
        report.tombstone_seqs = [c.seq for c in tombstones]
        # What was actually deleted, including a relationship written since the edges were read.
        report.relationship_keys = sorted(c.id for c in tombstones if c.kind == "rel")
        report.relationships_deleted = len(report.relationship_keys)

    index.delete([person_id])  # also when the search found none: a write not yet committed is dropped too
    index.commit()
    return report


def _tombstones(graph: GraphStore, after: int, person_id: str) -> list[Change]:
    found: list[Change] = []
    while True:
        page = graph.changes(after_seq=after, limit=1000)
        if not page:
            return found
        for c in page:
            if c.op != "delete":
                continue
            if (c.kind == "node" and c.id == person_id) or (c.kind == "rel" and person_id in (c.from_id, c.to_id)):
                found.append(c)
        after = page[-1].seq


# --- shared ---------------------------------------------------------------------------------------


def _person_type(person_id: str, ontology: Ontology) -> NodeType:
    try:
        node_type = ontology.type_of_id(person_id)
    except OntologyError as exc:
        raise BadQueryError(f"{person_id!r} is not a node id.", hint=exc.hint) from exc
    person = ontology.node(PERSON)
    if node_type.name != person.name:
        raise BadQueryError(
            f"{person_id} is a {node_type.name} id, not a person's.",
            hint=f"Data subject rights apply to people: their ids start with '{person.id_prefix}:'.",
        )
    return person


def _not_found(person_id: str, *, erased: bool = False) -> NotFoundError:
    held = "no graph node, no search document and no quarantine row names it"
    hint = ("It may have been erased already (see the audit log)." if erased else
            "Check the id: `talentgraph search NAME` shows a person's id.")
    return NotFoundError(f"Nothing is held about {person_id}: {held}.", hint=hint)


def _edges(
    graph: GraphStore, person_id: str, person_type: NodeType, ontology: Ontology
) -> list[tuple[Direction, Edge]]:
    out: list[tuple[Direction, Edge]] = []
    for rel in ontology.rel_types:
        ends: tuple[tuple[Direction, tuple[str, ...]], ...] = (("out", rel.from_types), ("in", rel.to_types))
        for direction, types in ends:
            if person_type.name in types:
                out += [(direction, e) for e in graph.edges([person_id], rel.name, direction).get(person_id, [])]
    return out


def _search_document(index: SearchIndex, person_id: str) -> dict[str, Any] | None:
    result = index.search(MatchAll(), filters=Terms(ID_FIELD, (person_id,)), facets=(), limit=1, offset=0)
    if not result.hits:
        return None
    hit = result.hits[0]
    return {"id": hit.id, "type": hit.stored.get(TYPE_FIELD), "values": _jsonable(source_of(hit.stored))}


def _scan_quarantine(directory: Path, person_id: str) -> list[RowsNaming]:
    return [rows_naming(p, person_id) for p in quarantine_files(directory)]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _int_or_text(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


__all__ = ["AuditReader", "ErasureReport", "FORMAT_VERSION", "erase_person", "export_person"]
