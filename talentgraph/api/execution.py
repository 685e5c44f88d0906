"""GraphQL execution with a fast path for plain data: selections that only read values.

graphql-core completes every field on its own: a path, a resolve-info object, the resolver call,
the nullability and list checks, the scalar coercion; strawberry adds, per field with a resolver, its
argument conversion, its ``Info`` and its extension wrapper. For a search response (ten hits, three
facets of up to twenty values: ~300 fields) or the edges of a walked 2-hop selection that is most of
the request. Most of those fields only read a value off their parent:

- strawberry *basic* fields — no resolver, no extension, no arguments — resolve to ``getattr(source,
  python_name)``;
- fields whose resolver is marked with a **plain getter** (``plain_getter``): the ontology's property
  fields, an edge's ``node`` and ``properties``, a connection's ``edges``. The getter is the
  resolver's answer read off the parent alone, or ``SLOW`` for a parent that needs the resolver itself
  (a masked value, a golden record's merged value): sync, cheap, without side effects.

A field with arguments may carry a **fast resolver** (``fast_resolver``): its answer from graphql-core's
own resolve info and argument values, or ``SLOW`` — a walked relationship field given nothing but
``first``, whose loader already holds the page, answers so; a filter or a page still to load takes the
resolver.

``direct_resolvers`` gives such fields a resolver that calls the getter (or the fast answer) directly
(strawberry's wrapper — argument conversion, ``Info``, extension wrapper — only when it answers
``SLOW``), so graphql-core's own path is cheaper for them too.
``PlainDataExecutor.execute_fields`` completes an object whose selected fields are all plain
(scalars, enums, lists of them, and objects — or interfaces whose ``resolve_type`` is marked
``info_free`` — made of the same) in one recursive pass, with the same coercion
(``coerce_output_value``) and the same runtime-type checks graphql-core applies; fields with a fast
resolver too, with graphql-core's argument values (``get_argument_values``) and resolve info.

Anything else takes graphql-core's own path: arguments of a field without a fast resolver,
``__typename``, a field whose resolver has neither (loaders and the policy live there), a getter or fast
resolver answering ``SLOW`` or raising, middleware,
and every value that would be an error (a null in a non-null field, a value a scalar refuses, a type
check that fails) — the whole object is then completed again the ordinary way (getters have no side
effects; a fast answer's only one, noting the persons it returns for the access record, is the same the
second time), so errors, their paths and null propagation are graphql-core's. The results are the same;
the fast path only skips the bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

F = TypeVar("F", bound=Callable[..., Any])


class _Slow:
    def __repr__(self) -> str:
        return "SLOW"


# What a plain getter answers for a parent whose value only the resolver itself can give.
SLOW: Any = _Slow()


def plain_getter(get: Callable[[Any], Any]) -> Callable[[F], F]:
    """Mark a resolver ``fn(root, info)`` (no arguments) whose answer is ``get(root)`` unless that is ``SLOW``."""

    def mark(fn: F) -> F:
        fn.plain_get = get  # type: ignore[attr-defined]
        return fn

    return mark


def fast_resolver(fast: Callable[[Any, Any, dict[str, Any]], Any], *, awaits: bool = False) -> Callable[[F], F]:
    """Mark a resolver with arguments whose answer ``fast(source, info, args)`` may give without strawberry:
    ``info`` is graphql-core's own resolve info, ``args`` its argument values by GraphQL name (no input
    object converted). ``fast`` answers ``SLOW`` when the resolver itself must run (an argument it does not
    read plainly, a value it would have to await). ``awaits``: the answer is an awaitable (a root field's
    read), so the plain pass leaves the field to graphql-core, which awaits it."""

    def mark(fn: F) -> F:
        fn.fast_resolve = fast  # type: ignore[attr-defined]
        fn.fast_awaits = awaits  # type: ignore[attr-defined]
        return fn

    return mark


def info_free(fn: F) -> F:
    """Mark an interface's ``resolve_type(obj, info, type)`` that never reads ``info`` (the fast path passes None)."""
    fn.info_free = True  # type: ignore[attr-defined]
    return fn


