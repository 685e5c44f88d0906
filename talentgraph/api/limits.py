"""What one GraphQL request may ask of the server, checked before any store is touched.

Three layers, each with documented constants (settings may override them through the dataclasses):

* the HTTP request — ``RequestLimits``, enforced by ``view.GraphQLView``: body bytes, query text,
  variables JSON, and the deadline after which the work stops;
* the document — ``QueryLimitsRule``, a graphql-core validation rule: field depth, aliases,
  fragment spreads expanded, and the cost budget when no page size comes from a variable;
* the argument values, literals and variables alike — ``check_request``, run by
  ``QueryLimitsExtension`` just before execution: list lengths, AND/OR alternatives, filter
  conditions, nesting, valid Unicode text; and the cost with the request's variables.

Everything here runs in time linear in the document: each fragment definition is measured once
and its numbers reused at every spread (strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a
fragment again at every spread, which is exponential: 17 s for a 1.2 KB document of fragments that
each spread the previous one twice). Numbers that multiply (spreads, aliases, cost) are exact
Python integers, so a fragment fan-out of 2^40 is simply a number over its limit.

**Cost** is an upper bound on the objects a query materialises: the sum, over every field that
returns objects (fragments expanded, each alias separately), of the product of the page sizes
(``first`` or ``limit``: literal, variable or the argument's default) of the fields above it::

    persons(first: 100) { nodes { memberOf(first: 20) { edges { node { id } } } } }
    = 1 (persons) + 100 (nodes) + 100 (memberOf) + 100·20 (edges) + 100·20 (node) = 4,201

Scalar fields cost nothing; introspection (``__schema``, ``__type``) is bounded by graphql-core's
MaxIntrospectionDepthRule instead and costs nothing here.
"""

from __future__ import annotations

import json

