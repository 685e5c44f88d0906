"""One store statement per root field: the relationship fields selected under it read ahead in one walk.

A root field (``person(id)``, ``node(id)``, ``persons(…)``) reads the document before anything is
resolved: its relationship fields, and theirs below them, become the steps of one
``graph.walk.Walk``, each with exactly the store arguments the field's resolver will compute
(``resolvers.RelField``: filters through the role's guard, edge filters, ``first + 1``, the far-end
types of the role's view narrowed to the selection's fragments). The walk's answer primes the
DataLoaders under those same keys, so the resolvers then run as before — scope checks, masking and
the access record stay where they are — and find every edge already loaded.

Nothing here decides what a caller sees: a step whose key the resolver does not ask for is simply
unused (the resolver asks the store itself), so getting a key wrong costs a statement, never an
answer. What is not read ahead (left to the loaders): fields under ``@skip``/``@include`` (the
whole walk then), relationships read in scope only (staff's ``livesIn``: per parent), arguments
the resolver rejects, levels below ``walk.MAX_DEPTH`` and ``totalCount`` (one more statement, as
before).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    Node,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types import Info
from strawberry.types.nodes import convert_selections

from talentgraph.api import selection
from talentgraph.api.context import ApiContext, run_sync
from talentgraph.api.filters import check_first
from talentgraph.api.resolvers import PageWalk, RelField, whole_golden
from talentgraph.errors import OntologyError, TalentgraphError
from talentgraph.graph.walk import MAX_DEPTH, PageRoot, Step, Walk, WalkResult, far_types
from talentgraph.types import Page

RelFields = Mapping[tuple[str, str], RelField]  # (object type, GraphQL field) -> the relationship field
Fields = dict[str, list[FieldNode]]  # response key -> the field nodes merged under it


class _Unsupported(Exception):
    """The selection uses something a walk does not read ahead; the loaders answer instead."""


@dataclass(frozen=True)
class _Planned:
    """A step and the DataLoader it fills (the arguments ``rel_page`` asks ``Loaders.edges`` with)."""

    step: Step
    spec: RelField


async def node_walk(ctx: ApiContext, info: Info | GraphQLResolveInfo[Any], specs: RelFields, node_id: str,
                    type_name: str | None = None) -> WalkResult | None:
    """Read one node and the relationship fields selected under it in one statement, into the loaders.

    The answer's ``node`` is the root for the resolver (``resolvers.get_node(walked=…)``): it carries
    only the columns the selection reads, so it primes the node loader only when it is whole. None
    (nothing read) when the node's field would not read it (another type, rows the role may not read,
    a malformed id: the resolver answers or raises as before) or when nothing is selected under it.
    """
    if not ctx.graph.capabilities.walks:
        return None
    try:
        node_type = ctx.ontology.type_of_id(node_id).name
    except OntologyError:
        return None
    if (type_name is not None and node_type != type_name) or not ctx.view.rows(node_type):
        return None
    raw = _raw(info)
    runtime = raw.schema.get_type(node_type)
    if not isinstance(runtime, GraphQLObjectType):
        return None
    key = _plan_key(ctx, raw, node_type)
    remembered = _remembered(key, raw)
    if remembered is not None:
        top, planned, columns = remembered
    else:
        top, planned = await _plan(ctx, raw, specs, runtime, [n.selection_set for n in raw.field_nodes])
        columns = selection.node_columns(
            [s for f in convert_selections(raw, raw.field_nodes) for s in f.selections], ctx.ontology, [node_type])
        if key is not None and all(p.step.where is None for p in planned):
            _remember(key, raw, (top, planned, columns))
    if not top:
        return None
    result: WalkResult = await run_sync(ctx.graph.walk, Walk(top, node_id=node_id, root_props=columns))
    if columns is None:
        ctx.loaders.node.prime(node_id, result.node)
    elif result.node is not None:
        result.node = (await whole_golden(ctx, [result.node])).get(node_id, result.node)
    _prime(ctx, planned, result)
    return result


def page_walker(ctx: ApiContext, info: Info, specs: RelFields) -> PageWalk:
    """What a list field hands ``resolvers.list_nodes``: its page and the fields selected under its nodes."""

    async def walk(root: PageRoot) -> Page | None:
        if not ctx.graph.capabilities.walks:
            return None
        raw = _raw(info)
        runtime = raw.schema.get_type(root.type_name)
        conn = get_named_type(raw.return_type)
        if not isinstance(runtime, GraphQLObjectType) or not isinstance(conn, GraphQLObjectType):
            return None
        # The root's own arguments (filter, order, first, after) are the page's, not the plan's: remembered by
        # the selection under its nodes alone.
        key = _plan_key(ctx, raw, f"page {root.type_name}")
        remembered = _remembered(key, raw)
        if remembered is not None:
            top, planned, columns = remembered
        else:
            try:
                nodes = _node_selections(raw, conn, raw.field_nodes)
            except _Unsupported:
                return None
            top, planned = await _plan(ctx, raw, specs, runtime, nodes)
            columns = selection.far_columns(convert_selections(raw, raw.field_nodes), ctx.ontology, [root.type_name])
            if key is not None and all(p.step.where is None for p in planned):
                _remember(key, raw, (top, planned, columns))
        if not top:
            return None
        if columns is not None:  # the cursors are made of the sort keys' values
            columns = (*columns, *(k.field for k in root.sort))
        result: WalkResult = await run_sync(ctx.graph.walk, Walk(top, page=root, root_props=columns))
        _prime(ctx, planned, result)
        if columns is None or result.page is None:
            return result.page
        whole = await whole_golden(ctx, result.page.items)
        return replace(result.page, items=[whole.get(n.id, n) for n in result.page.items]) if whole else result.page

    return walk


# --- plans remembered -----------------------------------------------------------------------------
#
# A client sends the same document again and again with other ids or pages (a profile page, a list, the
# bench's 2-hop): the plan of a root field — its steps, their loaders, the root's columns — is the same each time
# (0.5-0.7 ms to work out). It depends on the role's schema, the field's nodes in the (parse-cached)
# document, the values of the variables its selection reads and the page size limit; and on the caller
# only through a ``where`` guarded by their areas, so plans with a ``where`` on any step are never kept.
# Keyed by identity: the entry holds the schema and the field nodes, so their ids are not reused while
# it is here. (Nothing here decides what a caller sees — see the module docstring — so a plan that is not
# reused costs a statement, never an answer.)

PLAN_CACHE = 256
_Plan = tuple[tuple[Step, ...], list[_Planned], tuple[str, ...] | None]
_PLANS: OrderedDict[tuple[Any, ...], tuple[GraphQLSchema, tuple[FieldNode, ...], _Plan]] = OrderedDict()
_READS: dict[tuple[int, ...], tuple[tuple[FieldNode, ...], tuple[str, ...]]] = {}


def _plan_key(ctx: ApiContext, raw: GraphQLResolveInfo[Any], node_type: str) -> tuple[Any, ...] | None:
    nodes = tuple(raw.field_nodes)
    ids = tuple(map(id, nodes))
    found = _READS.get(ids)
    if found is None or len(found[0]) != len(nodes) or any(a is not b for a, b in zip(found[0], nodes)):
        if len(_READS) >= PLAN_CACHE:
            _READS.clear()
        found = _READS[ids] = (nodes, _variables_read(raw, nodes))
    coerced = _variables(raw).coerced
    try:
        values = tuple((name, repr(coerced.get(name))) for name in found[1])
    except Exception:  # noqa: BLE001 - a value without a stable repr: worked out afresh
        return None
    return (id(raw.schema), ids, node_type, ctx.max_page_size, values)


def _variables_read(raw: GraphQLResolveInfo[Any], nodes: Sequence[FieldNode]) -> tuple[str, ...]:
    """The variables used under the fields' selections (fragments followed once each)."""
    names: set[str] = set()
    seen: set[str] = set()
    stack: list[Any] = [n.selection_set for n in nodes]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if isinstance(node, VariableNode):
            names.add(node.name.value)
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
            seen.add(node.name.value)
            fragment = raw.fragments.get(node.name.value)
            if fragment is not None:
                stack.append(fragment)
        if isinstance(node, Node):
            for attr in node.keys:
                value = getattr(node, attr, None)
                if isinstance(value, (list, tuple)):
                    stack.extend(v for v in value if isinstance(v, Node))
                elif isinstance(value, Node):
                    stack.append(value)
    return tuple(sorted(names))