def direct_resolvers(schema: GraphQLSchema) -> int:
    """Let every field whose strawberry resolver has a plain getter resolve through the getter, and every
    one marked ``fast_resolver`` through its fast answer first; how many.

    Only fields without field extensions, and getters only on fields without arguments: strawberry's
    wrapper does nothing else for them but build the ``Info`` the getter does not read and convert
    the arguments the fast answer reads raw."""
    changed = 0
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            resolver = getattr(getattr(definition, "base_resolver", None), "wrapped_func", None)
            get = getattr(resolver, "plain_get", None)
            fast = getattr(resolver, "fast_resolve", None)
            if getattr(definition, "extensions", None) or field.resolve is None:
                continue
            if get is not None and not field.args:
                field.resolve = _direct(field.resolve, get)
            elif fast is not None:
                field.resolve = _fast(field.resolve, fast, awaits=getattr(resolver, "fast_awaits", False))
            else:
                continue
            changed += 1
    return changed


def _direct(wrapped: Callable[..., Any], get: Callable[[Any], Any]) -> Callable[..., Any]:
    def resolve(source: Any, info: Any) -> Any:
        value = get(source)
        return wrapped(source, info) if value is SLOW else value

    resolve.plain_get = get  # type: ignore[attr-defined]
    return resolve


def _fast(wrapped: Callable[..., Any], fast: Callable[[Any, Any, dict[str, Any]], Any], *,
          awaits: bool = False) -> Callable[..., Any]:
    def resolve(source: Any, info: Any, **args: Any) -> Any:
        value = fast(source, info, args)
        return wrapped(source, info, **args) if value is SLOW else value

    if not awaits:  # the plain pass completes what it answers; an awaitable it leaves to graphql-core
        resolve.fast_resolve = fast  # type: ignore[attr-defined]
    return resolve


class _NotPlain(Exception):
    """A value the fast path does not complete itself (null in a non-null field, refused scalar, SLOW)."""


@dataclass(frozen=True)
class _Plain:
    """How to read and complete one plain field: ``coerce`` for a leaf, ``object_type`` or ``abstract`` otherwise."""

    get: Callable[[Any], Any] | None  # None: ``fast`` answers, from the field's arguments
    non_null: bool
    is_list: bool
    item_non_null: bool
    coerce: Callable[[Any], Any] | None
    object_type: GraphQLObjectType | None
    abstract: GraphQLInterfaceType | GraphQLUnionType | None = None
    fast: Callable[[Any, Any, dict[str, Any]], Any] | None = None
    field: GraphQLField | None = None


# (response name, field details, plan) of each field an object completes with (``_steps``).
_Steps = list[tuple[str, Any, "_Plain"]]

# Per object type of a built schema (kept only while the schema is), per field name.
_PLANS: WeakKeyDictionary[GraphQLObjectType, dict[str, _Plain | None]] = WeakKeyDictionary()


def _plain(parent: GraphQLObjectType, name: str) -> _Plain | None:
    plans = _PLANS.get(parent)
    if plans is None:
        plans = _PLANS.setdefault(parent, {})
    if name not in plans:
        field = parent.fields.get(name)
        plans[name] = _plan(field) if field is not None else None
    return plans[name]


def _getter(field: GraphQLField) -> Callable[[Any], Any] | None:
    get = getattr(field.resolve, "plain_get", None)
    if get is not None:
        return get  # type: ignore[no-any-return]
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    # strawberry resolves a basic field (no resolver, no extensions) with this function: getattr.
    if (definition is None or not definition.is_basic_field
            or getattr(field.resolve, "__name__", "") != "_get_basic_result"):
        return None
    return attrgetter(definition.python_name)


