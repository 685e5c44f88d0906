"""What a field's selection asks for (strawberry's ``info.selected_fields``), so the store is asked no more.

- ``asks_for(info, "totalCount")``: is a field selected on the object this resolver returns? A
  list field counts its matches only when the count is read.
- ``far_types(info.selected_fields, candidates, node_types)``: when every node a relationship field returns is read
  only through fragments on concrete types (``edges { node { ... on Enterprise { name } } }``), those
  types: the field then lists only edges to them (the others would come back as empty objects), and
  the store query reaches one far-end type instead of all of them. None when anything else is read
  per edge or per node (``properties``, ``id``, a fragment on the ``Node`` interface, a directive
  that could drop a fragment …): every edge is listed as before.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

# Connection fields that read nothing per edge (``hasMore`` then tells of edges to the chosen types).
_PER_CONNECTION = {"__typename", "hasMore"}
_NODE_UNDER = {"edges": "node", "nodes": None}  # connection field -> the field under it that is the node


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


__all__ = ["asks_for", "far_types"]
