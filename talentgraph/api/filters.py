"""``where`` / ``orderBy`` / ``first`` arguments → ``types.Filter`` / ``SortKey`` / a checked page size.

Pure functions over plain dicts keyed by GraphQL names (``latinName``, ``startsWith``, ``AND``),
so the typed per-type inputs (converted by ``inputs.to_plain``) and the untyped JSON ``where`` of
``facetCounts`` go through the same compiler and the same checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from talentgraph.access.policy import Grant, RoleView
from talentgraph.api.naming import camel
from talentgraph.errors import BadQueryError, OntologyError, ValidationError
from talentgraph.schema.ontology import NodeType, Property, PropType, RelType
from talentgraph.schema.vocabularies import vocabulary
from talentgraph.types import And, Cmp, CmpOp, Filter, Not, Or, SortKey

FieldSpec = Mapping[str, Property]
"""GraphQL field name → the ontology property it filters on."""

# GraphQL operator name → port operator. ``isNull`` is handled apart (its value is a switch).
OPERATORS: dict[str, CmpOp] = {
    "eq": "eq",
    "ne": "ne",
    "in": "in",
    "contains": "contains",
    "startsWith": "starts_with",
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
}

_ORDERED = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "isNull")
# Which operators each property type accepts. On lists, ``contains`` means "has this element" and
# ``in`` means "shares any element with" (the graph port's list semantics).
OPS_BY_TYPE: dict[PropType, tuple[str, ...]] = {
    PropType.STRING: ("eq", "ne", "in", "contains", "startsWith", "gt", "gte", "lt", "lte", "isNull"),
    PropType.INT: _ORDERED,
    PropType.FLOAT: _ORDERED,
    PropType.DATE: _ORDERED,
    PropType.BOOL: ("eq", "ne", "isNull"),
    PropType.STRING_LIST: ("contains", "in", "isNull"),
}

LOGICAL = ("AND", "OR", "NOT")


# --- which fields a where/orderBy may name ----------------------------------------------------------


def node_fields(node_type: NodeType, view: RoleView) -> dict[str, Property]:
    """The fields a role may read, filter on and (``sortable_fields``) sort by: the policy decides."""
    return {camel(p.name): p for p in view.props(node_type.properties)}


def scoped_fields(fields: FieldSpec, view: RoleView) -> frozenset[str]:
    """Properties among ``fields`` the role reads only inside its area scope (filters get guarded)."""
    return frozenset(p.name for p in fields.values() if view.grant(p) is Grant.IN_SCOPE)


def common_fields(node_types: Iterable[NodeType], view: RoleView) -> dict[str, Property]:
    """Fields every one of ``node_types`` has with the same type: what a filter on a mixed end may use."""
    specs = [node_fields(t, view) for t in node_types]
    if not specs:
        return {}
    first, rest = specs[0], specs[1:]
    return {k: p for k, p in first.items() if all(k in s and s[k].type is p.type for s in rest)}


def rel_fields(rel: RelType, view: RoleView) -> dict[str, Property]:
    return {camel(p.name): p for p in view.props(rel.properties)}


def sortable_fields(node_type: NodeType, view: RoleView) -> dict[str, Property]:
    # Only fields read everywhere: sorting all rows by a value hidden on some of them would leak its order.
    return {k: p for k, p in node_fields(node_type, view).items() if p.sortable and view.grant(p) is Grant.ALWAYS}


# --- compiling --------------------------------------------------------------------------------------


def compile_where(fields: FieldSpec, where: Mapping[str, Any] | None, *, owner: str) -> Filter | None:
    """A where dict → a Filter (None when it constrains nothing).

    ``owner`` names the input in errors (``PersonWhere``). Values are checked against the property
    type here too, because the JSON ``where`` of ``facetCounts`` skips GraphQL's own checks.
    """
    if where is None:
        return None
    if not isinstance(where, Mapping):
        raise BadQueryError(f"{owner}: expected an object, got {where!r}.",
                            hint='Write e.g. {name: {startsWith: "王"}}.')
    parts: list[Filter] = []
    for key, value in where.items():
        if value is None:
            continue
        if key == "AND" or key == "OR":
            items = _as_list(value, f"{owner}.{key}")
            compiled = [f for f in (compile_where(fields, item, owner=owner) for item in items) if f is not None]
            if key == "OR" and items and len(compiled) < len(items):
                # An empty alternative matches everything, so the whole OR does.
                continue
            if key == "OR" and not items:
                raise BadQueryError(f"{owner}.OR is an empty list, which no node can satisfy.",
                                    hint="Give at least one alternative or leave OR out.")
            if compiled:
                parts.append(compiled[0] if len(compiled) == 1 else (And if key == "AND" else Or)(tuple(compiled)))
        elif key == "NOT":
            inner = compile_where(fields, value, owner=owner)
            if inner is not None:
                parts.append(Not(inner))
        else:
            prop = fields.get(key)
            if prop is None:
                raise OntologyError(
                    f"{owner} has no field {key!r}.",
                    hint=f"Filterable fields: {', '.join(sorted(fields)) or '(none)'}; combine with AND, OR, NOT.",
                )
            parts.extend(_compile_field(prop, key, value, owner))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _compile_field(prop: Property, key: str, ops: Any, owner: str) -> list[Filter]:
    if not isinstance(ops, Mapping):
        raise BadQueryError(f"{owner}.{key}: expected an operator object, got {ops!r}.",
                            hint=f"Write e.g. {{{key}: {{eq: …}}}}; operators: {', '.join(OPS_BY_TYPE[prop.type])}.")
    allowed = OPS_BY_TYPE[prop.type]
    out: list[Filter] = []
    for op, value in ops.items():
        if value is None:
            continue
        if op not in allowed:
            raise BadQueryError(f"{owner}.{key}: operator {op!r} does not apply to a {prop.type} field.",
                                hint=f"Use one of {', '.join(allowed)}.")
        if op == "isNull":
            if not isinstance(value, bool):
                raise ValidationError(f"{owner}.{key}.isNull", value, "true or false")
            test = Cmp(prop.name, "is_null", True)
            out.append(test if value else Not(test))
        elif op == "in":
            values = _as_list(value, f"{owner}.{key}.in")
            out.append(Cmp(prop.name, "in", tuple(_term(prop, _check_scalar(prop, v, f"{owner}.{key}.in"),
                                                        f"{owner}.{key}.in") for v in values)))
        else:
            checked = _check_scalar(prop, value, f"{owner}.{key}.{op}")
            out.append(Cmp(prop.name, OPERATORS[op], _term(prop, checked, f"{owner}.{key}.{op}")
                           if op in _TERM_OPS else checked))
    return out


# Operators whose value is a whole value of the property: on a vocabulary field it is read as any
# label of a term (俄语, Russian, ru), as ingest reads a register. startsWith and the ordering
# operators compare the stored ids as text.
_TERM_OPS = frozenset({"eq", "ne", "contains"})


def _term(prop: Property, value: Any, where: str) -> Any:
    """The term id a filter value names on a vocabulary field; BAD_QUERY with close terms if none."""
    if prop.vocabulary is None or not isinstance(value, str):
        return value
    vocab = vocabulary(prop.vocabulary)
    term = vocab.lookup(value)
    if term is not None:
        return term.id
    close = vocab.suggest(value)
    raise BadQueryError(
        f"{where}: {value!r} is not in the {prop.vocabulary!r} vocabulary, so no node can match.",
        hint=("Did you mean " + ", ".join(f"{t.id} ({t.zh} / {t.en})" for _, t in close) + "? " if close else "")
        + "Use a term id or any of its labels (中文, English or native)"
        + (f"; values not yet in the vocabulary are searchable in {camel(prop.unreviewed)}." if prop.unreviewed else "."),
    )


def _check_scalar(prop: Property, value: Any, where: str) -> Any:
    kind = PropType.STRING if prop.type is PropType.STRING_LIST else prop.type
    ok = {
        PropType.STRING: isinstance(value, str),
        PropType.DATE: isinstance(value, str),
        PropType.INT: isinstance(value, int) and not isinstance(value, bool),
        PropType.FLOAT: isinstance(value, (int, float)) and not isinstance(value, bool),
        PropType.BOOL: isinstance(value, bool),
    }[kind]
    if not ok:
        raise ValidationError(where, value, f"a {kind} value")
    return value


def _as_list(value: Any, where: str) -> Sequence[Any]:
    if isinstance(value, (list, tuple)):
        return value
    raise ValidationError(where, value, "a list")


def compile_sort(fields: FieldSpec, order_by: Sequence[Mapping[str, Any]] | None, *, owner: str) -> tuple[SortKey, ...]:
    """``[{field: "name", direction: "DESC"}]`` (field as the ontology name or GraphQL name) → SortKeys."""
    keys: list[SortKey] = []
    by_prop = {p.name: p for p in fields.values()}
    for item in order_by or ():
        name = item.get("field")
        prop = fields.get(name) if isinstance(name, str) else None
        prop = prop or (by_prop.get(name) if isinstance(name, str) else None)
        if prop is None or not prop.sortable:
            raise OntologyError(
                f"{owner}: cannot sort by {name!r}.",
                hint=f"Sortable fields: {', '.join(sorted(k for k, p in fields.items() if p.sortable)) or '(none)'}.",
            )
        direction = str(item.get("direction") or "ASC").upper()
        if direction not in ("ASC", "DESC"):
            raise ValidationError(f"{owner}.direction", item.get("direction"), "ASC or DESC")
        keys.append(SortKey(prop.name, descending=direction == "DESC"))
    return tuple(keys)


def check_first(first: int, max_page_size: int, *, argument: str = "first") -> int:
    """Reject (never clamp) a page size outside 0..max_page_size so a client learns the limit."""
    if first < 0 or first > max_page_size:
        raise BadQueryError(
            f"{argument}: {first} is outside 0..{max_page_size}.",
            hint=f"Ask for at most {max_page_size} items and page on with `after`; the limit is the "
            "max_page_size setting (TALENTGRAPH_MAX_PAGE_SIZE).",
        )
    return first
