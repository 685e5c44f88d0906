"""Building one row's records: render keys, map and validate properties, find relationship ends.

``build_row`` is the row path every ingest keeps: whatever a row maps to is validated, and every
problem found goes into ``errors`` naming the field and value, so the quarantine file says what to fix.
``ingest/distinct.py`` gives the same answer for a job's rows, working each distinct cell out once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from talentgraph.errors import ValidationError
from talentgraph.ingest.lookups import EndResolver, LookupFailed
from talentgraph.ingest.mapping import EndpointSpec, JobSpec, NodeSpec, PropSpec
from talentgraph.ingest.sources import Row
from talentgraph.schema.ontology import ONTOLOGY, NodeType, Ontology
from talentgraph.schema.validation import check_node_props, check_rel_props
from talentgraph.types import NodeRecord, Provenance, RelRecord


@dataclass
class BuiltRow:
    number: int
    raw: Row
    nodes: list[NodeRecord]
    rels: list[RelRecord]
    errors: list[str]


def _label_of(props: tuple[PropSpec, ...], field_name: str) -> str:
    """`` (column 语言)`` for a validation error on a mapped property, so users find the cell."""
    bare = _bare(field_name)
    for p in props:
        if bare in p.targets and p.columns:
            return f" (column {', '.join(p.columns)})"
    return ""


def _bare(field_name: str) -> str:
    return re.sub(r"\[\d+\]$", "", field_name.rsplit(".", 1)[-1])


def _props(specs: tuple[PropSpec, ...], row: Row, owner: str, key: bytes, errors: list[str]) -> tuple[
        dict[str, Any], set[str]]:
    """(values of the properties that could be read, targets of those that could not)."""
    out: dict[str, Any] = {}
    failed: set[str] = set()
    for p in specs:
        try:
            out.update(p.evaluate(row, owner, key))
        except ValidationError as exc:
            errors.append(str(exc))
            failed.update(p.targets)
    return out, failed


def _validated(
    check: Callable[[Any, dict[str, Any]], tuple[dict[str, Any], list[ValidationError]]], schema: Any,
    props: dict[str, Any], failed: set[str], specs: tuple[PropSpec, ...], prefix: str, errors: list[str],
) -> dict[str, Any] | None:
    """Validated props, or None after adding every problem to ``errors``.

    Validation still runs when a transform failed, so one quarantine reason lists all of a row's
    problems; only the knock-on "required" error for the failed property is left out.
    """
    clean, problems = check(schema, props)
    problems = [e for e in problems if _bare(e.field) not in failed]
    errors.extend(f"{prefix}{_label_of(specs, e.field)}: {e}" for e in problems)
    return None if problems or failed else clean


def end_id(es: EndpointSpec, row: Row, field: str, lookups: EndResolver | None, ontology: Ontology) -> str | None:
    """The id of a relationship end: rendered from its key, or found by its lookup (None: cells empty)."""
    if es.key is not None:
        key = es.key.render(row, f"{field}.key")
        return None if key is None else ontology.make_id(es.type, key)
    if lookups is None or es.lookup is None:
        raise ValueError(f"{field} is a lookup; pass lookups= to build_row")
    return lookups.resolve(es.lookup, row, field)


# Keyed by the node type's identity (the entry keeps the type alive, so the id is not reused): hashing
# the frozen NodeType hashes every property it declares, ~10 µs a row.
_NAMED: dict[tuple[int, tuple[str, ...]], tuple[NodeType, frozenset[str]]] = {}


def named_properties(ontology: Ontology, ns: NodeSpec) -> frozenset[str]:
    """The properties a node mapping speaks for (the same for every row of a job: worked out once)."""
    nt = ontology.node(ns.type)
    key = (id(nt), ns.targets)
    found = _NAMED.get(key)
    if found is None or found[0] is not nt:
        if len(_NAMED) > 1024:  # many job files in one long-lived process
            _NAMED.clear()
        found = _NAMED[key] = (nt, nt.written_with(ns.targets))
    return found[1]


def build_row(
    spec: JobSpec, number: int, row: Row, *, provenance: Provenance, id_hash_key: bytes,
    ontology: Ontology = ONTOLOGY, lookups: EndResolver | None = None,
) -> BuiltRow:
    """Records for one row, validated; ``errors`` lists every problem found (empty when writable).

    ``lookups`` resolves relationship ends the mapping finds by lookup (it reads the graph).
    """
    built = BuiltRow(number, row, [], [], [])
    errors = built.errors
    for ns in spec.nodes:
        try:
            key = ns.key.render(row, f"{ns.type}.key")
        except ValidationError as exc:
            errors.append(str(exc))
            continue
        if key is None:
            errors.append(f"{ns.type} key {ns.key.text!r}: column {', '.join(ns.key.columns)} is empty; "
                          "every row needs an id")
            continue
        node_id = ontology.make_id(ns.type, key)
        props, failed = _props(ns.properties, row, ns.type, id_hash_key, errors)
        clean = _validated(check_node_props, ontology.node(ns.type), props, failed, ns.properties, node_id, errors)
        if clean is None:
            continue
        # Every property the mapping names: an empty cell withdraws this job's own earlier value.
        named = named_properties(ontology, ns)
        built.nodes.append(NodeRecord(ns.type, node_id, clean, provenance, named))
    for rs in spec.relationships:
        ends: list[str] = []
        for end, es in (("from", rs.from_), ("to", rs.to)):
            try:
                found = end_id(es, row, f"{rs.type}.{end}", lookups, ontology)
            except ValidationError as exc:
                errors.append(str(exc))
                break
            except LookupFailed as exc:
                errors.append(f"{rs.type} {end}: {exc}")
                break
            if found is None:
                if not rs.optional:
                    what = (f"key {es.text}: column {', '.join(es.columns)} is empty" if es.key is not None else
                            f"lookup: a column it needs ({', '.join(es.columns)}) is empty")
                    errors.append(f"{rs.type} {end} {es.type} {what} (mark the relationship optional: true "
                                  "if that is allowed)")
                break
            ends.append(found)
        if len(ends) != 2:
            continue
        props, failed = _props(rs.properties, row, rs.type, id_hash_key, errors)
        clean = _validated(check_rel_props, ontology.rel(rs.type), props, failed, rs.properties,
                           f"{rs.type} {ends[0]} → {ends[1]}", errors)
        if clean is None:
            continue
        built.rels.append(RelRecord(rs.type, ends[0], ends[1], clean, provenance))
    return built


__all__ = ["BuiltRow", "build_row", "end_id", "named_properties"]