def _remembered(key: tuple[Any, ...] | None, raw: GraphQLResolveInfo[Any]) -> _Plan | None:
    if key is None:
        return None
    found = _PLANS.get(key)
    if found is None or found[0] is not raw.schema or len(found[1]) != len(raw.field_nodes) \
            or any(a is not b for a, b in zip(found[1], raw.field_nodes)):
        return None
    _PLANS.move_to_end(key)
    return found[2]


def _remember(key: tuple[Any, ...], raw: GraphQLResolveInfo[Any], plan: _Plan) -> None:
    _PLANS[key] = (raw.schema, tuple(raw.field_nodes), plan)
    if len(_PLANS) > PLAN_CACHE:
        _PLANS.popitem(last=False)


# --- the plan -----------------------------------------------------------------------------------


def _raw(info: Info | GraphQLResolveInfo[Any]) -> GraphQLResolveInfo[Any]:
    """graphql-core's resolve info (a fast resolver is given it as it is; strawberry keeps it in its ``Info``)."""
    return info._raw_info if isinstance(info, Info) else info


def _variables(raw: GraphQLResolveInfo[Any]) -> VariableValues:
    """The operation's variables as graphql-core's argument coercion takes them (strawberry's
    executor keeps the plain coerced dict)."""
    values: Any = raw.variable_values
    return values if isinstance(values, VariableValues) else VariableValues(sources={}, coerced=dict(values))


