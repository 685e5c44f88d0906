"""GraphQL execution with a fast path for plain data: selections that only read attributes.

graphql-core completes every field on its own: a path, a resolve-info object, the resolver call,
the nullability and list checks, the scalar coercion. For a search response (ten hits, three facets
of up to twenty values: ~300 fields) that is most of the request. Most of those fields are strawberry
*basic* fields — no resolver, no extension, no arguments — which resolve to ``getattr(source,
python_name)``. ``PlainDataExecutor.execute_fields`` completes an object whose selected fields are all
of that kind (scalars, enums, lists of them, and objects or lists of objects made of the same) in one
recursive pass, with the same coercion (``coerce_output_value``) graphql-core applies.

Anything else takes graphql-core's own path: a field with a resolver (masking, loaders, the policy
live there), arguments, ``__typename``, an abstract or ``is_type_of``-checked type, middleware, and
every value that would be an error (a null in a non-null field, a value a scalar refuses) — the
whole object is then completed again the ordinary way, so errors, their paths and null propagation
are graphql-core's. The results are the same; the fast path only skips the bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter


class _NotPlain(Exception):
    """A value the fast path does not complete itself (null in a non-null field, refused scalar)."""


@dataclass(frozen=True)
class _Plain:
    """How to read and complete one basic field: ``coerce`` for a leaf, ``object_type`` otherwise."""

    attr: str
    non_null: bool
    is_list: bool
    item_non_null: bool
    coerce: Callable[[Any], Any] | None
    object_type: GraphQLObjectType | None


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


def _plan(field: GraphQLField) -> _Plain | None:
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    # strawberry resolves a basic field (no resolver, no extensions) with this function: getattr.
    if (definition is None or not definition.is_basic_field or field.args
            or getattr(field.resolve, "__name__", "") != "_get_basic_result"):
        return None
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
        return _Plain(definition.python_name, non_null, is_list, item_non_null, t.coerce_output_value, None)
    if isinstance(t, GraphQLObjectType) and t.is_type_of is None:
        return _Plain(definition.python_name, non_null, is_list, item_non_null, None, t)
    return None  # interfaces and unions resolve their runtime type: graphql-core's path


class PlainDataExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, completing plain-data selections in one pass (module docstring)."""

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Any,
                       grouped_field_set: Any, position_context: Any) -> Any:
        # strawberry passes a manager on every request; it wraps resolvers only when an extension
        # implements ``resolve`` — then every field takes graphql-core's path, through it.
        middleware = self.middleware_manager
        if middleware is None or not middleware.middlewares:
            try:
                return self._plain_object(parent_type, source_value, grouped_field_set)
            except _NotPlain:
                pass
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

    def _plain_object(self, parent_type: GraphQLObjectType, source: Any,
                      grouped_field_set: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            if node.arguments:
                raise _NotPlain
            plan = _plain(parent_type, node.name.value)
            if plan is None:
                raise _NotPlain
            value = getattr(source, plan.attr)
            if value is None:
                if plan.non_null:
                    raise _NotPlain
                out[response_name] = None
            elif plan.is_list:
                if not isinstance(value, (list, tuple)):
                    raise _NotPlain
                out[response_name] = [self._plain_item(plan, details, item) for item in value]
            else:
                out[response_name] = self._plain_value(plan, details, value)
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
        assert plan.object_type is not None
        grouped, defer_usages, _forbidden = self.collect_subfields(plan.object_type, details)
        if defer_usages:
            raise _NotPlain
        return self._plain_object(plan.object_type, value, grouped)


__all__ = ["PlainDataExecutor"]