import functools
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import anyio.to_thread
from graphql import (
    ASTValidationRule,
    parse,
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    Node,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionResult

from talentgraph.errors import BadQueryError, TalentgraphError, TooComplexError, TooLargeError

# --- the HTTP request (view.py) ---------------------------------------------------------------------

MAX_BODY_BYTES = 1024 * 1024
"""Largest POST body (1 MiB); a larger one is answered 413 without being read to the end."""
MAX_QUERY_CHARS = 50_000
"""Longest query text. The token limit bounds what the parser builds; this bounds what it reads
(comments and whitespace are not tokens)."""
MAX_VARIABLES_BYTES = 64 * 1024
"""Largest ``variables`` object, as compact JSON (a 1,000-id ``in`` list is ~15 KB)."""
DEADLINE_SECONDS = 10.0
"""Wall-clock budget of one request from its parsed body to its result; then the work stops."""

# --- the document (validation) ----------------------------------------------------------------------

MAX_TOKENS = 4000
"""Lexical tokens in the query text (comments excluded; at most MAX_COMMENTS of those)."""
MAX_COMMENTS = 1000
"""Comments in the query text (the parser keeps them, though they are not tokens)."""
MAX_DEPTH = 10
"""Fields on the longest path, leaf included (the analyst walk person → organisation → enterprise is 9)."""
MAX_ALIASES = 30
"""Aliases in the document with fragments expanded."""
MAX_FRAGMENT_SPREADS = 100
"""Fragment spreads with fragments expanded: a fragment spread twice by another counts twice."""
MAX_COST = 50_000
"""Budget for the cost (see the module docstring): 100 persons with 100 relationships each fit
(10,201); three relationship levels at the default page size (20) under 20 persons do not (176,841)."""
MAX_NESTING = 200
"""Selection sets nested on one path with fragments expanded (graphql-core's parser stops at 200
without fragments); keeps the measuring walk far from Python's recursion limit."""

# --- argument values (literals and variables) ----------------------------------------------------------

MAX_LIST_ITEMS = 1000
"""Items in any list argument or list inside one, e.g. the values of an ``in`` filter."""
MAX_ALTERNATIVES = 100
"""Items of one ``AND`` or ``OR`` list of a where filter."""
MAX_CONDITIONS = 200
"""Values in one argument outside ``in`` lists (each ``in`` list counts once): the graph engine's
planning time grows faster than linearly with the comparisons of one filter."""
MAX_INPUT_DEPTH = 12
"""Objects and lists nested in one argument value (``{AND: [{OR: [{name: {in: […]}}]}]}`` is 7)."""

PAGE_SIZE_ARGUMENTS = ("first", "limit")
ALTERNATIVE_KEYS = frozenset({"AND", "OR"})
IN_KEY = "in"


@dataclass(frozen=True)
class RequestLimits:
    """Limits on the HTTP request, enforced by ``view.GraphQLView``; the defaults are the constants above."""

    max_body_bytes: int = MAX_BODY_BYTES
    max_query_chars: int = MAX_QUERY_CHARS
    max_variables_bytes: int = MAX_VARIABLES_BYTES
    deadline_seconds: float = DEADLINE_SECONDS


@dataclass(frozen=True)
class QueryLimits:
    """Limits on the document and its argument values, enforced by the schema (``build_schema(limits=…)``)."""

    max_tokens: int = MAX_TOKENS
    max_comments: int = MAX_COMMENTS
    max_query_chars: int = MAX_QUERY_CHARS
    max_depth: int = MAX_DEPTH
    max_aliases: int = MAX_ALIASES
    max_fragment_spreads: int = MAX_FRAGMENT_SPREADS
    max_cost: int = MAX_COST
    max_list_items: int = MAX_LIST_ITEMS
    max_alternatives: int = MAX_ALTERNATIVES
    max_conditions: int = MAX_CONDITIONS
    max_input_depth: int = MAX_INPUT_DEPTH


# --- errors --------------------------------------------------------------------------------------------


class _Detailed(TalentgraphError):
    """An error whose ``details`` become ``extensions`` entries next to ``code`` (see ``errors.shape_error``)."""

    def __init__(self, message: str, *, hint: str | None = None, details: Mapping[str, object] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.details: dict[str, object] = dict(details or {})


class QueryTooComplexError(_Detailed, TooComplexError):
    """Depth, aliases, fragment spreads or cost over their limit (QUERY_TOO_COMPLEX)."""


class ArgumentTooLargeError(_Detailed, TooLargeError):
    """A list, a filter or a nesting in an argument value over its limit (REQUEST_TOO_LARGE)."""


class InvalidTextError(_Detailed, BadQueryError):
    """A text argument that is not valid Unicode or holds a NUL character (BAD_QUERY)."""


# --- measuring a document --------------------------------------------------------------------------------


@dataclass
class Measure:
    """What a selection set asks for, fragments expanded; ``cost`` is per one parent object."""

    depth: int = 0
    path: tuple[str, ...] = ()  # the deepest path, by response names
    aliases: int = 0
    spreads: int = 0
    cost: int = 0

    def add(self, other: Measure) -> None:
        if other.depth > self.depth:
            self.depth, self.path = other.depth, other.path
        self.aliases += other.aliases
        self.spreads += other.spreads
        self.cost += other.cost


@dataclass
class OperationMeasure:
    """One operation measured: the totals, the root field costing most, and whether a variable sized a page."""

    operation: OperationDefinitionNode
    total: Measure
    costliest: str | None
    sized_by_variables: bool


class _TooDeep(Exception):
    """Stops a walk whose nesting (fragments expanded) is beyond MAX_NESTING."""


class _Measurer:
    """Measures operations; fragment definitions are measured once (``memo``), then reused.

    ``variables`` are the request's raw variable values (None while validating: a page size from a
    variable then counts as the argument's default and the operation is marked ``sized_by_variables``).
    """

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 variables: Mapping[str, Any] | None = None,
                 operation: OperationDefinitionNode | None = None) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.defaults: dict[str, ValueNode] = {}
        if operation is not None and variables is not None:
            self.defaults = {d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
                             if d.default_value is not None}
        self.memo: dict[str, Measure] = {}
        self.active: set[str] = set()
        self.sized_by_variables = False

    def operation(self, op: OperationDefinitionNode) -> OperationMeasure:
        root = self.schema.get_root_type(op.operation)
        total, costliest, most = Measure(), None, -1
        for sel in op.selection_set.selections:
            m = self.selection(sel, root, 1)
            total.add(m)
            if m.cost > most and isinstance(sel, FieldNode):
                most, costliest = m.cost, (sel.alias or sel.name).value
        return OperationMeasure(op, total, costliest, self.sized_by_variables)

    def selections(self, node: SelectionSetNode | None, parent: GraphQLNamedType | None, level: int) -> Measure:
        out = Measure()
        if node is None:
            return out
        if level > MAX_NESTING:
            raise _TooDeep
        for sel in node.selections:
            out.add(self.selection(sel, parent, level))
        return out

    def selection(self, sel: SelectionNode, parent: GraphQLNamedType | None, level: int) -> Measure:
        if isinstance(sel, FieldNode):
            return self.field(sel, parent, level)
        if isinstance(sel, InlineFragmentNode):
            t = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
            return self.selections(sel.selection_set, t, level + 1)
        if isinstance(sel, FragmentSpreadNode):
            inner = self.fragment(sel.name.value, level)
            return Measure(inner.depth, inner.path, inner.aliases, inner.spreads + 1, inner.cost)
        return Measure()

    def fragment(self, name: str, level: int) -> Measure:
        done = self.memo.get(name)
        if done is not None:
            return done
        node = self.fragments.get(name)
        if node is None or name in self.active:
            return Measure()  # unknown (KnownFragmentNamesRule) or a cycle (NoFragmentCyclesRule) reports it
        self.active.add(name)
        try:
            m = self.selections(node.selection_set, self.schema.get_type(node.type_condition.name.value), level + 1)
        finally:
            self.active.discard(name)
        self.memo[name] = m
        return m

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, level: int) -> Measure:
        name = node.name.value
        definition = _field_def(self.schema, parent, name)
        child = self.selections(node.selection_set, get_named_type(definition.type) if definition else None,
                                level + 1)
        out = Measure(aliases=child.aliases + (1 if node.alias else 0), spreads=child.spreads)
        if name.startswith("__") or (parent is not None and parent.name.startswith("__")):
            return out  # introspection: bounded by MaxIntrospectionDepthRule
        out.depth, out.path = 1 + child.depth, ((node.alias or node.name).value, *child.path)
        out.cost = (1 if node.selection_set is not None else 0) + self.page_size(node, definition) * child.cost
        return out

    def page_size(self, node: FieldNode, definition: GraphQLField | None) -> int:
        if definition is None:
            return 1
        for arg_name in PAGE_SIZE_ARGUMENTS:
            arg = definition.args.get(arg_name)
            if arg is None:
                continue
            default = arg.default_value if isinstance(arg.default_value, int) else 1
            given = next((a.value for a in node.arguments or () if a.name.value == arg_name), None)
            return max(0, self._int(given, default))
        return 1

    def _int(self, value: ValueNode | None, default: int) -> int:
        if isinstance(value, IntValueNode):
            # An overlong literal is not an Int (ValuesOfCorrectTypeRule says so); int() would refuse it.
            return int(value.value) if len(value.value) <= 18 else 10**18
        if isinstance(value, VariableNode):
            self.sized_by_variables = True
            if self.variables is None:
                return default
            name = value.name.value
            if name in self.variables:
                raw = self.variables[name]
                return raw if isinstance(raw, int) and not isinstance(raw, bool) else default
            return self._int(self.defaults.get(name), default)
        return default