async def _plan(ctx: ApiContext, raw: GraphQLResolveInfo[Any], specs: RelFields, runtime: GraphQLObjectType,
                selections: Sequence[SelectionSetNode | None]) -> tuple[tuple[Step, ...], list[_Planned]]:
    """The steps taken from a node of ``runtime`` read through ``selections``, and every step below
    them with its loader; nothing when none (or the selection uses what a walk does not read ahead)."""
    planned: list[_Planned] = []
    try:
        top = await _steps(ctx, raw, specs, runtime, selections, planned)
    except _Unsupported:
        return (), []
    return tuple(top), planned


async def _steps(ctx: ApiContext, raw: GraphQLResolveInfo[Any], specs: RelFields, runtime: GraphQLObjectType,
                 selections: Sequence[SelectionSetNode | None], planned: list[_Planned], level: int = 1) -> list[Step]:
    """The steps taken from a node of ``runtime``: one per relationship field selected on it (none
    below ``MAX_DEPTH``: those fields ask their loaders, one statement per level)."""
    out: list[Step] = []
    if level > MAX_DEPTH:
        return out
    for nodes in _collect(raw.schema, raw, runtime, selections).values():
        name = nodes[0].name.value
        spec = specs.get((runtime.name, name))
        if spec is None or spec.scoped:
            continue  # not a relationship field, or one read in scope per parent: its loader asks
        field_def = runtime.fields[name]
        args = get_argument_values(field_def, nodes[0], _variables(raw))
        first = args.get("first")
        try:
            if not isinstance(first, int):
                continue
            check_first(first, ctx.max_page_size)
            where = await spec.where_filter(ctx, _plain(args.get("where")))
            edge_where = spec.edge_filter(_plain(args.get("edgeWhere")))
        except TalentgraphError:
            continue  # the resolver raises it, with the path of the field
        selected = convert_selections(raw, nodes)
        other_types = spec.far_types(selected)
        conn = get_named_type(field_def.type)
        if not isinstance(conn, GraphQLObjectType):
            continue
        below = _node_selections(raw, conn, nodes)
        slot = len(planned)
        planned.append(None)  # type: ignore[arg-type]  # this step's place, depth first
        children: list[Step] = []
        reachable = far_types(ctx.ontology.rel(spec.rel_type), spec.direction, [runtime.name])
        for far in reachable:
            far_object = raw.schema.get_type(far)
            if (other_types is not None and far not in other_types) or not isinstance(far_object, GraphQLObjectType):
                continue
            children += await _steps(ctx, raw, specs, far_object, below, planned, level + 1)
        step = Step(name=str(slot), rel_type=spec.rel_type, direction=spec.direction, parent_types=(runtime.name,),
                    where=where, edge_where=edge_where, limit=first + 1, other_types=other_types,
                    steps=tuple(children), node_props=spec.far_props(ctx, selected))
        planned[slot] = _Planned(step, spec)
        out.append(step)
    return out


