"""What a field's selection asks for (strawberry's ``info.selected_fields``), so the store is asked no more.

- ``asks_for(info, "totalCount")``: is a field selected on the object this resolver returns? A
  list field counts its matches only when the count is read.
- ``far_types(info.selected_fields, candidates, node_types)``: when every node a relationship field returns is read
  only through fragments on concrete types (``edges { node { ... on Enterprise { name } } }``), those
  types: the field then lists only edges to them (the others would come back as empty objects), and
  the store query reaches one far-end type instead of all of them. None when anything else is read
  per edge or per node (``properties``, ``id``, a fragment on the ``Node`` interface, a directive
  that could drop a fragment …): every edge is listed as before.
- ``far_columns(info.selected_fields, ontology, types)`` / ``node_columns(selections, ontology, types)``:
  the properties a selection reads on the nodes it is given (a relationship field's far nodes; a
  root's node), so the store returns those columns and not every one. None when it reads what needs
  the whole node (``provenance``, ``conflicts``, a golden record's merged values, a field not known
  here). A field under ``@skip``/``@include`` counts as read: a superset of columns is always right.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, Protocol, TypeVar, cast

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection, convert_selections

from talentgraph.api.naming import camel, labels_field, rel_field
from talentgraph.schema.ontology import NodeType, Ontology

# Connection fields that read nothing per edge (``hasMore`` then tells of edges to the chosen types).
_PER_CONNECTION = {"__typename", "hasMore"}
_NODE_UNDER = {"edges": "node", "nodes": None}  # connection field -> the field under it that is the node


T = TypeVar("T")


class FarEnds(Protocol):
    """What ``asked_of`` needs of a relationship field (``resolvers.RelField``)."""

    @property
    def visible_ends(self) -> tuple[str, ...]: ...

    def far_types(self, selected: Sequence[Any]) -> tuple[str, ...] | None: ...


Asked = tuple[tuple[str, ...] | None, tuple[str, ...] | None]
# (id of the owner, ids of the field's nodes) -> (owner, nodes, answer). A document is parsed once and
# kept (``api/limits.py``), so its field nodes are the same objects request after request; the entry holds
# them, so an id is not reused while it lives. Only answers that read no variable belong here: ``far_types``
# gives up on any directive, ``far_columns`` and ``asks_for``-like questions count fields under
# ``@skip``/``@include`` as read.
_REMEMBERED: dict[tuple[int, ...], tuple[Any, tuple[Any, ...], Any]] = {}
_REMEMBERED_MAX = 4096
_REMEMBERED_LOCK = threading.Lock()


def remembered(owner: object, info: Any, work_out: Callable[[list[Selection]], T]) -> T:
    """``work_out(selected)`` for the field of ``info`` (graphql-core's resolve info; ``selected`` as strawberry's
    ``info.selected_fields``), worked out once per document and ``owner`` (the field's spec or resolver)."""
    nodes = tuple(info.field_nodes)
    key = (id(owner), *map(id, nodes))
    hit = _REMEMBERED.get(key)
    if hit is not None and hit[0] is owner and all(a is b for a, b in zip(hit[1], nodes, strict=True)):
        return cast(T, hit[2])
    answer = work_out(convert_selections(info, info.field_nodes))
    with _REMEMBERED_LOCK:
        if len(_REMEMBERED) >= _REMEMBERED_MAX:
            _REMEMBERED.clear()
        _REMEMBERED[key] = (owner, nodes, answer)
    return answer


def asked_of(spec: FarEnds, info: Any, ontology: Ontology) -> Asked:
    """(``far_types``, ``far_columns``) of a relationship field's selection, worked out once per document.

    ``spec``: the field's ``resolvers.RelField``; ``info``: graphql-core's resolve info of the field."""
    return remembered(spec, info, lambda selected: (spec.far_types(selected),
                                                    far_columns(selected, ontology, spec.visible_ends)))


def asks_for(info: Info, name: str) -> bool:
    """True when ``name`` is selected on the object this field returns (through fragments too)."""
    return any(f.name == name for field in info.selected_fields for f in _fields(field.selections))


def far_types(selected: Sequence[Selection], candidates: Sequence[str],
              node_types: Collection[str]) -> tuple[str, ...] | None:
    """The far-end types among ``candidates`` the selection reads nodes of; None when that is all of them.

    ``selected``: a relationship field's ``info.selected_fields`` (``api/prefetch.py`` builds the same
    from the document before the field is resolved). ``node_types``: the concrete object types (a
    fragment on anything else, such as the ``Node`` interface, reads every node).
    """
    wanted: set[str] = set()
    for field in selected:
        if not isinstance(field, SelectedField):
            return None
        for f in _plain_fields(field.selections):
            if f is None or f.directives:
                return None
            if f.name in _PER_CONNECTION:
                continue
            if f.name not in _NODE_UNDER:
                return None
            inner = _NODE_UNDER[f.name]
            node_fields = [f]
            if inner is not None:
                node_fields = []
                for g in _plain_fields(f.selections):
                    if g is None or g.directives or g.name != inner:
                        return None  # e.g. edges { properties … }: every edge is read
                    node_fields.append(g)
            for g in node_fields:
                types = _type_conditions(g.selections)
                if types is None:
                    return None
                wanted |= types
    if not wanted or not wanted <= set(node_types):
        return None  # nothing read per node (e.g. only hasMore), or a fragment on an interface
    chosen = tuple(t for t in candidates if t in wanted)
    if not chosen:
        return None  # fragments only on types this field never reaches: nothing to gain, keep it plain
    return None if len(chosen) == len(set(candidates)) else chosen


def _fields(selections: Sequence[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection, fragments flattened (validated documents have no fragment cycles)."""
    for s in selections:
        if isinstance(s, SelectedField):
            yield s
        else:
            yield from _fields(s.selections)


def _plain_fields(selections: Sequence[Selection]) -> Iterator[SelectedField | None]:
    """The fields of a selection; None for a fragment, where an exact answer gives up."""
    for s in selections:
        yield s if isinstance(s, SelectedField) else None


def _type_conditions(selections: Sequence[Selection]) -> set[str] | None:
    """The type conditions of a selection made only of typed fragments without directives, else None."""
    out: set[str] = set()
    for s in selections:
        if not isinstance(s, (InlineFragment, FragmentSpread)) or s.directives or s.type_condition is None:
            return None  # a field read on every node, or a fragment a variable may drop
        out.add(s.type_condition)
    return out or None



# --- columns -------------------------------------------------------------------------------------

# What a node's GraphQL field reads of it: these properties; () for nothing but its id and type;
# None: the whole node (its claims and every value: provenance, conflicts).
_Reads = tuple[str, ...] | None
_PER_EDGE = {"__typename", "type", "fromId", "toId", "properties", "cursor"}  # read from the edge, not the node
_PER_PAGE = {*_PER_CONNECTION, "pageInfo", "totalCount"}  # a connection's fields besides its edges and nodes
_FIELD_MAPS: dict[tuple[int, str], dict[str, _Reads]] = {}
_GOLDEN = "canonical"  # entity resolution's cluster property (``api/golden.py``)


def _field_map(ontology: Ontology, node_type: NodeType) -> dict[str, _Reads]:
    """Per GraphQL field of ``node_type``'s object (``schema.node_object``), the properties it reads."""
    key = (id(ontology), node_type.name)
    found = _FIELD_MAPS.get(key)
    if found is not None:
        return found
    out: dict[str, _Reads] = {"__typename": (), "id": (), "type": (), "version": ("version",),
                              "updatedAt": ("updated_at",), "canonicalRecord": (_GOLDEN,),
                              "clusterMembers": (_GOLDEN,), "provenance": None, "conflicts": None}
    for rel in ontology.rels_from(node_type.name):
        out[rel_field(rel.name, "out")] = ()
    for rel in ontology.rels_to(node_type.name):
        out[rel_field(rel.name, "in", rel.inverse)] = ()
    for p in node_type.properties:
        out[camel(p.name)] = out[labels_field(p.name)] = (p.name,)
    out["title"] = (node_type.title,)  # the stored value on every record (``objects.title_of``)
    _FIELD_MAPS[key] = out
    return out


def node_columns(selections: Sequence[Selection], ontology: Ontology,
                 types: Collection[str]) -> tuple[str, ...] | None:
    """The properties ``selections`` (made on a node of one of ``types``) read; None: every one."""
    wanted: dict[str, None] = {}

    def visit(sels: Sequence[Selection], among: Collection[str]) -> bool:
        for s in sels:
            if isinstance(s, SelectedField):
                for t in among:
                    reads = _field_map(ontology, ontology.node(t)).get(s.name)
                    if reads is None:
                        return False
                    wanted.update(dict.fromkeys(reads))
            else:
                cond = s.type_condition
                # A fragment on an interface (Node) applies to every type; on a type, to that one.
                inner = among if cond is None or cond not in ontology.node_names else [t for t in among if t == cond]
                if not visit(s.selections, inner):
                    return False
        return True

    if not visit(selections, list(types)):
        return None
    # A record entity resolution made canonical shows values merged from its cluster, ordered by each
    # record's claims: whoever reads such a record reads it whole again (``resolvers.whole_golden``).
    if any(ontology.node(t).has(_GOLDEN) for t in types):
        wanted[_GOLDEN] = None
    return tuple(wanted)


def far_columns(selected: Sequence[Selection], ontology: Ontology,
                types: Collection[str]) -> tuple[str, ...] | None:
    """The properties a relationship field's selection (its ``info.selected_fields``) reads on its
    far nodes (of ``types``); None: every one."""
    node_selections: list[Selection] = []

    def level(sels: Sequence[Selection], node: str, per_item: set[str], nested: str | None) -> bool:
        for s in sels:
            if not isinstance(s, SelectedField):
                if not level(s.selections, node, per_item, nested):  # a fragment on the connection or edge
                    return False
            elif s.name == node:
                node_selections.extend(s.selections)
            elif nested is not None and s.name == nested:
                if not level(s.selections, "node", _PER_EDGE, None):
                    return False
            elif s.name not in per_item:
                return False
        return True

    for field in selected:
        if not isinstance(field, SelectedField) or not level(field.selections, "nodes", _PER_PAGE, "edges"):
            return None
    return node_columns(node_selections, ontology, types)


__all__ = ["asks_for", "far_columns", "far_types", "node_columns"]