def _field_def(schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name == "__typename":
        return TypeNameMetaFieldDef
    if parent is not None and parent is schema.query_type:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
    fields = getattr(parent, "fields", None)
    return cast(GraphQLField | None, fields.get(name)) if isinstance(fields, Mapping) else None


# --- the limits on a measured operation ------------------------------------------------------------------


def _shown(path: Sequence[str]) -> str:
    return ".".join(path) if len(path) <= 12 else ".".join(path[:12]) + ".…"


def _said(n: int) -> str:
    """A count for a message: exact while readable; a fan-out of 2^180 is said as such."""
    return f"{n:,}" if n < 10**15 else f"about 2^{n.bit_length() - 1}"


def _json_int(n: int) -> int:
    """A count for ``extensions``: JSON readers keep integers exact up to 2^53 - 1."""
    return min(n, 2**53 - 1)


def structure_errors(m: OperationMeasure, limits: QueryLimits) -> list[QueryTooComplexError]:
    """Depth, aliases and fragment spreads over their limits."""
    out = []
    t = m.total
    if t.depth > limits.max_depth:
        out.append(QueryTooComplexError(
            f"The query nests {t.depth} fields deep ({_shown(t.path)}); the depth limit is {limits.max_depth}.",
            hint="Drop a level of relationships, or fetch the deeper part in a second query that starts from "
                 "the ids the first one returned (node(id: …) or a where filter).",
            details={"depth": t.depth, "limit": limits.max_depth}))
    if t.aliases > limits.max_aliases:
        out.append(QueryTooComplexError(
            f"The query uses {_said(t.aliases)} aliases (fragments expanded); the alias limit is {limits.max_aliases}.",
            hint="Ask for many nodes with one list field and a where filter instead of one aliased field "
                 "each, or split the query.",
            details={"aliases": _json_int(t.aliases), "limit": limits.max_aliases}))
    if t.spreads > limits.max_fragment_spreads:
        out.append(QueryTooComplexError(
            f"The query expands {_said(t.spreads)} fragment spreads (a fragment counts at every place it is spread, "
            f"also inside other fragments); the limit is {limits.max_fragment_spreads}.",
            hint="Spread each fragment once where it is needed; fragments that spread other fragments "
                 "several times multiply.",
            details={"fragmentSpreads": _json_int(t.spreads), "limit": limits.max_fragment_spreads}))
    return out


def cost_error(m: OperationMeasure, limits: QueryLimits) -> QueryTooComplexError | None:
    cost = m.total.cost
    if cost <= limits.max_cost:
        return None
    where = f" Most of it is under `{m.costliest}`." if m.costliest else ""
    return QueryTooComplexError(
        f"The query could return up to {_said(cost)} objects (its cost); the budget is {limits.max_cost:,}.{where}",
        hint="Page sizes multiply along a path: lower `first` on the nested fields, nest fewer "
             "relationships, or split the query. Cost = the sum, over the fields that return objects, "
             "of the product of the page sizes (`first`, `limit` or their defaults) above them.",
        details={"cost": _json_int(cost), "budget": limits.max_cost})


def _too_deep(limits: QueryLimits) -> QueryTooComplexError:
    return QueryTooComplexError(
        f"The query's selections nest more than {MAX_NESTING} levels deep with its fragments expanded.",
        hint=f"Queries need at most {limits.max_depth} levels of fields; flatten the fragments.",
        details={"limit": MAX_NESTING})


def document_errors(schema: GraphQLSchema, document: DocumentNode, limits: QueryLimits) -> list[GraphQLError]:
    """The limit errors of every operation in ``document`` (what ``QueryLimitsRule`` reports).

    Cost is checked here only for operations within the structural limits whose page sizes are all
    literals or defaults; the others are checked with the request's variables by ``check_request``.
    """
    measurer = _Measurer(schema, document)
    errors: list[GraphQLError] = []
    for op in document.definitions:
        if not isinstance(op, OperationDefinitionNode):
            continue
        try:
            m = measurer.operation(op)
        except _TooDeep:
            errors.append(_located(_too_deep(limits), op))
            continue
        found: list[QueryTooComplexError] = structure_errors(m, limits)
        cost = None if found or m.sized_by_variables else cost_error(m, limits)  # structure first
        errors += [_located(e, op) for e in (*found, *([cost] if cost else []))]
    return errors


def _located(error: TalentgraphError, node: Node) -> GraphQLError:
    return GraphQLError(error.message, nodes=[node], original_error=error)


class QueryLimitsRule(ValidationRule):
    """Reports ``document_errors``; one class per ``QueryLimits`` (``limits_rule``), so that a
    validation cache keyed by the rule classes can hit."""

    limits: ClassVar[QueryLimits] = QueryLimits()

    def enter_document(self, node: DocumentNode, *_args: Any) -> Any:
        for error in document_errors(self.context.schema, node, self.limits):
            self.report_error(error)
        return self.BREAK


@functools.cache
def limits_rule(limits: QueryLimits) -> type[ASTValidationRule]:
    return cast(type[ASTValidationRule], type("QueryLimitsRule", (QueryLimitsRule,), {"limits": limits}))


# --- argument values ---------------------------------------------------------------------------------------


def _bad_text(text: str) -> str | None:
    """Why ``text`` cannot be stored or searched, or None when it can."""
    if "\x00" in text:
        return "a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone surrogate (U+{ord(text[exc.start]):04X})"
    return None


@dataclass
class _ArgumentCheck:
    """Walks every argument of one operation (each fragment once), literals and variables alike."""

    document: DocumentNode
    operation: OperationDefinitionNode
    variables: Mapping[str, Any]
    limits: QueryLimits
    conditions: int = 0
    defaults: dict[str, ValueNode] = field(default_factory=dict)

    def run(self) -> None:
        fragments = {d.name.value: d for d in self.document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.defaults = {d.variable.name.value: d.default_value for d in self.operation.variable_definitions or ()
                         if d.default_value is not None}
        seen: set[str] = set()
        stack: list[tuple[SelectionSetNode, str]] = [(self.operation.selection_set, "")]
        while stack:
            selection_set, path = stack.pop()
            for sel in selection_set.selections:
                if isinstance(sel, FieldNode):
                    here = f"{path}.{(sel.alias or sel.name).value}" if path else (sel.alias or sel.name).value
                    for arg in sel.arguments or ():
                        self.conditions = 0
                        self.value(arg.value, f"{here}({arg.name.value})", 0, None)
                    if sel.selection_set is not None:
                        stack.append((sel.selection_set, here))
                elif isinstance(sel, InlineFragmentNode):
                    stack.append((sel.selection_set, path))
                elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                    seen.add(sel.name.value)
                    fragment = fragments.get(sel.name.value)
                    if fragment is not None:
                        stack.append((fragment.selection_set, path))

    # literals (with variables resolved) ...

    def value(self, node: ValueNode, path: str, depth: int, key: str | None) -> None:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                self.plain(self.variables[name], f"{path}=${name}", depth, key)
            elif name in self.defaults:
                self.value(self.defaults[name], f"{path}=${name}", depth, key)
        elif isinstance(node, ListValueNode):
            self.container(path, depth)
            self.items(len(node.values), path, key)
            for i, item in enumerate(node.values):
                self.value(item, f"{path}[{i}]", depth + 1, key)
        elif isinstance(node, ObjectValueNode):
            self.container(path, depth)
            for f in node.fields:
                self.value(f.value, f"{path}.{f.name.value}", depth + 1, f.name.value)
        elif isinstance(node, StringValueNode):
            self.text(node.value, path)
            self.leaf(path, key)
        elif isinstance(node, (IntValueNode, FloatValueNode, BooleanValueNode, EnumValueNode, NullValueNode)):
            self.leaf(path, key)

    # ... and variable values (JSON)

    def plain(self, value: Any, path: str, depth: int, key: str | None) -> None:
        if isinstance(value, Mapping):
            self.container(path, depth)
            for k, item in value.items():
                self.plain(item, f"{path}.{k}", depth + 1, str(k))
        elif isinstance(value, (list, tuple)):
            self.container(path, depth)
            self.items(len(value), path, key)
            for i, item in enumerate(value):
                self.plain(item, f"{path}[{i}]", depth + 1, key)
        else:
            if isinstance(value, str):
                self.text(value, path)
            self.leaf(path, key)

    # the checks

    def container(self, path: str, depth: int) -> None:
        if depth + 1 > self.limits.max_input_depth:
            raise ArgumentTooLargeError(
                f"{path}: the value nests objects and lists more than {self.limits.max_input_depth} levels deep.",
                hint="Flatten the filter: AND/OR lists take any number of conditions side by side, up to "
                     f"{self.limits.max_alternatives} each.",
                details={"argument": path, "limit": self.limits.max_input_depth})

    def items(self, n: int, path: str, key: str | None) -> None:
        if key in ALTERNATIVE_KEYS and n > self.limits.max_alternatives:
            raise ArgumentTooLargeError(
                f"{path}: {key} has {n} alternatives; the limit is {self.limits.max_alternatives}.",
                hint="Use `in: [...]` for many values of one field (up to "
                     f"{self.limits.max_list_items}), or narrow the query with another filter.",
                details={"argument": path, "limit": self.limits.max_alternatives})
        if n > self.limits.max_list_items:
            raise ArgumentTooLargeError(
                f"{path}: the list has {n} items; the limit is {self.limits.max_list_items}.",
                hint="Narrow the query with another filter, or send the values in several requests.",
                details={"argument": path, "limit": self.limits.max_list_items})
        if key == IN_KEY:
            self.leaf(path, None)  # one comparison, however long the list

    def leaf(self, path: str, key: str | None) -> None:
        if key == IN_KEY:
            return
        self.conditions += 1
        if self.conditions > self.limits.max_conditions:
            argument = path.split(")", 1)[0] + ")"
            raise ArgumentTooLargeError(
                f"{argument}: the value holds more than {self.limits.max_conditions} conditions.",
                hint="Use `in: [...]` for many values of one field (it counts once), or narrow the query "
                     "with fewer, broader conditions.",
                details={"argument": argument, "limit": self.limits.max_conditions})

    def text(self, text: str, path: str) -> None:
        bad = _bad_text(text)
        if bad is not None:
            raise InvalidTextError(
                f"{path}: the text contains {bad}; text arguments must be valid Unicode without NUL.",
                hint="Send well-formed UTF-8: remove the character, or send both halves of a surrogate "
                     "pair (JSON \"\\ud83d\\ude00\" is one emoji).",
                details={"argument": path})


def check_request(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
                  variables: Mapping[str, Any] | None, limits: QueryLimits) -> None:
    """Check the operation about to run, with its variables: argument values, then the cost.

    Raises ``ArgumentTooLargeError``, ``InvalidTextError`` or ``QueryTooComplexError``.
    """
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return  # graphql-core reports the unknown or ambiguous operation
    _ArgumentCheck(document, operation, variables or {}, limits).run()
    try:
        m = _Measurer(schema, document, variables or {}, operation).operation(operation)
    except _TooDeep:
        raise _too_deep(limits) from None
    error = cost_error(m, limits)
    if error is not None:
        raise error


# --- wiring into strawberry --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _validate(schema: GraphQLSchema, document: DocumentNode,
              rules: tuple[type[ASTValidationRule], ...]) -> list[GraphQLError]:
    return validate_document(schema, document, rules)


# Parsed documents by query text and parser limits, and their validation by schema and rules: a
# client sends the same few documents again and again, and parsing (0.5-1 ms) plus a worker thread
# for validation cost as much as building a search's result. Only documents that parse are kept; a
# syntax error takes strawberry's own path, so it is shaped like any other error.
DOCUMENT_CACHE = 256
_PARSED: OrderedDict[tuple[str, tuple[tuple[str, Any], ...]], DocumentNode] = OrderedDict()
_VALIDATED: OrderedDict[tuple[int, int, tuple[type[ASTValidationRule], ...]],
                        tuple[GraphQLSchema, DocumentNode, list[GraphQLError]]] = OrderedDict()


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    cache[key] = value
    if len(cache) > DOCUMENT_CACHE:
        cache.popitem(last=False)


def _parsed(query: str, options: dict[str, Any]) -> DocumentNode | None:
    key = (query, tuple(sorted(options.items())))
    document = _PARSED.get(key)
    if document is None:
        try:
            document = parse(query, **options)
        except GraphQLError:
            return None  # strawberry parses it again and reports the error its own way
        _remember(_PARSED, key, document)
    else:
        _PARSED.move_to_end(key)
    return document


# Requests whose operation passed ``check_request``: the same document with variables of the same shape (a
# staff page's repeated search, a client's refresh, one query asked for person after person) costs a lookup
# instead of a walk of the document (0.2-0.3 ms). Only passes are kept — a refusal is worked out (and
# reported) afresh every time — and only for variables of at most this many characters of JSON.
_CHECKED: OrderedDict[tuple[int, int, str | None, QueryLimits, str], tuple[GraphQLSchema, DocumentNode]] = \
    OrderedDict()
CHECKED_VARIABLES_CHARS = 4096


def check_request_once(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
                       variables: Mapping[str, Any] | None, limits: QueryLimits) -> None:
    """``check_request``, remembered for the documents and variables that passed (keyed by the identity of
    the schema and of the parse cache's document, which the entry holds, as the validation cache does)."""
    try:
        text = json.dumps(_shape(variables or {}), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = None
    if text is None or len(text) > CHECKED_VARIABLES_CHARS:
        check_request(schema, document, operation_name, variables, limits)
        return
    key = (id(schema), id(document), operation_name, limits, text)
    found = _CHECKED.get(key)
    if found is not None and found[0] is schema and found[1] is document:
        _CHECKED.move_to_end(key)
        return
    check_request(schema, document, operation_name, variables, limits)  # raises: nothing remembered
    _remember(_CHECKED, key, (schema, document))


# Variables nested deeper than this are checked every time (``check_request`` refuses most of them anyway).
SHAPE_DEPTH = 32


def _shape(value: Any, depth: int = 0) -> Any:
    """Variables as ``check_request`` tells them apart: a string value is read only for whether it is valid
    text (``_ArgumentCheck.text``; the cost reads page sizes, ints, and takes any string for the default), so
    every valid one stands for all (`$id` of one person or the next passes alike). Keys, numbers, lengths and
    invalid text stay as they are. ValueError past ``SHAPE_DEPTH`` levels."""
    if isinstance(value, str):
        return "" if _bad_text(value) is None else value
    if isinstance(value, (Mapping, list, tuple)) and depth >= SHAPE_DEPTH:
        raise ValueError("nested too deep to remember")
    if isinstance(value, Mapping):
        return {k: _shape(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shape(v, depth + 1) for v in value]
    return value


def _known_validation(schema: GraphQLSchema, document: DocumentNode,
                      rules: tuple[type[ASTValidationRule], ...]) -> list[GraphQLError] | None:
    # Keyed by identity: the parse cache hands back the same document object for the same text
    # (and the entry holds schema and document, so their ids cannot be reused while it is in here).
    found = _VALIDATED.get((id(schema), id(document), rules))
    return found[2] if found is not None and found[0] is schema and found[1] is document else None


class QueryLimitsExtension(SchemaExtension):
    """Puts the limits into strawberry's pipeline, per request (strawberry builds one per request).

    - parse: ``max_lexical_tokens``, ``max_comments`` and ``max_source_length`` for graphql-core's parser;
    - validate: the standard rules plus ``QueryLimitsRule``, cached by document (an LRU of 256) and
      run in a worker thread, so a large document never holds the event loop;
    - execute: first ``check_request`` (argument values, the cost with variables) and that a
      document with several operations names the one to run.
    """

    def __init__(self, *, limits: QueryLimits) -> None:
        self.limits = limits
        self.rule = limits_rule(limits)

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        options = cast(dict[str, Any], ctx.parse_options)
        options.update(max_lexical_tokens=self.limits.max_tokens, max_comments=self.limits.max_comments,
                       max_source_length=self.limits.max_query_chars)
        ctx.validation_rules = (*ctx.validation_rules, self.rule)
        yield

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query:
            ctx.graphql_document = _parsed(ctx.query, cast(dict[str, Any], ctx.parse_options))
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.pre_execution_errors is None:
            schema, rules = ctx.schema._schema, tuple(ctx.validation_rules)
            errors = _known_validation(schema, document, rules)
            if errors is None:
                errors = await anyio.to_thread.run_sync(_validate, schema, document, rules)
                _remember(_VALIDATED, (id(schema), id(document), rules), (schema, document, errors))
            ctx.pre_execution_errors = errors
        yield

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        refusal = self._refusal()
        if refusal is not None:
            # A result set here stops strawberry from executing, and ErrorShape still shapes it
            # (an exception raised here would bypass ErrorShape under strawberry's own view).
            ctx.schema.process_errors([refusal], ctx)
            ctx.result = ExecutionResult(data=None, errors=[refusal])
        yield

    def _refusal(self) -> GraphQLError | None:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is None:
            return None
        provided = getattr(ctx, "_provided_operation_name", None)  # strawberry would run the first
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if provided is None and len(operations) > 1:
            return GraphQLError("Must provide operation name if query contains multiple operations.")
        try:
            check_request_once(ctx.schema._schema, document, provided or ctx.operation_name, ctx.variables,
                               self.limits)
        except TalentgraphError as exc:
            return GraphQLError(exc.message, original_error=exc)
        return None


__all__ = [
    "DEADLINE_SECONDS",
    "MAX_ALIASES",
    "MAX_ALTERNATIVES",
    "MAX_BODY_BYTES",
    "MAX_COMMENTS",
    "MAX_CONDITIONS",
    "MAX_COST",
    "MAX_DEPTH",
    "MAX_FRAGMENT_SPREADS",
    "MAX_INPUT_DEPTH",
    "MAX_LIST_ITEMS",
    "MAX_NESTING",
    "MAX_QUERY_CHARS",
    "MAX_TOKENS",
    "MAX_VARIABLES_BYTES",
    "ArgumentTooLargeError",
    "InvalidTextError",
    "Measure",
    "OperationMeasure",
    "QueryLimits",
    "QueryLimitsExtension",
    "QueryLimitsRule",
    "QueryTooComplexError",
    "RequestLimits",
    "check_request",
    "check_request_once",
    "document_errors",
    "limits_rule",
    "structure_errors",
]