def _prime(ctx: ApiContext, planned: Sequence[_Planned], result: WalkResult) -> None:
    """Each step's edges into the loader its field's resolver will ask (the key ``rel_page`` makes)."""
    for p in planned:
        s = p.step
        loader = ctx.loaders.edges(s.rel_type, s.direction, where=s.where, edge_where=s.edge_where,
                                   limit_per_node=s.limit, other_types=s.other_types, far_props=s.node_props)
        for parent, edges in result.edges.get(s.name, {}).items():
            loader.prime(parent, edges)


# --- the document -------------------------------------------------------------------------------


def _collect(schema: GraphQLSchema, raw: GraphQLResolveInfo[Any], runtime: GraphQLObjectType,
             selections: Sequence[SelectionSetNode | None]) -> Fields:
    """The fields selected on an object of ``runtime`` by its response key, fragments applied as
    graphql-core's executor applies them. A directive anywhere: ``_Unsupported``."""
    out: Fields = {}

    def visit(selection_set: SelectionSetNode | None) -> None:
        for sel in selection_set.selections if selection_set else ():
            if sel.directives:
                raise _Unsupported(sel)
            if isinstance(sel, FieldNode):
                out.setdefault((sel.alias or sel.name).value, []).append(sel)
            elif isinstance(sel, InlineFragmentNode):
                if _applies(schema, sel.type_condition.name.value if sel.type_condition else None, runtime):
                    visit(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode):
                fragment = raw.fragments[sel.name.value]
                if fragment.directives:
                    raise _Unsupported(fragment)
                if _applies(schema, fragment.type_condition.name.value, runtime):
                    visit(fragment.selection_set)

    for s in selections:
        visit(s)
    return out


def _applies(schema: GraphQLSchema, condition: str | None, runtime: GraphQLObjectType) -> bool:
    if condition is None or condition == runtime.name:
        return True
    t = schema.get_type(condition)
    return t is not None and is_abstract_type(t) and schema.is_sub_type(t, runtime)


def _node_selections(raw: GraphQLResolveInfo[Any], conn: GraphQLObjectType,
                     fields: Sequence[FieldNode]) -> list[SelectionSetNode | None]:
    """The selection sets read on the nodes of a connection: ``edges { node { … } }`` and ``nodes { … }``."""
    out: list[SelectionSetNode | None] = []
    for key_nodes in _collect(raw.schema, raw, conn, [f.selection_set for f in fields]).values():
        name = key_nodes[0].name.value
        if name == "nodes":
            out += [n.selection_set for n in key_nodes]
        elif name == "edges":
            edge = get_named_type(conn.fields[name].type)
            if not isinstance(edge, GraphQLObjectType):
                raise _Unsupported(edge)
            for inner in _collect(raw.schema, raw, edge, [n.selection_set for n in key_nodes]).values():
                if inner[0].name.value == "node":
                    out += [n.selection_set for n in inner]
    return out


def _plain(value: Any) -> Any:
    """A coerced argument value as ``inputs.to_plain`` makes the resolver's: unset fields left out."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


__all__ = ["node_walk", "page_walker"]
