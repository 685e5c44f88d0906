"""Build the GraphQL schema from an ``Ontology`` at start-up: no per-type class is written by hand.

Per node type ``T`` (names in ``naming.py``):
- object ``T`` implementing ``Node``: one field per exposed property (``exposure.exposed``),
  ``<field>Labels`` for vocabulary-backed ones, ``version``/``updatedAt``/``provenance``/``conflicts``
  (per property, masked like the values: ``api/provenance.py``), and one field per relationship end
  (``memberOf``, ``memberOfIn`` …) returning a connection of edges ``{type node properties fromId toId}``
  with ``where`` (other node), ``edgeWhere`` and ``first``; when the other end can be several types
  the edge's node is the ``Node`` interface;
- on a type entity resolution clusters (it has ``canonical``: ``api/golden.py``): values of a
  canonical record are its golden record, ``canonicalRecord`` names a record's stand-in and
  ``clusterMembers`` lists the cluster with its SAME_AS evidence (roles that read SAME_AS);
- inputs ``TWhere`` (per-field operator objects + AND/OR/NOT) and ``TOrderBy``/``TSortField``;
- queries ``t(id)`` and ``ts(where, orderBy, first, after)`` → ``TConnection`` (clustered types:
  one record per cluster unless ``allRecords: true``).
Plus ``node``, ``search``, ``path``, ``neighbourhood`` and ``facetCounts``.

Generated classes live in a module object of their own, so string annotations (needed because the
types refer to each other in cycles) resolve there, and two schemas built from two ontologies
(the sync test) never see each other's classes.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import replace
import sys
import threading
import types as pytypes
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from operator import attrgetter
from typing import Annotated, Any, Optional

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from talentgraph.access.policy import POLICY, Grant, Policy, RoleView
from talentgraph.api import golden
from talentgraph.api import provenance as api_provenance
from talentgraph.api import area_stats as api_area_stats
from talentgraph.api import prefetch, resolvers, selection
from talentgraph.api.audit_trail import AuditTrail
from talentgraph.api.errors import ErrorShape, TalentgraphSchema
from talentgraph.api.execution import SLOW, PlainDataExecutor, direct_resolvers, fast_resolver, plain_getter
from talentgraph.api.filters import (
    OPS_BY_TYPE,
    common_fields,
    compile_where,
    node_fields,
    rel_fields,
    scoped_fields,
    sortable_fields,
)
from talentgraph.api.inputs import to_plain
from talentgraph.api.labels import vocab_labels
from talentgraph.api.limits import QueryLimits, QueryLimitsExtension
from talentgraph.api.naming import camel, constant, labels_field, pascal, plural, rel_field, single
from talentgraph.api.objects import (
    FacetCount,
    GraphPath,
    Neighbourhood,
    NodeInterface,
    Conflict,
    PageInfo,
    Provenance,
    SearchFilter,
    SameAsLink,
    SearchResult,
    SortDirection,
    VocabLabel,
    AuditRecord,
    ChangeEvent,
    ChangePage,
)
from talentgraph.errors import OntologyError
from talentgraph.graph.port import MAX_PATH_HOPS
from talentgraph.schema.ontology import ONTOLOGY, NodeType, Ontology, Property, PropType, RelType
from talentgraph.types import Direction, Edge, Node

# Limits on documents and argument values (depth, aliases, cost, list sizes …) live in ``limits.py``.
DEFAULT_FIRST = 20
DEFAULT_REL_FIRST = 20

_SCALARS: dict[PropType, str] = {
    PropType.STRING: "str",
    PropType.INT: "int",
    PropType.FLOAT: "float",
    PropType.BOOL: "bool",
    PropType.DATE: "str",  # ISO-8601 "YYYY-MM-DD", as stored; compares correctly as text
    PropType.STRING_LIST: "list[str]",
}
# Python attribute (left) and GraphQL name (right) of each operator input field.
_OP_NAMES = {"eq": "eq", "ne": "ne", "in_": "in", "contains": "contains", "starts_with": "startsWith", "gt": "gt",
             "gte": "gte", "lt": "lt", "lte": "lte", "is_null": "isNull"}
_RESERVED = {"id", "type", "title", "version", "updatedAt", "provenance", "conflicts", "canonicalRecord",
             "clusterMembers"}

_builds = itertools.count()


# Built schemas by (ontology, role, policy, limits): a schema holds no per-app state (the context is
# per request), and building one takes 0.4–0.8 s, so every app of a process (a test suite's many, the
# demo's server after its start-up warmed them) shares it. Keyed by identity; the entry keeps the
# ontology and policy alive so their ids are not reused.
_BUILT: dict[tuple[int, str, int, QueryLimits], tuple[Ontology, Policy, strawberry.Schema]] = {}
_BUILDING = threading.Lock()
BUILT_SCHEMAS = 64


def build_schema(
    ontology: Ontology = ONTOLOGY,
    *,
    role: str = "admin",
    policy: Policy = POLICY,
    limits: QueryLimits = QueryLimits(),
) -> strawberry.Schema:
    """The schema of ``ontology`` as ``role`` sees it, with ``limits`` checked on every document (built once
    per process for each such combination).

    ``QueryLimitsExtension`` replaces strawberry's QueryDepthLimiter, MaxAliasesLimiter,
    MaxTokensLimiter and ValidationCache (their fragment walks are exponential, see ``limits.py``):
    it caches validation per document itself and adds the cost budget and the argument checks.
    """
    key = (id(ontology), role, id(policy), limits)
    with _BUILDING:
        built = _BUILT.get(key)
        if built is None or built[0] is not ontology or built[1] is not policy:
            if len(_BUILT) >= BUILT_SCHEMAS:
                _BUILT.clear()
            built = _BUILT[key] = (ontology, policy, _build_schema(ontology, role, policy, limits))
    return built[2]


def _build_schema(ontology: Ontology, role: str, policy: Policy, limits: QueryLimits) -> strawberry.Schema:
    # One schema per role (Hasura's model): a field the role may not read does not exist for it, so
    # neither introspection nor a filter, sort key or fragment can reach it.
    view = replace(policy, ontology=ontology).view(role)
    query = _Builder(ontology, view).query()
    # (ParserCache is left out: a syntax error raised inside it escapes the error shaping.)
    schema = TalentgraphSchema(
        query=query,
        types=[],
        extensions=[
            # Factories, not instances: strawberry builds a fresh extension per request.
            ErrorShape,
            AuditTrail,
            lambda: QueryLimitsExtension(limits=limits),
        ],
        # Plain-data selections (a search's hits and facet values) completed in one pass (execution.py).
        execution_context_class=PlainDataExecutor,
    )
    direct_resolvers(schema._schema)  # fields read off their parent skip strawberry's wrapper (execution.py)
    return schema


def _context(info: Info) -> Any:
    return info.context


def _itself(root: Any) -> Any:
    return root


class _Builder:
    def __init__(self, ontology: Ontology, view: RoleView) -> None:
        self.o = ontology
        self.view = view
        self.mod = pytypes.ModuleType(f"talentgraph.api._generated_{next(_builds)}")
        sys.modules[self.mod.__name__] = self.mod
        self.ns = self.mod.__dict__
        self.ns.update(
            Optional=Optional, Any=Any, ID=strawberry.ID, JSON=JSON, Info=Info, Node=NodeInterface,
            PageInfo=PageInfo, Provenance=Provenance, Conflict=Conflict, VocabLabel=VocabLabel, SortDirection=SortDirection,
            SearchResult=SearchResult, SearchFilter=SearchFilter, GraphPath=GraphPath, Neighbourhood=Neighbourhood,
            FacetCount=FacetCount,
        )
        self._made: set[str] = set()
        # (object type, field) -> its relationship field: what the root fields' walks read ahead.
        self.rel_specs: dict[tuple[str, str], resolvers.RelField] = {}

    # --- class factories ------------------------------------------------------------------------

    def _class(self, name: str, attrs: dict[str, Any], annotations: dict[str, str] | None = None,
               bases: tuple[type, ...] = ()) -> type:
        if name in self.ns and name in self._made:
            raise OntologyError(f"Two GraphQL types would be named {name!r}.",
                                hint="Rename a node or relationship type so the derived names differ.")
        self._made.add(name)
        cls = type(name, bases, {"__module__": self.mod.__name__, "__annotations__": annotations or {}, **attrs})
        self.ns[name] = cls
        return cls

    def _object(self, name: str, attrs: dict[str, Any], description: str | None = None,
                bases: tuple[type, ...] = ()) -> type:
        return strawberry.type(self._class(name, attrs, bases=bases), name=name, description=description)

    def _input(self, name: str, fields: dict[str, tuple[str, str, Any]], description: str | None = None) -> type:
        """fields: python name → (graphql name, annotation, default)."""
        annotations = {py: ann for py, (_, ann, _) in fields.items()}
        attrs = {py: strawberry.field(name=gql, default=default) for py, (gql, _, default) in fields.items()}
        return strawberry.input(self._class(name, attrs, annotations), name=name, description=description)

    def _resolver(self, fn: Callable[..., Any], name: str, returns: str,
                  args: Sequence[tuple[str, str, Any]] = ()) -> Callable[..., Any]:
        """Give ``fn(root, info, **kwargs)`` the signature strawberry reads its arguments from."""
        kind = inspect.Parameter.KEYWORD_ONLY
        params = [
            inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info),
            *(inspect.Parameter(py, kind, annotation=ann, default=default) for py, ann, default in args),
        ]
        fn.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
        fn.__annotations__ = {"info": Info, **{py: ann for py, ann, _ in args}, "return": returns}
        fn.__module__ = self.mod.__name__
        fn.__name__ = fn.__qualname__ = name
        return fn

    def _field(self, fn: Callable[..., Any], gql_name: str, returns: str, args: Sequence[tuple[str, str, Any]] = (),
               description: str | None = None) -> Any:
        return strawberry.field(resolver=self._resolver(fn, gql_name, returns, args), name=gql_name,
                                description=description)

    def _reader(self, get: Callable[[Any], Any], gql_name: str, returns: str, description: str | None = None) -> Any:
        """A field whose value is ``get(parent)``: read in the executor's fast path (``execution.py``)."""
        return self._field(plain_getter(get)(lambda root, info: get(root)), gql_name, returns,
                           description=description)

    # --- shared inputs --------------------------------------------------------------------------

    def op_input(self, ptype: PropType) -> str:
        name = pascal(str(ptype)) + "Filter"
        if name not in self.ns:
            scalar = "str" if ptype is PropType.STRING_LIST else _SCALARS[ptype]
            by_gql = {gql: py for py, gql in _OP_NAMES.items()}
            fields = {}
            for op in OPS_BY_TYPE[ptype]:
                ann = "Optional[bool]" if op == "isNull" else f"Optional[list[{scalar}]]" if op == "in" \
                    else f"Optional[{scalar}]"
                fields[by_gql[op]] = (op, ann, None)
            self._input(name, fields, f"Conditions on a {ptype} field; all given conditions must hold.")
        return name

    def where_input(self, name: str, fields: dict[str, Property], description: str) -> str | None:
        """An input with one operator object per field plus AND/OR/NOT; None when there is no field."""
        if not fields:
            return None
        if name not in self.ns:
            spec: dict[str, tuple[str, str, Any]] = {
                p.name: (gql, f"Optional[{self.op_input(p.type)}]", None) for gql, p in fields.items()
            }
            spec["AND"] = ("AND", f"Optional[list[{name}]]", None)
            spec["OR"] = ("OR", f"Optional[list[{name}]]", None)
            spec["NOT"] = ("NOT", f"Optional[{name}]", None)
            self._input(name, spec, description)
        return name

    def node_where(self, t: NodeType) -> str | None:
        return self.where_input(f"{t.name}Where", node_fields(t, self.view), f"Filter on {t.name} properties.")

    def other_where(self, others: Sequence[NodeType]) -> str | None:
        if len(others) == 1:
            return self.node_where(others[0])
        names = sorted(t.name for t in others)
        return self.where_input("Or".join(names) + "Where", common_fields(others, self.view),
                                f"Filter on the properties {', '.join(names)} share.")

    def order_by(self, t: NodeType) -> str | None:
        fields = sortable_fields(t, self.view)
        if not fields:
            return None
        enum_name, input_name = f"{t.name}SortField", f"{t.name}OrderBy"
        if input_name not in self.ns:
            members = {constant(p.name): p.name for p in fields.values()}
            self.ns[enum_name] = strawberry.enum(Enum(enum_name, members),  # type: ignore[call-overload]
                                                 name=enum_name, description=f"Sortable {t.name} properties.")
            self._input(input_name, {
                "field": ("field", enum_name, strawberry.UNSET),
                "direction": ("direction", "Optional[SortDirection]", SortDirection.ASC),
            }, "One sort key; ties are broken by id so pages never overlap.")
        return input_name

    # --- relationships --------------------------------------------------------------------------

    def properties_type(self, rel: RelType) -> str | None:
        props = self.view.props(rel.properties)
        if not props:
            return None
        name = f"{pascal(rel.name)}Properties"
        if name not in self.ns:
            self._object(name, {p.name: self._prop_field(p) for p in props},
                         f"Properties of a {rel.name} relationship.")
        return name

    def rel_connection(self, rel: RelType, other: str) -> str:
        """Connection + edge types for one relationship with ``other`` (a type name or Node) at the far end."""
        edge_name, conn_name = f"{pascal(rel.name)}{other}Edge", f"{pascal(rel.name)}{other}Connection"
        if conn_name in self.ns:
            return conn_name
        attrs: dict[str, Any] = {
            "type": self._reader(attrgetter("type"), "type", "str"),
            "node": self._reader(attrgetter("node"), "node", other, "The node at the other end."),
            "from_id": self._reader(attrgetter("from_id"), "fromId", "ID"),
            "to_id": self._reader(attrgetter("to_id"), "toId", "ID"),
        }
        props = self.properties_type(rel)
        if props:
            attrs["properties"] = self._reader(_itself, "properties", props)
        self._object(edge_name, attrs, f"A {rel.name} relationship seen from one end.")
        self._object(conn_name, {
            "edges": self._reader(attrgetter("edges"), "edges", f"list[{edge_name}]"),
            "nodes": self._reader(lambda root: [e.node for e in root.edges], "nodes", f"list[{other}]"),
            "has_more": self._reader(attrgetter("has_more"), "hasMore", "bool",
                                     "More relationships exist beyond `first`."),
        }, f"{rel.name} relationships of one node.")
        return conn_name

    def rel_field(self, t: NodeType, rel: RelType, direction: Direction) -> Any:
        """The field for one relationship end, or None when the role may traverse none of its pairs."""
        pairs = self.view.rel_endpoints(rel)
        ends = [b for a, b in pairs if a == t.name] if direction == "out" else [a for a, b in pairs if b == t.name]
        if not ends:
            return None
        others = [self.o.node(n) for n in dict.fromkeys(ends)]
        all_ends = [b for a, b in rel.endpoints if a == t.name] if direction == "out" else \
            [a for a, b in rel.endpoints if b == t.name]
        # Far-end types the role may not see are kept out inside the store query.
        other_types = None if set(all_ends) == set(ends) else tuple(n.name for n in others)
        other = others[0].name if len(others) == 1 else "Node"
        conn = self.rel_connection(rel, other)
        where_name = self.other_where(others)
        where_fields = node_fields(others[0], self.view) if len(others) == 1 else common_fields(others, self.view)
        guarded = scoped_fields(where_fields, self.view)
        far_type = others[0].name if len(others) == 1 else None
        edge_where_name = self.where_input(f"{pascal(rel.name)}EdgeWhere", rel_fields(rel, self.view),
                                           f"Filter on {rel.name} properties.")
        edge_fields = rel_fields(rel, self.view)
        args: list[tuple[str, str, Any]] = []
        if where_name:
            args.append(("where", f"Optional[{where_name}]", None))
        if edge_where_name:
            args.append(("edge_where", f"Optional[{edge_where_name}]", None))
        args.append(("first", "int", DEFAULT_REL_FIRST))
        spec = resolvers.RelField(
            rel_type=rel.name, direction=direction, where_fields=where_fields, where_owner=where_name or "",
            guarded=guarded, far_type=far_type, edge_fields=edge_fields, edge_owner=edge_where_name or "",
            scoped=self.view.rel_grant(rel) is Grant.IN_SCOPE,
            # A selection reading nodes only through fragments on some far-end types asks only for those.
            visible_ends=tuple(n.name for n in others), node_names=frozenset(self.o.node_names),
            other_types=other_types)
        self.rel_specs[(t.name, rel_field(rel.name, direction, rel.inverse))] = spec

        def asked(ctx: Any, info: Info) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
            return selection.asked_of(spec, info._raw_info, ctx.ontology)

        # The walked case without strawberry's wrapper (``execution.fast_resolver``): nothing given but ``first``
        # (graphql-core's argument values, by GraphQL name), no scope to ask, the loader already holding the edges.
        def fast(root: Node, info: Any, args: dict[str, Any]) -> Any:
            if spec.scoped or any(value is not None for name, value in args.items() if name != "first"):
                return SLOW
            ctx = info.context
            other_types, far_props = selection.asked_of(spec, info, ctx.ontology)
            first = args.get("first", DEFAULT_REL_FIRST)
            page = resolvers.rel_page_ready(ctx, root, spec.rel_type, spec.direction, where=None,
                                            edge_where=spec.edge_filter(None), first=first,
                                            other_types=other_types, far_props=far_props)
            return SLOW if page is None else page

        @fast_resolver(fast)
        def resolve(root: Node, info: Info, where: Any = None, edge_where: Any = None,
                    first: int = DEFAULT_REL_FIRST) -> resolvers.RelPage | Awaitable[resolvers.RelPage]:
            if where is None and not spec.scoped:  # no filter to guard, no scope to ask: maybe nothing to await
                ctx = _context(info)
                other_types, far_props = asked(ctx, info)
                page = resolvers.rel_page_ready(ctx, root, spec.rel_type, spec.direction, where=None,
                                                edge_where=spec.edge_filter(to_plain(edge_where)), first=first,
                                                other_types=other_types, far_props=far_props)
                if page is not None:
                    return page
            return resolve_async(root, info, where, edge_where, first)

        async def resolve_async(root: Node, info: Info, where: Any, edge_where: Any, first: int) -> resolvers.RelPage:
            ctx = _context(info)
            flt = await spec.where_filter(ctx, to_plain(where))
            if spec.scoped:
                if not await ctx.access.parent_in_scope(root):
                    return resolvers.RelPage([], False)
                flt = await ctx.access.scope_far_end(flt, spec.far_type)
            other_types, far_props = asked(ctx, info)
            return await resolvers.rel_page(ctx, root, spec.rel_type, spec.direction, where=flt,
                                            edge_where=spec.edge_filter(to_plain(edge_where)), first=first,
                                            other_types=other_types, far_props=far_props)

        arrow = f"-[{rel.name}]->" if direction == "out" else f"<-[{rel.name}]-"
        narrowing = (" Nodes read only through fragments on some of these types (`node { ... on T { … } }`) list "
                     "only the edges to those types.") if len(others) > 1 else ""
        return self._field(resolve, rel_field(rel.name, direction, rel.inverse), conn, args,
                           f"({t.name}){arrow}({'|'.join(n.name for n in others)}): {rel.description}{narrowing}")

    # --- node types -----------------------------------------------------------------------------

    def _prop_field(self, p: Property, owner: NodeType | None = None) -> Any:
        name = p.name
        grant = self.view.grant(p)

        def iso(v: Any) -> Any:
            # A driver may hand back a date object; the API's dates are ISO strings either way.
            return v.isoformat() if p.type is PropType.DATE and hasattr(v, "isoformat") else v

        def value(root: Any) -> Any:
            return iso(root.props.get(name))

        async def scoped(root: Any, info: Info) -> Any:
            # In scope only: the row decides (staff see personal fields of residents of their areas).
            return value(root) if await _context(info).access.sees(root, grant) else None

        get: Callable[[Any, Info], Any]
        if owner is not None and golden.clustered(owner):
            # Entity resolution: a canonical record shows the golden value, merged after masking. Only
            # that case (and an in-scope grant) awaits; the plain value of any other row is returned
            # as it is (graphql-core awaits what is awaitable), so unresolved rows cost what they did.
            node_type = owner

            async def merged(root: Any, info: Info) -> Any:
                return iso(await golden.value(_context(info), root, node_type, p, grant))

            def plain_any(root: Any) -> Any:
                return SLOW if grant is not Grant.ALWAYS or golden.is_canonical(root) else value(root)

            @plain_getter(plain_any)
            def get_any(root: Any, info: Info) -> Any:
                if golden.is_canonical(root):
                    return merged(root, info)
                return value(root) if grant is Grant.ALWAYS else scoped(root, info)

            get = get_any
        elif grant is Grant.ALWAYS:
            @plain_getter(value)
            def get_value(root: Any, info: Info) -> Any:
                return value(root)

            get = get_value
        else:
            get = scoped
        return self._field(get, camel(p.name), f"Optional[{_SCALARS[p.type]}]", description=p.description)

    def _labels_field(self, p: Property, owner: NodeType) -> Any:
        name, vocab, grant = p.name, p.vocabulary, self.view.grant(p)
        merged = golden.clustered(owner)

        async def get(root: Any, info: Info) -> list[VocabLabel]:
            if merged and golden.is_canonical(root):
                return vocab_labels(str(vocab), await golden.value(_context(info), root, owner, p, grant))
            if grant is not Grant.ALWAYS and not await _context(info).access.sees(root, grant):
                return []
            return vocab_labels(str(vocab), root.props.get(name))

        return self._field(get, labels_field(p.name), "list[VocabLabel]",
                           description=f"Chinese and English labels of {camel(p.name)} ({vocab} vocabulary).")

    def node_object(self, t: NodeType) -> None:
        attrs: dict[str, Any] = {}
        used: dict[str, str] = {}

        def add(py: str, gql: str, value: Any, what: str) -> None:
            if gql in used or (gql in _RESERVED and what != "system"):
                raise OntologyError(
                    f"{t.name}: {what} would be exposed as GraphQL field {gql!r}, which "
                    f"{'is taken by ' + used[gql] if gql in used else 'is reserved'}.",
                    hint=f"Rename it; reserved names: {', '.join(sorted(_RESERVED))}.",
                )
            used[gql] = what
            attrs[py] = value

        for p in self.view.props(t.properties):
            if p.name == "title" and t.title == "title":
                continue  # the Node interface's `title` already returns it
            add(p.name, camel(p.name), self._prop_field(p, t), f"property {p.name}")
            if p.vocabulary:
                add(f"{p.name}__labels", labels_field(p.name), self._labels_field(p, t), f"labels of {p.name}")
        add("version", "version", self._reader(lambda root: root.props.get("version"), "version",
                                               "Optional[int]", "Incremented on every change."), "system")
        add("updated_at", "updatedAt", self._reader(lambda root: root.props.get("updated_at"), "updatedAt",
                                                    "Optional[str]", "Last change (ISO-8601 UTC)."), "system")
        prov_grant = self.view.provenance_grant(t)
        if prov_grant is not Grant.NEVER:
            plan = self._provenance_plan(t, prov_grant)

            async def provenance(root: Any, info: Info) -> list[Provenance]:
                return api_provenance.provenance(t, (await plan(root, info))[0])

            async def conflicts(root: Any, info: Info) -> list[Conflict]:
                steps, shown = await plan(root, info)
                return api_provenance.conflicts(t, steps, shown)

            merged = " On a golden record (entity resolution) the members' sources too, each naming its record." \
                if golden.clustered(t) else ""
            add("provenance", "provenance", self._field(
                provenance, "provenance", "list[Provenance]",
                description="Every source's value of every property you can see here, and which one is shown."
                + merged), "system")
            add("conflicts", "conflicts", self._field(
                conflicts, "conflicts", "list[Conflict]",
                description="Properties whose sources disagree: each value with its source; the shown one first."
                + merged), "system")
        if golden.clustered(t):
            self._cluster_fields(t, add)
        for direction, rels in (("out", self.o.rels_from(t.name)), ("in", self.o.rels_to(t.name))):
            for rel in rels:
                gql = rel_field(rel.name, direction, rel.inverse)
                made = self.rel_field(t, rel, direction)  # type: ignore[arg-type]
                if made is not None:
                    add(f"{gql}__rel", gql, made, f"relationship {rel.name} ({direction})")
        type_name = t.name
        attrs["is_type_of"] = staticmethod(lambda obj, info: isinstance(obj, Node) and obj.type == type_name)
        self._object(t.name, attrs, f"{t.label_zh} · {t.description}", bases=(NodeInterface,))

    def _provenance_plan(self, t: NodeType, prov_grant: Grant) -> Callable[
            [Node, Info], Awaitable[tuple[api_provenance.Plan, dict[str, Any] | None]]]:
        """The sources a caller sees on a node, per property: only where it sees the value.

        Two gates, per record: the type's provenance grant (a register's file name tells as much as
        the most sensitive property of the type: ``RoleView.provenance_class``) and each property's
        own grant (identity documents never: their grant is NEVER, so they are not in ``visible``).
        On a golden record every member passes both gates on its own (``golden.py``); the second
        item is then the golden values, for conflicts.
        """
        visible = [(p, self.view.grant(p)) for p in self.view.props(t.properties)]
        merged = golden.clustered(t)

        async def plan(root: Node, info: Info) -> tuple[api_provenance.Plan, dict[str, Any] | None]:
            ctx = _context(info)
            if not (merged and golden.is_canonical(root)):
                if not await ctx.access.sees(root, prov_grant):
                    return [], None
                return api_provenance.single(root, [p for p, g in visible
                                                    if g is Grant.ALWAYS or await ctx.access.sees(root, g)]), None
            records = await golden.cluster(ctx, root)
            gated = {r.id for r, ok in zip(records, await golden.readable(ctx, records, prov_grant)) if ok}
            steps: list[tuple[Property, list[tuple[Node, bool]]]] = []
            shown: dict[str, Any] = {}
            for p, g in visible:
                seen, given = await golden.contributions(ctx, root, t, p, g)
                chosen = {r.id for r in given}
                shown[p.name] = golden.merge(p, given)
                steps.append((p, [(r, r.id in chosen) for r in seen if r.id in gated]))
            return steps, shown

        return plan

    def _cluster_fields(self, t: NodeType, add: Callable[[str, str, Any, str], None]) -> None:
        """``canonicalRecord`` (roles that read ``canonical``) and ``clusterMembers`` (roles that read SAME_AS)."""
        type_name = t.name
        if self.view.shows(t.prop(golden.CANONICAL)):
            async def canonical_record(root: Node, info: Info) -> Node | None:
                ctx = _context(info)
                c = golden.canonical_of(root)
                if c is None or c == root.id:
                    return root if c else None
                found: Node | None = await ctx.loaders.node.load(c)
                ctx.access.returned([found])
                return found

            add("canonical_record", "canonicalRecord", self._field(
                canonical_record, "canonicalRecord", f"Optional[{type_name}]",
                description="Entity resolution: the record that stands for this person in lists and search (itself "
                "on that record, which shows the golden record); null when no other record was resolved to it."),
                "system")
        try:
            same_as = self.o.rel(golden.SAME_AS)
        except OntologyError:
            return
        if (type_name, type_name) not in self.view.rel_endpoints(same_as):
            return
        scoped = self.view.rel_grant(same_as) is Grant.IN_SCOPE
        member_name = f"{type_name}ClusterMember"
        self.ns["SameAsLink"] = SameAsLink
        self._object(member_name, {
            "node": self._field(lambda root, info: root.node, "node", type_name),
            "canonical": self._field(lambda root, info: root.canonical, "canonical", "bool",
                                     description="This record stands for the cluster."),
            "links": self._field(lambda root, info: root.links, "links", "list[SameAsLink]",
                                 description="The SAME_AS pairs (matched or accepted) that tie this record into the "
                                 "cluster, with their probability and per-comparison weights."),
        }, f"One record of a {type_name}'s entity-resolution cluster, with the evidence for it.")

        async def cluster_members(root: Node, info: Info) -> list[resolvers.ClusterMember]:
            return await resolvers.cluster_members(_context(info), root, scoped=scoped)

        add("cluster_members", "clusterMembers", self._field(
            cluster_members, "clusterMembers", f"list[{member_name}]",
            description="Entity resolution: the other records resolved to the same person (records sharing "
            "`canonical`), the canonical one first, then by id, each with the SAME_AS pairs tying it into the "
            "cluster. Empty when the record was not resolved to any other. Pending pairs are in no cluster: see "
            "`sameAs`/`sameAsIn`."), "system")

    def list_connection(self, t: NodeType) -> str:
        edge, conn = f"{t.name}Edge", f"{t.name}Connection"
        self._object(edge, {
            "cursor": self._field(lambda root, info: root.cursor, "cursor", "Optional[str]"),
            "node": self._field(lambda root, info: root.node, "node", t.name),
        })
        self._object(conn, {
            "edges": self._field(lambda root, info: root.edges, "edges", f"list[{edge}]"),
            "nodes": self._field(lambda root, info: root.page.items, "nodes", f"list[{t.name}]"),
            "page_info": self._field(lambda root, info: PageInfo(has_next_page=root.page.has_next_page,
                                                                 end_cursor=root.page.end_cursor),
                                     "pageInfo", "PageInfo"),
            "total_count": self._field(lambda root, info: root.page.total_count, "totalCount", "int",
                                       description="Nodes matching `where` (all pages)."),
        }, f"A page of {t.name} nodes.")
        return conn

    # --- root query -----------------------------------------------------------------------------

    def query(self) -> type:
        kinds = strawberry.enum(Enum("NodeKind", {n: n for n in self.o.node_names}),  # type: ignore[call-overload]
                                name="NodeKind", description="Node type names.")
        self.ns["NodeKind"] = kinds
        visible = self.view.types()  # types whose rows the role may read get objects and queries
        for t in visible:
            self.node_where(t)
            self.order_by(t)
        for t in visible:
            self.node_object(t)
        attrs: dict[str, Any] = {}
        for t in visible:
            self._type_queries(t, attrs)
        names = [t.name for t in visible]
        default_types = ["Person"] if "Person" in names else names
        self.ns["Annotated"] = Annotated
        self.ns["_FromArg"] = strawberry.argument(name="from")

        specs = self.rel_specs

        async def read_node(info: Any, id: str) -> Any:
            ctx = info.context
            walked = await prefetch.node_walk(ctx, info, specs, id)
            return await resolvers.get_node(ctx, id, walked=walked)

        @fast_resolver(lambda root, info, args: read_node(info, args["id"]), awaits=True)
        async def node(root: Any, info: Info, id: str) -> Any:
            return await read_node(info._raw_info, id)

        def run_search(info: Any, query: str, types: list[str] | None, filters: list[SearchFilter] | None,
                       facets: list[str] | None, first: int, after: str | None) -> Awaitable[Any]:
            reads = selection.remembered(run_search, info, resolvers.search_reads)
            return resolvers.search(info.context, query, types=types or default_types, filters=filters,
                                    facets=facets, first=first, after=after, reads=reads)

        def search_fast(root: Any, info: Any, args: dict[str, Any]) -> Any:
            # graphql-core's values: a NodeKind as strawberry's enum parses it (the member; its value is the type
            # name), a filter as a dict of its two fields.
            filters, types = args.get("filters"), args.get("types")
            return run_search(info, args.get("query", ""), None if types is None else [getattr(k, "value", k)
                                                                                       for k in types],
                              None if filters is None else [SearchFilter(field=f["field"], values=list(f["values"]))
                                                            for f in filters],
                              args.get("facets"), args.get("first", DEFAULT_FIRST), args.get("after"))

        @fast_resolver(search_fast, awaits=True)
        async def search(root: Any, info: Info, query: str = "", types: Any = None, filters: Any = None,
                         facets: Any = None, first: int = DEFAULT_FIRST, after: str | None = None) -> Any:
            return await run_search(info._raw_info, query, [k.value for k in types] if types else None, filters,
                                    facets, first, after)

        async def path(root: Any, info: Info, from_: str, to: str, max_hops: int = MAX_PATH_HOPS) -> Any:
            return await resolvers.shortest_path(_context(info), from_, to, max_hops)

        async def neighbourhood(root: Any, info: Info, id: str, depth: int = 1, limit: int = 50) -> Any:
            return await resolvers.neighbourhood(_context(info), id, depth, limit)

        async def facet_counts(root: Any, info: Info, type: Any, field: str, where: Any = None,
                               all_records: bool = False) -> Any:
            return await resolvers.facet_counts(_context(info), type.value, field, where, all_records=all_records)

        attrs["node"] = self._field(node, "node", "Optional[Node]", [("id", "ID", inspect.Parameter.empty)],
                                    "Any node by global id; null when no node has this id.")
        attrs["search"] = self._field(search, "search", "SearchResult", [
            ("query", "str", ""),
            ("types", "Optional[list[NodeKind]]", None),
            ("filters", "Optional[list[SearchFilter]]", None),
            ("facets", "Optional[list[str]]", None),
            ("first", "int", DEFAULT_FIRST),
            ("after", "Optional[str]", None),
        ], "Full-text talent search in Chinese, English or pinyin; types default to [Person]. One hit per person: "
           "a person resolved from several records (entity resolution) is found by any of their records' names, "
           "skills or languages and returned once, as the record that stands for them.")
        attrs["path"] = self._field(path, "path", "Optional[GraphPath]", [
            ("from_", "Annotated[ID, _FromArg]", inspect.Parameter.empty),
            ("to", "ID", inspect.Parameter.empty),
            ("max_hops", "int", MAX_PATH_HOPS),
        ], "Shortest path between two nodes over any relationship; null when none within maxHops.")
        attrs["neighbourhood"] = self._field(neighbourhood, "neighbourhood", "Optional[Neighbourhood]", [
            ("id", "ID", inspect.Parameter.empty), ("depth", "int", 1), ("limit", "int", 50),
        ], "Nodes within `depth` hops, breadth first, at most `limit` nodes; null for an unknown id.")
        attrs["facet_counts"] = self._field(facet_counts, "facetCounts", "list[FacetCount]", [
            ("type", "NodeKind", inspect.Parameter.empty), ("field", "str", inspect.Parameter.empty),
            ("where", "Optional[JSON]", None), ("all_records", "bool", False),
        ], "Counts per value of a facet property (GraphQL or ontology name), optionally filtered by a "
           "`where` object shaped like the type's Where input. A person resolved from several records counts "
           "once, with the values of the record that stands for them; `allRecords: true` counts every record.")
        if self.o.node("Area") in self.view.types():  # the map's area statistics (feed/areas.py)
            self.ns["AreaStatsPage"] = api_area_stats.AreaStatsPage

            async def area_stats(root: Any, info: Info, level: str | None = None, first: int = DEFAULT_FIRST,
                                 after: str | None = None) -> Any:
                return await api_area_stats.area_stats(_context(info), level, first, after)

            attrs["area_stats"] = self._field(area_stats, "areaStats", "AreaStatsPage", [
                ("level", "Optional[str]", None), ("first", "int", DEFAULT_FIRST), ("after", "Optional[str]", None),
            ], "Per residential area and building (`level`: residential_area or building): residents, foreign "
               "residents by nationality, party members, volunteers, residents by skill category and language. "
               "Counts below k are suppressed (`display` \"<k\"), and so is a further count wherever a total minus "
               "the shown counts would reveal one (\"≥k\").")
        self.ns["ChangeEvent"], self.ns["ChangePage"] = ChangeEvent, ChangePage

        async def changes(root: Any, info: Info, after: str | None = None, types: list[str] | None = None,
                          first: int = 100) -> Any:
            return await resolvers.changes(_context(info), after=after, types=types, first=first)

        attrs["changes"] = self._field(changes, "changes", "ChangePage", [
            ("after", "Optional[str]", None), ("types", "Optional[list[str]]", None), ("first", "int", 100),
        ], "The change feed in commit order, for keeping a copy in sync (the twin-city platform): without `after`, "
           "a snapshot of every current record the role may read, once; with `after: cursor`, each record changed "
           "since, once, with its newest data, and a tombstone (`op: delete`) for each record deleted. `types` "
           "narrows to node or relationship types. A cursor older than the feed's retention answers RESYNC_REQUIRED.")
        if "audit" in self.view.policy.role(self.view.role).may:
            self.ns["AuditRecord"] = AuditRecord

            async def audit_log(root: Any, info: Info, person: str | None = None, principal: str | None = None,
                                since: str | None = None, until: str | None = None, last: int = 100) -> Any:
                return await resolvers.audit_log(_context(info), person=person, principal=principal, since=since,
                                                 until=until, last=last)

            attrs["audit_log"] = self._field(audit_log, "auditLog", "list[AuditRecord]", [
                ("person", "Optional[ID]", None), ("principal", "Optional[str]", None),
                ("since", "Optional[str]", None), ("until", "Optional[str]", None), ("last", "int", 100),
            ], "The access record, newest last (admin only): who read whom, when, with what outcome.")
        return self._object("Query", attrs)

    def _type_queries(self, t: NodeType, attrs: dict[str, Any]) -> None:
        conn = self.list_connection(t)
        where_name, order_name = self.node_where(t), self.order_by(t)
        type_name = t.name

        specs = self.rel_specs

        async def read(info: Any, id: str) -> Any:
            ctx = info.context
            walked = await prefetch.node_walk(ctx, info, specs, id, type_name)
            return await resolvers.get_node(ctx, id, type_name, walked=walked)

        # graphql-core's ID value is the text strawberry would convert it to: nothing to convert.
        @fast_resolver(lambda root, info, args: read(info, args["id"]), awaits=True)
        async def one(root: Any, info: Info, id: str) -> Any:
            return await read(info._raw_info, id)

        async def many(root: Any, info: Info, where: Any = None, order_by: Any = None, first: int = DEFAULT_FIRST,
                       after: str | None = None, all_records: bool = False) -> Any:
            ctx = _context(info)
            return await resolvers.list_nodes(ctx, type_name, where=to_plain(where), order_by=to_plain(order_by),
                                              first=first, after=after, all_records=all_records,
                                              count=selection.asks_for(info, "totalCount"),
                                              walk=prefetch.page_walker(ctx, info, specs))

        args: list[tuple[str, str, Any]] = []
        if where_name:
            args.append(("where", f"Optional[{where_name}]", None))
        if order_name:
            args.append(("order_by", f"Optional[list[{order_name}]]", None))
        args += [("first", "int", DEFAULT_FIRST), ("after", "Optional[str]", None)]
        many_doc = f"{t.name} nodes, filtered and sorted, keyset-paginated."
        one_doc = f"One {t.name} by id; null when there is none."
        if golden.clustered(t):
            args.append(("all_records", "bool", False))
            many_doc += (" One per person: a record that entity resolution resolved to another record (its "
                         "`canonical` names that record) is left out, and the canonical record shows the golden "
                         "record (its members' values merged); `allRecords: true` lists every record. Filters and "
                         "sort keys apply to each record's own values.")
            one_doc += " A record resolved to another is still found by its id; `canonicalRecord` names its stand-in."
        attrs[single(t.name)] = self._field(one, single(t.name), f"Optional[{t.name}]",
                                            [("id", "ID", inspect.Parameter.empty)], one_doc)
        attrs[plural(t.name)] = self._field(many, plural(t.name), conn, args, many_doc)


__all__ = ["build_schema"]
