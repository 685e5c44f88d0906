"""The role policy applied to whole records outside GraphQL: the change feed, GeoJSON, NGSI-LD.

GraphQL enforces the policy by building each role's schema (``api/schema.py``); the platform
routes hand out records instead, so they ask here, in one place, what of a record a role may see.
These paths carry no per-request area scope, so an ``in_scope`` grant reads as not granted: a staff
key gets exactly what an analyst gets from them (a row, a field or a relationship is shown only
where the role's grant is ``always``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from talentgraph.access.policy import Grant, RoleView
from talentgraph.schema.ontology import SYSTEM_NODE_PROPERTIES, NodeType, RelType

# Bookkeeping every record carries and any role that sees the row may see (when it last changed).
_SHOWN_SYSTEM = frozenset({"version", "updated_at"})


def readable_types(view: RoleView) -> tuple[NodeType, ...]:
    """Node types whose rows the role may read on these paths."""
    return view.types()


def readable_rel_types(view: RoleView) -> tuple[RelType, ...]:
    """Relationship types the role reads always, with at least one visible pair of ends."""
    o = view.ontology
    return tuple(o.rel(name) for name in view.path_rels())


def node_props(view: RoleView, node_type: NodeType, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """The properties of one node the role may read (None when the role may not see the row at all).

    Null values are left out; identity documents (class ``sensitive``) never appear.
    """
    if not view.rows(node_type.name):
        return None
    out: dict[str, Any] = {}
    for p in node_type.properties:
        value = props.get(p.name)
        if value is not None and view.grant(p) is Grant.ALWAYS:
            out[p.name] = value
    for s in SYSTEM_NODE_PROPERTIES:
        if s.name in _SHOWN_SYSTEM and props.get(s.name) is not None:
            out[s.name] = props[s.name]
    return out


def node_fields(view: RoleView, node_type: NodeType) -> tuple[str, ...] | None:
    """The properties of a node type the role reads, in the order ``node_props`` shows them (None when the
    role may not see the rows at all). A bulk reader (the change feed's snapshot) asks its store for
    exactly these columns, so the rows it reads are already what the role may see."""
    if not view.rows(node_type.name):
        return None
    return tuple(p.name for p in node_type.properties if view.grant(p) is Grant.ALWAYS) + \
        tuple(s.name for s in SYSTEM_NODE_PROPERTIES if s.name in _SHOWN_SYSTEM)


def node_reader(view: RoleView, node_type: NodeType) -> Callable[[Mapping[str, Any]], dict[str, Any] | None]:
    """``node_props`` for many nodes of one type: the grants looked up once."""
    names = node_fields(view, node_type)
    if names is None:
        return lambda props: None

    def read(props: Mapping[str, Any]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for name in names:
            value = props.get(name)
            if value is not None:
                out[name] = value
        return out

    return read


def rel_visible(view: RoleView, rel_type: RelType, from_type: str, to_type: str) -> bool:
    return view.rel_grant(rel_type) is Grant.ALWAYS and (from_type, to_type) in view.rel_endpoints(rel_type)


def rel_props(view: RoleView, rel_type: RelType, from_type: str, to_type: str,
              props: Mapping[str, Any]) -> dict[str, Any] | None:
    """A relationship's readable properties (None when the role may not see the relationship)."""
    if not rel_visible(view, rel_type, from_type, to_type):
        return None
    return {p.name: props[p.name] for p in rel_type.properties
            if props.get(p.name) is not None and view.grant(p) is Grant.ALWAYS}


def rel_fields(view: RoleView, rel_type: RelType, from_type: str, to_type: str) -> tuple[str, ...] | None:
    """The properties of a relationship the role reads, in the order ``rel_props`` shows them (None when the
    role may not see relationships with these ends)."""
    if not rel_visible(view, rel_type, from_type, to_type):
        return None
    return tuple(p.name for p in rel_type.properties if view.grant(p) is Grant.ALWAYS)


def rel_reader(view: RoleView, rel_type: RelType, from_type: str,
               to_type: str) -> Callable[[Mapping[str, Any]], dict[str, Any]] | None:
    """``rel_props`` for many relationships with the same ends; None when the role may not see them."""
    names = rel_fields(view, rel_type, from_type, to_type)
    if names is None:
        return None
    return lambda props: {n: props[n] for n in names if props.get(n) is not None}