def _plan(field: GraphQLField) -> _Plain | None:
    get = _getter(field) if not field.args else None
    fast = getattr(field.resolve, "fast_resolve", None) if get is None else None
    if get is None and fast is None:
        return None
    plain = _typed(field, get)
    return plain if plain is None or fast is None else replace(plain, fast=fast, field=field)


def _typed(field: GraphQLField, get: Callable[[Any], Any] | None) -> _Plain | None:
    t: GraphQLOutputType = field.type
    non_null = isinstance(t, GraphQLNonNull)
    t = t.of_type if isinstance(t, GraphQLNonNull) else t
    is_list = isinstance(t, GraphQLList)
    item_non_null = False
    if isinstance(t, GraphQLList):
        t = t.of_type
        item_non_null = isinstance(t, GraphQLNonNull)
        t = t.of_type if isinstance(t, GraphQLNonNull) else t
        if isinstance(t, GraphQLList):
            return None  # lists of lists: not in this schema, left to graphql-core
    if is_leaf_type(t):
        return _Plain(get, non_null, is_list, item_non_null, t.coerce_output_value, None)
    if isinstance(t, GraphQLObjectType):
        return _Plain(get, non_null, is_list, item_non_null, None, t)
    if isinstance(t, (GraphQLInterfaceType, GraphQLUnionType)) and getattr(t.resolve_type, "info_free", False):
        return _Plain(get, non_null, is_list, item_non_null, None, None, t)
    return None  # other abstract types resolve their runtime type with the resolve info: graphql-core's path


class PlainDataExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, completing plain-data selections in one pass (module docstring)."""

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Any,
                       grouped_field_set: Any, position_context: Any) -> Any:
        # strawberry passes a manager on every request; it wraps resolvers only when an extension
        # implements ``resolve`` — then every field takes graphql-core's path, through it.
        middleware = self.middleware_manager
        if middleware is None or not middleware.middlewares:
            steps = self._steps(parent_type, grouped_field_set)
            if steps is not None:
                try:
                    return self._plain_object(parent_type, steps, source_value)
                except _NotPlain:
                    pass
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

    def _steps(self, parent_type: GraphQLObjectType, grouped_field_set: Mapping[str, Any]) -> _Steps | None:
        """How the plain pass completes an object of ``parent_type`` with these fields: (response name, field
        details, plan) for each; None when one of them is not plain. Worked out once per field set and request
        (graphql-core collects the field set of a list's items once): each is held with its answer, not only by
        its id — a field set graphql-core has let go of (the root's, once its fields are awaited) frees its id
        for the next one collected."""
        memo: dict[int, tuple[Any, GraphQLObjectType, _Steps | None]] | None = self.__dict__.get("_plain_steps")
        if memo is None:
            memo = self.__dict__["_plain_steps"] = {}
        known = memo.get(id(grouped_field_set))
        if known is not None and known[0] is grouped_field_set and known[1] is parent_type:
            return known[2]
        steps: _Steps = []
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            plan = _plain(parent_type, node.name.value)
            if plan is None or (node.arguments and plan.fast is None):
                memo[id(grouped_field_set)] = (grouped_field_set, parent_type, None)
                return None
            steps.append((response_name, details, plan))
        memo[id(grouped_field_set)] = (grouped_field_set, parent_type, steps)
        return steps

    def _plain_object(self, parent_type: GraphQLObjectType, steps: _Steps, source: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for response_name, details, plan in steps:
            try:
                value = plan.get(source) if plan.get is not None else self._fast_value(plan, parent_type, source,
                                                                                          details)
            except Exception:
                raise _NotPlain from None  # graphql-core's path reports it, at its path
            if value is SLOW:
                raise _NotPlain
            if value is None:
                if plan.non_null:
                    raise _NotPlain
                out[response_name] = None
            elif plan.is_list:
                if not isinstance(value, (list, tuple)):
                    raise _NotPlain
                out[response_name] = self._plain_list(plan, details, value)
            else:
                out[response_name] = self._plain_value(plan, details, value)
        return out

    def _fast_value(self, plan: _Plain, parent_type: GraphQLObjectType, source: Any, details: Any) -> Any:
        """A ``fast_resolver``'s answer, with the argument values and resolve info graphql-core would give it
        (no path: the plain pass keeps none, and a fast answer does not read it)."""
        first = details[0]
        assert plan.fast is not None and plan.field is not None
        if getattr(first, "fragment_variable_values", None) is not None:
            raise _NotPlain
        args = get_argument_values(plan.field, first.node, self.variable_values, None, self.hide_suggestions)
        nodes = [d.node for d in details]
        info = self.build_resolve_info(plan.field, nodes, parent_type, None)  # type: ignore[arg-type]
        return plan.fast(source, info, args)

    def _plain_list(self, plan: _Plain, details: Any, items: list[Any] | tuple[Any, ...]) -> list[Any]:
        """A list's items, completed as ``_plain_item`` would each; the items of one concrete object type share
        their field set and plan, worked out once for the list rather than once per item (a search page's hits,
        their highlights, its facets' values)."""
        if plan.abstract is not None or plan.object_type is None or len(items) < 2:
            return [self._plain_item(plan, details, item) for item in items]
        object_type = plan.object_type
        steps = self._object_steps(object_type, details)
        out: list[Any] = []
        for item in items:
            if item is None:
                if plan.item_non_null:
                    raise _NotPlain
                out.append(None)
                continue
            self._check_type(object_type, item)
            out.append(self._plain_object(object_type, steps, item))
        return out

    def _plain_item(self, plan: _Plain, details: Any, item: Any) -> Any:
        if item is None:
            if plan.item_non_null:
                raise _NotPlain
            return None
        return self._plain_value(plan, details, item)

    def _plain_value(self, plan: _Plain, details: Any, value: Any) -> Any:
        if plan.coerce is not None:
            try:
                coerced = plan.coerce(value)
            except Exception:
                raise _NotPlain from None
            if coerced is None or coerced is Undefined:
                raise _NotPlain
            return coerced
        object_type = plan.object_type if plan.abstract is None else self._runtime_type(plan.abstract, value)
        assert object_type is not None
        self._check_type(object_type, value)
        return self._plain_object(object_type, self._object_steps(object_type, details), value)

    @staticmethod
    def _check_type(object_type: GraphQLObjectType, value: Any) -> None:
        if object_type.is_type_of is not None:
            try:
                # Our types' checks (and strawberry's own) read the value only; a check reading info raises here.
                checked = object_type.is_type_of(value, None)  # type: ignore[arg-type]
            except Exception:
                raise _NotPlain from None
            if checked is not True:  # False, or an awaitable: graphql-core's path
                raise _NotPlain

    def _object_steps(self, object_type: GraphQLObjectType, details: Any) -> _Steps:
        grouped, defer_usages, _forbidden = self.collect_subfields(object_type, details)
        if defer_usages:
            raise _NotPlain
        steps = self._steps(object_type, grouped)
        if steps is None:
            raise _NotPlain
        return steps

    def _runtime_type(self, abstract: GraphQLInterfaceType | GraphQLUnionType, value: Any) -> GraphQLObjectType:
        """The object type ``value`` completes as, or _NotPlain where graphql-core would raise or await."""
        try:
            name = abstract.resolve_type(value, None, abstract)  # type: ignore[misc, arg-type]  # marked info_free
        except Exception:
            raise _NotPlain from None
        runtime = self.schema.get_type(name) if isinstance(name, str) else None
        if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(abstract, runtime):
            raise _NotPlain
        return runtime


__all__ = ["SLOW", "PlainDataExecutor", "direct_resolvers", "fast_resolver", "info_free", "plain_getter"]
