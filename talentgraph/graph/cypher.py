"""Pure Cypher builders shared by every graph adapter, with a ``Dialect`` seam for what differs.

Every function returns query text (and, where values are involved, a params dict); nothing here
talks to a database, so the whole module is tested as strings. Labels, relationship types and
property names only ever come from ontology lookups (``Ontology.node``/``.rel``/``.prop``) or the
system property tuples, and are backtick-quoted anyway; values only ever travel as ``$params``.

What differs between LadybugDB (Kuzu dialect) and Neo4j is small and lives on the two dialect
classes: schema DDL, the label/type functions, list membership, list slicing and shortest path.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from talentgraph.errors import BadQueryError, OntologyError
from talentgraph.graph.port import MAX_PATH_HOPS
from talentgraph.schema.ontology import (
    SYSTEM_NODE_PROPERTIES,
    SYSTEM_REL_PROPERTIES,
    NodeType,
    Ontology,
    Property,
    PropType,
    RelType,
)
from talentgraph.types import And, Cmp, Direction, Filter, Linked, Not, Or, SortKey

Query = tuple[str, dict[str, Any]]

ID = Property("id", PropType.STRING, "Global node id, '<prefix>:<key>'.")
CHANGE_LOG = "ChangeLog"
# Column order matters: Ladybug's COPY maps Arrow columns by position.
CHANGE_LOG_COLUMNS: tuple[Property, ...] = (
    Property("seq", PropType.INT, "Strictly increasing change number."),
    Property("op", PropType.STRING, "upsert or delete."),
    Property("kind", PropType.STRING, "node or rel."),
    Property("type", PropType.STRING, "Node or relationship type."),
    Property("id", PropType.STRING, "Node id or relationship key."),
    Property("version", PropType.INT, "Version written (deletes: last version + 1)."),
    Property("ts", PropType.STRING, "When (ISO-8601 UTC)."),
    Property("from_id", PropType.STRING, "Relationship start node."),
    Property("to_id", PropType.STRING, "Relationship end node."),
)


def q(name: str) -> str:
    """Backtick-quote an identifier (names are already ontology-checked; this guards the syntax)."""
    return "`" + name.replace("`", "``") + "`"


# --- dialects -----------------------------------------------------------------------------------


class Dialect(Protocol):
    @property
    def name(self) -> str: ...

    def schema(self, ontology: Ontology) -> list[str]:
        """Statements that create every table/constraint/index; each is idempotent."""
        ...

    def typed(self, expr: str, prop: Property) -> str:
        """``expr`` as the column type of ``prop`` (for values read out of an UNWIND row)."""
        ...

    def null_of(self, prop: Property) -> str:
        """A null of ``prop``'s column type (a column one UNION ALL branch has no value for)."""
        ...

    def label_of(self, var: str) -> str: ...
    def rel_type_of(self, var: str) -> str: ...
    def props_of(self, var: str) -> str:
        """An expression returning the entity's properties as a map."""
        ...

    def list_contains(self, list_expr: str, value_expr: str) -> str: ...
    def list_overlaps(self, list_expr: str, values_expr: str) -> str: ...
    def list_head(self, list_expr: str, n_expr: str) -> str:
        """The first ``n`` elements of a list."""
        ...

    def shortest_path(self, a: str, b: str, hops: int, rel_types: Sequence[str] = (),
                      labels_param: str | None = None) -> str:
        """A MATCH clause binding ``p`` to one shortest undirected path from ``a`` to ``b``."""
        ...

    def path_rels(self, path: str) -> str: ...
    def order_before_collect(self, order: str) -> str:
        """A WITH … ORDER BY clause whose order a following collect() keeps."""
        ...

    def id_seek(self, var: str, label: str) -> str:
        """What follows a MATCH pattern binding ``var`` (of the quoted ``label``) by its id, so the node is
        looked up in the id index whatever the engine's statistics say."""
        ...

    def page(self, match: str, node_type: NodeType, keys: Sequence[tuple[Property, bool]],
             carry: Sequence[str] = ()) -> str:
        """``match`` (binding ``n``, of ``node_type``) cut to $limit rows in ``keys`` order, ids first, then
        those nodes read whole; ``carry``: values bound before ``match`` returned on every row (a count)."""
        ...


_LADYBUG_TYPES = {
    PropType.STRING: "STRING",
    PropType.INT: "INT64",
    PropType.FLOAT: "DOUBLE",
    PropType.BOOL: "BOOLEAN",
    PropType.DATE: "DATE",
    PropType.STRING_LIST: "STRING[]",
}


def node_columns(node_type: NodeType) -> tuple[Property, ...]:
    """Every stored column of a node table in creation order: id, ontology props, system props."""
    return (ID, *node_type.properties, *SYSTEM_NODE_PROPERTIES)


def rel_columns(rel_type: RelType) -> tuple[Property, ...]:
    """Every stored property of a relationship table in creation order."""
    return (*rel_type.properties, *SYSTEM_REL_PROPERTIES)


def _check_system_names(ontology: Ontology) -> None:
    if CHANGE_LOG in ontology.node_names:
        raise OntologyError(f"Node type {CHANGE_LOG!r} clashes with the change-log table.",
                            hint="Rename the node type in schema/ontology.py.")
    for n in ontology.node_types:
        for p in n.properties:
            if p.name == "id" or p.name in {s.name for s in SYSTEM_NODE_PROPERTIES}:
                raise OntologyError(f"{n.name}.{p.name} clashes with a system property.",
                                    hint="Rename the property in schema/ontology.py.")


@dataclass(frozen=True)
class LadybugDialect:
    name: str = "ladybug"

    def column_type(self, prop: Property) -> str:
        return _LADYBUG_TYPES[prop.type]

    def schema(self, ontology: Ontology) -> list[str]:
        _check_system_names(ontology)
        out: list[str] = []
        for n in ontology.node_types:
            cols = ", ".join(
                f"{q(p.name)} {self.column_type(p)}" + (" PRIMARY KEY" if p is ID else "") for p in node_columns(n)
            )
            out.append(f"CREATE NODE TABLE IF NOT EXISTS {q(n.name)}({cols})")
        for r in ontology.rel_types:
            pairs = ", ".join(f"FROM {q(ontology.node(f).name)} TO {q(ontology.node(t).name)}" for f, t in r.endpoints)
            cols = ", ".join(f"{q(p.name)} {self.column_type(p)}" for p in rel_columns(r))
            out.append(f"CREATE REL TABLE IF NOT EXISTS {q(r.name)}({pairs}, {cols})")
        cols = ", ".join(
            f"{q(p.name)} {self.column_type(p)}" + (" PRIMARY KEY" if p.name == "seq" else "")
            for p in CHANGE_LOG_COLUMNS
        )
        out.append(f"CREATE NODE TABLE IF NOT EXISTS {q(CHANGE_LOG)}({cols})")
        return out

    def add_column(self, table: str, prop: Property) -> str:
        """For a table created before the ontology gained ``prop`` (Ladybug tables are typed)."""
        return f"ALTER TABLE {q(table)} ADD IF NOT EXISTS {q(prop.name)} {self.column_type(prop)}"

    def typed(self, expr: str, prop: Property) -> str:
        # Ladybug infers a parameter's type from its Python values: a column that is null in every
        # row of a batch arrives as STRING and would not bind to an INT64/DATE/list column.
        if prop.type is PropType.STRING:
            return expr
        return f"CAST({expr} AS {self.column_type(prop)})"

    def null_of(self, prop: Property) -> str:
        # The branches of a UNION ALL must agree on every column's type, and an untyped NULL is ANY.
        return f"CAST(NULL AS {self.column_type(prop)})"

    def label_of(self, var: str) -> str:
        return f"label({var})"

    def rel_type_of(self, var: str) -> str:
        return f"label({var})"

    def props_of(self, var: str) -> str:
        return var  # a node/rel value converts to a dict (plus _ID/_LABEL, dropped by graph.common)

    def list_contains(self, list_expr: str, value_expr: str) -> str:
        return f"list_contains({list_expr}, {value_expr})"

    def list_overlaps(self, list_expr: str, values_expr: str) -> str:
        # any(x IN l WHERE x IN $p) trips an assertion in Ladybug 0.22 when $p is a parameter.
        return f"list_has_any({list_expr}, {values_expr})"

    def list_head(self, list_expr: str, n_expr: str) -> str:
        return f"list_slice({list_expr}, 1, {n_expr})"  # 1-based, inclusive

    def shortest_path(self, a: str, b: str, hops: int, rel_types: Sequence[str] = (),
                      labels_param: str | None = None) -> str:
        types = ":" + "|".join(q(t) for t in rel_types) if rel_types else ""
        # Kuzu's recursive-pattern filter: intermediate nodes must carry one of the allowed labels.
        nodes = f" (r, n | WHERE label(n) IN {labels_param})" if labels_param else ""
        return f"MATCH p = ({a})-[{types}* SHORTEST 1..{int(hops)}{nodes}]-({b})"

    def path_rels(self, path: str) -> str:
        return f"rels({path})"

    def order_before_collect(self, order: str) -> str:
        return f"ORDER BY {order} SKIP 0"  # Kuzu only accepts ORDER BY in WITH with SKIP/LIMIT

    def id_seek(self, var: str, label: str) -> str:
        return ""  # the id is the primary key: a match on it is a lookup in that index, always

    def page(self, match: str, node_type: NodeType, keys: Sequence[tuple[Property, bool]],
             carry: Sequence[str] = ()) -> str:
        # LadybugDB reads every column of every row a node variable carries into ORDER BY. Sorting the
        # id and sort keys alone, then looking the page's ids up, measured at 50k persons (21 rows, busy
        # 2-core machine): by id 404 -> 27 ms, by name 423 -> 106 ms. (A collect() between the two
        # loses the WITH's ORDER BY/LIMIT in LadybugDB 0.x: wrong pages, so not that way.)
        return page_by_ids(self, match, node_type, keys, carry)


@dataclass(frozen=True)
class Neo4jDialect:
    name: str = "neo4j"

    def schema(self, ontology: Ontology) -> list[str]:
        _check_system_names(ontology)
        out: list[str] = []
        for n in ontology.node_types:
            base = _snake(n.name)
            out.append(f"CREATE CONSTRAINT {base}_id IF NOT EXISTS FOR (n:{q(n.name)}) REQUIRE n.{q('id')} IS UNIQUE")
            for p in n.properties:
                if not (p.facet or p.sortable):
                    continue
                if p.type is PropType.STRING_LIST:
                    # A range index holds a list as one value: it answers only a whole-list equality, which no
                    # filter asks (``compile_filter``: a list field's eq/in/contains are membership tests, which
                    # Neo4j plans as a label scan and a filter), and costs every write (56,154 people merged with
                    # languages and skills indexed: 9.0 s, 11.1 s of Neo4j CPU; without: 7.8 s, 9.0 s). One an
                    # earlier version made is dropped.
                    out.append(f"DROP INDEX {base}_{p.name} IF EXISTS")
                    continue
                out.append(f"CREATE INDEX {base}_{p.name} IF NOT EXISTS FOR (n:{q(n.name)}) ON (n.{q(p.name)})")
        for r in ontology.rel_types:
            # No index on a relationship's key: every statement finds a relationship from its ends (a key is made
            # of them: ``existing_rels``, ``upsert_rels``, ``delete_rels``), so none reads one, and each write paid
            # for it (52,252 LIVES_IN merged: 3.19 s and 3.85 s of Neo4j CPU with it, 2.61 s and 2.86 s without).
            # One an earlier version made is dropped.
            out.append(f"DROP INDEX {_snake(r.name)}_key IF EXISTS")
        out.append(
            f"CREATE CONSTRAINT change_log_seq IF NOT EXISTS FOR (c:{q(CHANGE_LOG)}) REQUIRE c.{q('seq')} IS UNIQUE"
        )
        return out

    def typed(self, expr: str, prop: Property) -> str:
        return expr  # the driver sends typed values; Neo4j properties are untyped

    def null_of(self, prop: Property) -> str:
        return "NULL"

    def label_of(self, var: str) -> str:
        return f"labels({var})[0]"

    def rel_type_of(self, var: str) -> str:
        return f"type({var})"

    def props_of(self, var: str) -> str:
        return f"properties({var})"

    def list_contains(self, list_expr: str, value_expr: str) -> str:
        return f"{value_expr} IN {list_expr}"

    def list_overlaps(self, list_expr: str, values_expr: str) -> str:
        return f"any(x IN {list_expr} WHERE x IN {values_expr})"

    def list_head(self, list_expr: str, n_expr: str) -> str:
        return f"{list_expr}[0..{n_expr}]"

    def shortest_path(self, a: str, b: str, hops: int, rel_types: Sequence[str] = (),
                      labels_param: str | None = None) -> str:
        types = ":" + "|".join(q(t) for t in rel_types) if rel_types else ""
        text = f"MATCH p = shortestPath(({a})-[{types}*..{int(hops)}]-({b}))"
        if labels_param:
            text += f" WHERE all(x IN nodes(p) WHERE labels(x)[0] IN {labels_param})"
        return text

    def path_rels(self, path: str) -> str:
        return f"relationships({path})"

    def order_before_collect(self, order: str) -> str:
        return f"ORDER BY {order}"

    def id_seek(self, var: str, label: str) -> str:
        # Neo4j plans a match by id from the statistics it holds when the statement is first planned, and keeps
        # the plan (replanning at most every 10 s): planned while the label's index looked empty (just after a
        # wipe, or on a new database), ``UNWIND $ids … MATCH (a:Person {id: a_id})`` scanned the whole id index
        # once per id — a search sync's edge reads took 1.5-1.8 s for 1,000 ids of 3,000 people instead of
        # 0.04 s. The hint makes every such match a seek in the unique id index, as it is on a settled database.
        return f" USING INDEX SEEK {var}:{label}({q('id')})"

    def page(self, match: str, node_type: NodeType, keys: Sequence[tuple[Property, bool]],
             carry: Sequence[str] = ()) -> str:
        # Neo4j reads properties lazily: cutting the page before the projection is enough.
        return page_keeping_nodes(self, match, node_type, keys, carry)


LADYBUG = LadybugDialect()
NEO4J = Neo4jDialect()


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# --- field resolution ---------------------------------------------------------------------------


def node_field(types: Sequence[NodeType], name: str) -> Property:
    """The property ``name`` on any of ``types`` (or ``id``/a system property); OntologyError otherwise."""
    if name == "id":
        return ID
    for s in SYSTEM_NODE_PROPERTIES:
        if s.name == name:
            return s
    for t in types:
        if t.has(name):
            return t.prop(name)
    known = sorted({p.name for t in types for p in t.properties})
    raise OntologyError(
        f"{' / '.join(t.name for t in types)} has no field {name!r}.",
        hint=f"Known fields: id, {', '.join(known)}, {', '.join(s.name for s in SYSTEM_NODE_PROPERTIES)}.",
    )


def rel_field(rel_type: RelType, name: str) -> Property:
    for s in SYSTEM_REL_PROPERTIES:
        if s.name == name:
            return s
    return rel_type.prop(name)


# --- values -------------------------------------------------------------------------------------


def to_db_value(prop: Property, value: Any) -> Any:
    """A Python value as the engine stores it (ISO date strings become ``datetime.date``)."""
    if value is None:
        return None
    if prop.type is PropType.DATE and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise BadQueryError(f"{prop.name}: {value!r} is not a date.", hint="Use YYYY-MM-DD.") from exc
    return value


_TYPE_CHECKS: dict[PropType, Callable[[Any], bool]] = {
    PropType.STRING: lambda v: isinstance(v, str),
    PropType.INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
    PropType.FLOAT: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    PropType.BOOL: lambda v: isinstance(v, bool),
    PropType.DATE: lambda v: isinstance(v, (str, dt.date)),
    PropType.STRING_LIST: lambda v: isinstance(v, str),
}


def _check_value(prop: Property, value: Any, *, as_element: bool = False) -> Any:
    """Check a filter value against the field's type and convert it for the engine."""
    kind = PropType.STRING if (prop.type is PropType.STRING_LIST and as_element) else prop.type
    if not _TYPE_CHECKS[kind](value):
        raise BadQueryError(
            f"Filter on {prop.name}: {value!r} is not a {kind.value}.",
            hint=f"Give a {kind.value} value for {prop.name}.",
        )
    return to_db_value(prop, value)


@dataclass
class Params:
    """Collects parameter values under generated names (prefix keeps builders from colliding)."""

    prefix: str
    values: dict[str, Any] = field(default_factory=dict)

    def add(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return "$" + name


# --- filters ------------------------------------------------------------------------------------


def compile_filter(
    f: Filter,
    var: str,
    resolve: Callable[[str], Property],
    params: Params,
    dialect: Dialect,
) -> str:
    """A boolean Cypher expression for ``f`` over ``var``; ``resolve(name) -> Property`` checks names.

    On list properties ``eq``/``contains`` mean "the list contains the value" and ``in`` means
    "the list shares any value with the given ones"; ``ne`` keeps rows where the field is null.
    """
    if isinstance(f, And):
        parts = [compile_filter(x, var, resolve, params, dialect) for x in f.items]
        return "(" + " AND ".join(parts) + ")" if parts else "true"
    if isinstance(f, Or):
        parts = [compile_filter(x, var, resolve, params, dialect) for x in f.items]
        return "(" + " OR ".join(parts) + ")" if parts else "false"
    if isinstance(f, Not):
        return f"(NOT {compile_filter(f.item, var, resolve, params, dialect)})"
    if isinstance(f, Linked):
        return _linked(f, var, params)
    if not isinstance(f, Cmp):
        raise BadQueryError(f"Filter {f!r} is not a Cmp, And, Or, Not or Linked.",
                            hint="Build filters from talentgraph.types.")
    prop: Property = resolve(f.field)
    ref = f"{var}.{q(prop.name)}"
    is_list = prop.type is PropType.STRING_LIST
    op = f.op
    if op == "is_null":
        return f"{ref} IS NULL" if f.value in (None, True) else f"{ref} IS NOT NULL"
    if op == "is_own_id":  # e.g. the canonical record of an entity-resolution cluster
        if prop.type is not PropType.STRING:
            raise BadQueryError(f"Filter {f.field} is_own_id: {f.field} is a {prop.type.value}.")
        same = f"{ref} = {var}.{q('id')}"
        return same if f.value in (None, True) else f"({ref} IS NULL OR {ref} <> {var}.{q('id')})"
    if f.value is None and op in ("eq", "ne"):
        return f"{ref} IS NULL" if op == "eq" else f"{ref} IS NOT NULL"
    if op in ("eq", "ne"):
        p = params.add(_check_value(prop, f.value, as_element=True))
        test = dialect.list_contains(ref, p) if is_list else f"{ref} = {p}"
        return test if op == "eq" else f"({ref} IS NULL OR NOT ({test}))"
    if op == "in":
        if not isinstance(f.value, (list, tuple, set, frozenset)):
            raise BadQueryError(f"Filter {f.field} in {f.value!r}: 'in' takes a list of values.",
                                hint="Pass a list, e.g. ['en', 'fr'].")
        p = params.add([_check_value(prop, v, as_element=True) for v in f.value])
        return dialect.list_overlaps(ref, p) if is_list else f"{ref} IN {p}"
    if op == "contains":
        if prop.type not in (PropType.STRING, PropType.STRING_LIST):
            raise BadQueryError(f"Filter {f.field} contains: {f.field} is a {prop.type.value}.",
                                hint="'contains' works on text and list fields; use eq/gt/lt for others.")
        p = params.add(_check_value(prop, f.value, as_element=True))
        return dialect.list_contains(ref, p) if is_list else f"{ref} CONTAINS {p}"
    if op == "starts_with":
        if prop.type is not PropType.STRING:
            raise BadQueryError(f"Filter {f.field} starts_with: {f.field} is a {prop.type.value}.",
                                hint="'starts_with' works on text fields only.")
        return f"{ref} STARTS WITH {params.add(_check_value(prop, f.value))}"
    if op in _RANGE_OPS:
        if is_list or prop.type is PropType.BOOL:
            raise BadQueryError(f"Filter {f.field} {op}: {f.field} is a {prop.type.value}.",
                                hint="Range comparisons work on numbers, dates and text.")
        return f"{ref} {_RANGE_OPS[op]} {params.add(_check_value(prop, f.value))}"
    raise BadQueryError(f"Filter {f.field}: unknown operator {op!r}.",
                        hint="Use eq, ne, in, contains, starts_with, gt, gte, lt, lte or is_null.")


_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _linked(f: Linked, var: str, params: Params) -> str:
    """An existential subquery: both engines plan it as a lookup from ``var`` along one rel type."""
    if not _IDENT.match(f.rel_type) or f.direction not in ("out", "in"):
        raise BadQueryError(f"Linked filter {f.rel_type!r}/{f.direction!r} is not a relationship type and direction.")
    if not f.ids:
        return "false"
    arrow = f"-[:{q(f.rel_type)}]->" if f.direction == "out" else f"<-[:{q(f.rel_type)}]-"
    p = params.add(list(f.ids))
    x = f"{var}_lk{len(params.values)}"
    return f"EXISTS {{ MATCH ({var}){arrow}({x}) WHERE {x}.{q('id')} IN {p} }}"


def filter_fields(f: Filter) -> set[str]:
    """Every field name a filter compares."""
    if isinstance(f, Linked):
        return set()
    if isinstance(f, Cmp):
        return {f.field}
    if isinstance(f, Not):
        return filter_fields(f.item)
    return set().union(*(filter_fields(i) for i in f.items))


_RANGE_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _where(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p and p != "true"]
    return (" WHERE " + " AND ".join(parts)) if parts else ""


# --- keyset cursors -----------------------------------------------------------------------------


def sort_keys(node_type: NodeType, sort: Sequence[SortKey]) -> list[tuple[Property, bool]]:
    """The effective order: the caller's keys, then ``id`` as the tiebreak that makes it total."""
    keys: list[tuple[Property, bool]] = []
    for s in sort:
        prop = node_field([node_type], s.field)
        if prop.type is PropType.STRING_LIST:
            raise BadQueryError(f"Cannot sort {node_type.name} by {s.field}: it is a list.",
                                hint="Sort by a single-valued field.")
        keys.append((prop, s.descending))
        if prop is ID:
            return keys  # id is unique: later keys never decide anything
    keys.append((ID, False))
    return keys


def encode_cursor(keys: Sequence[tuple[Property, bool]], values: Sequence[Any]) -> str:
    body = {
        "k": [[p.name, desc] for p, desc in keys],
        "v": [v.isoformat() if isinstance(v, dt.date) else v for v in values],
    }
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[tuple[Property, bool]]) -> list[Any]:
    """Sort values (engine types) from a cursor made for the same sort; BadQueryError otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = json.loads(raw)
        names, values = body["k"], body["v"]
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise BadQueryError(f"Cursor {cursor[:40]!r} is not a cursor this server made.",
                            hint="Pass the endCursor of the previous page unchanged.") from exc
    expected = [[p.name, desc] for p, desc in keys]
    if names != expected or not isinstance(values, list) or len(values) != len(keys):
        raise BadQueryError(f"Cursor {cursor[:40]!r} was made for a different sort order.",
                            hint="Keep the same sort between pages, or start again without 'after'.")
    out = []
    for (p, _), v in zip(keys, values):
        out.append(None if v is None else _check_value(p, v))
    return out


def keyset_predicate(var: str, keys: Sequence[tuple[Property, bool]], values: Sequence[Any], params: Params) -> str:
    """Rows strictly after ``values`` in the order of ``order_by(keys)`` (nulls last both ways)."""
    terms: list[str] = []
    prefix: list[str] = []
    for (prop, desc), value in zip(keys, values):
        ref = f"{var}.{q(prop.name)}"
        cmp = "<" if desc else ">"
        if value is None:
            after = None  # nothing sorts after null inside this key
            same = f"{ref} IS NULL"
        else:
            p = params.add(value)
            after = f"{ref} {cmp} {p}" if prop is ID else f"({ref} IS NULL OR {ref} {cmp} {p})"
            same = f"{ref} = {p}"
        if after:
            terms.append("(" + " AND ".join([*prefix, after]) + ")")
        prefix.append(same)
    return "(" + " OR ".join(terms) + ")" if terms else "false"


def order_by(var: str, keys: Sequence[tuple[Property, bool]]) -> str:
    return _order([(f"{var}.{q(prop.name)}", prop, desc) for prop, desc in keys])


def _order(refs: Sequence[tuple[str, Property, bool]]) -> str:
    parts: list[str] = []
    for ref, prop, desc in refs:
        if prop is not ID:
            parts.append(f"{ref} IS NULL")  # false < true puts nulls last in either direction
        parts.append(f"{ref} DESC" if desc else ref)
    return ", ".join(parts)


# --- node reads ---------------------------------------------------------------------------------


def _node_return(dialect: Dialect, node_type: NodeType, var: str = "n") -> str:
    # Every stored column by name, not the node value: LadybugDB then hands a page over as Arrow (get_nodes).
    return f"{var}.{q('id')} AS id, {dialect.label_of(var)} AS type, {node_fields_map(node_type, None, var)} AS props"


def _by_ids(dialect: Dialect, var: str, label: str, param: str = "ids") -> str:
    """Match nodes of one label by a list of ids.

    UNWIND + MATCH on the key, not ``WHERE id IN $ids``: Ladybug checks IN-lists row by row (5,000
    ids against 50,000 nodes took 1.9 s) but looks each unwound id up in the primary-key index
    (25 ms); Neo4j plans both as index seeks.
    """
    return f"UNWIND ${param} AS {var}_id MATCH ({var}:{label} {{{q('id')}: {var}_id}}){dialect.id_seek(var, label)}"


def get_nodes(dialect: Dialect, ontology: Ontology, type_name: str, ids: Sequence[str],
              fields: Sequence[str] | None = None) -> Query:
    """Nodes of one type by id (the adapter groups ids per label: an index lookup each).

    ``fields``: only these properties (those the type or the system columns have), not the whole node —
    the claims and hashes a reader such as the change feed does not need are not converted. Without them,
    every stored column as named columns, not the node value: LadybugDB then hands rows over as Arrow
    (20,000 residents: 1.9 s against 3.3 s converted value by value), and the nulls are dropped alike."""
    nt = ontology.node(type_name)
    label = q(nt.name)
    props = node_fields_map(nt, fields)
    return (f"{_by_ids(dialect, 'n', label)} RETURN n.{q('id')} AS id, {dialect.label_of('n')} AS type, "
            f"{props} AS props", {"ids": list(ids)})


def existing_nodes(dialect: Dialect, ontology: Ontology, type_name: str, ids: Sequence[str]) -> Query:
    """id, content_hash, version and ingested_at of the stored nodes among ``ids``."""
    label = q(ontology.node(type_name).name)
    return (
        f"{_by_ids(dialect, 'n', label)} "
        f"RETURN n.{q('id')} AS id, n.{q('content_hash')} AS hash, n.{q('version')} AS version, "
        f"n.{q('ingested_at')} AS ingested_at",
        {"ids": list(ids)},
    )


def _node_filter(ontology: Ontology, type_name: str, where: Filter | None, params: Params, dialect: Dialect,
                 var: str = "n") -> str:
    if where is None:
        return ""
    nt = ontology.node(type_name)
    return compile_filter(where, var, lambda name: node_field([nt], name), params, dialect)


def list_nodes(
    dialect: Dialect,
    ontology: Ontology,
    type_name: str,
    *,
    where: Filter | None = None,
    sort: Sequence[SortKey] = (),
    first: int = 20,
    after: str | None = None,
    count: bool = False,
) -> tuple[str, dict[str, Any], list[tuple[Property, bool]]]:
    """One page (``first + 1`` rows, so the caller can tell whether there is a next page) and its keys.

    ``count``: every row also carries ``total``, the matches of ``where`` on every page (counted in
    the same statement, before the page; a page with no row carries none)."""
    if first < 0:
        raise BadQueryError(f"first is {first}.", hint="Ask for zero or more items.")
    nt = ontology.node(type_name)
    keys = sort_keys(nt, sort)
    params = Params("w")
    parts = [_node_filter(ontology, type_name, where, params, dialect)]
    if after:
        parts.append(keyset_predicate("n", keys, decode_cursor(after, keys), Params("c", params.values)))
    match = f"MATCH (n:{q(nt.name)}){_where(parts)}"
    carry: tuple[str, ...] = ()
    if count:
        counted = _node_filter(ontology, type_name, where, Params("k", params.values), dialect, var="c")
        match = f"MATCH (c:{q(nt.name)}){_where([counted])} WITH count(c) AS total {match}"
        carry = ("total",)
    text = dialect.page(match, nt, keys, carry)
    return text, {**params.values, "limit": first + 1}, keys


def page_keeping_nodes(dialect: Dialect, match: str, node_type: NodeType, keys: Sequence[tuple[Property, bool]],
                       carry: Sequence[str] = ()) -> str:
    """The page cut by a WITH … LIMIT before any property is projected (engines that read lazily)."""
    order = order_by("n", keys)
    kept = "".join(f"{c}, " for c in carry)
    return (f"{match} WITH {kept}n ORDER BY {order} LIMIT $limit "
            f"RETURN {kept}{_node_return(dialect, node_type)} ORDER BY {order}")


def page_by_ids(dialect: Dialect, match: str, node_type: NodeType, keys: Sequence[tuple[Property, bool]],
                carry: Sequence[str] = ()) -> str:
    """Sort and cut only the ids and sort keys, then look the page's nodes up by id, in one statement."""
    cols = [(f"s{i}", prop, desc) for i, (prop, desc) in enumerate(keys)]
    carried = ", ".join(f"n.{q(prop.name)} AS {alias}" for alias, prop, _ in cols)
    if not any(prop is ID for _, prop, _ in cols):
        raise BadQueryError("A page's sort keys must end with id.", hint="Build them with sort_keys().")
    page_id = next(alias for alias, prop, _ in cols if prop is ID)
    order = _order(cols)
    kept = "".join(f"{c}, " for c in carry)
    return (f"{match} WITH {kept}{carried} ORDER BY {order} LIMIT $limit "
            f"MATCH (m:{q(node_type.name)} {{{q('id')}: {page_id}}}){dialect.id_seek('m', q(node_type.name))} "
            f"RETURN {kept}{_node_return(dialect, node_type, 'm')} ORDER BY {order}")


def count_nodes(dialect: Dialect, ontology: Ontology, type_name: str, where: Filter | None = None) -> Query:
    nt = ontology.node(type_name)
    params = Params("w")
    cond = _node_filter(ontology, type_name, where, params, dialect)
    return f"MATCH (n:{q(nt.name)}){_where([cond])} RETURN count(n) AS count", params.values


def facet_counts(
    dialect: Dialect, ontology: Ontology, type_name: str, field_name: str, where: Filter | None = None
) -> Query:
    """value, count rows, most frequent first; list properties count each element."""
    nt = ontology.node(type_name)
    prop = nt.prop(field_name)
    params = Params("w")
    cond = _node_filter(ontology, type_name, where, params, dialect)
    ref = f"n.{q(prop.name)}"
    source = f"UNWIND {ref} AS value WITH value" if prop.type is PropType.STRING_LIST else f"WITH {ref} AS value"
    return (
        f"MATCH (n:{q(nt.name)}){_where([cond])} {source} WHERE value IS NOT NULL "
        "RETURN value, count(*) AS count ORDER BY count DESC, value",
        params.values,
    )


def grouped_counts(
    dialect: Dialect, ontology: Ontology, type_name: str, rel_type: str, direction: Direction,
    field_name: str | None = None, where: Filter | None = None,
) -> Query:
    """grp, (value,) count rows: ``type_name`` nodes linked by ``rel_type`` to a node in $ids, counted per
    linked node (and per value of ``field_name``; list properties count each element)."""
    nt = ontology.node(type_name)
    rt = ontology.rel(rel_type)
    if direction not in ("out", "in"):
        raise BadQueryError(f"direction is {direction!r}.", hint="Use 'out' or 'in'.")
    ends = [t for f, t in rt.endpoints if f == nt.name] if direction == "out" else \
        [f for f, t in rt.endpoints if t == nt.name]
    if not ends:
        raise BadQueryError(f"{rt.name} does not start at {nt.name} going {direction}.",
                            hint=f"{rt.name} links {', '.join(f'{a}->{b}' for a, b in rt.endpoints)}.")
    params = Params("w")
    cond = _node_filter(ontology, type_name, where, params, dialect)
    arrow = f"-[:{q(rt.name)}]->" if direction == "out" else f"<-[:{q(rt.name)}]-"
    # The far end labelled when it can be one type only (LadybugDB binds an unlabelled end to every table).
    g = f"(g:{q(ends[0])})" if len(set(ends)) == 1 else "(g)"
    in_groups = f"g.{q('id')} IN $ids"
    head = f"MATCH (n:{q(nt.name)}){arrow}{g}{_where([in_groups, cond])}"
    if field_name is None:
        return f"{head} RETURN g.{q('id')} AS grp, count(*) AS count", params.values
    prop = nt.prop(field_name)
    ref = f"n.{q(prop.name)}"
    source = f"UNWIND {ref} AS value WITH g, value" if prop.type is PropType.STRING_LIST else f"WITH g, {ref} AS value"
    return (f"{head} {source} WHERE value IS NOT NULL RETURN g.{q('id')} AS grp, value, count(*) AS count",
            params.values)


# --- node writes --------------------------------------------------------------------------------


def upsert_nodes(dialect: Dialect, ontology: Ontology, type_name: str) -> str:
    """UNWIND $rows MERGE by id and SET every column (rows carry all columns, nulls included)."""
    nt = ontology.node(type_name)
    sets = ", ".join(f"n.{q(p.name)} = {dialect.typed(f'r.{q(p.name)}', p)}" for p in node_columns(nt) if p is not ID)
    return f"UNWIND $rows AS r MERGE (n:{q(nt.name)} {{{q('id')}: r.{q('id')}}}) SET {sets}"


def update_nodes(dialect: Dialect, ontology: Ontology, type_name: str,
                 columns: Collection[str] | None = None) -> str:
    """UNWIND $rows MATCH stored nodes by id and SET ``columns`` (None: every column); rows carry the id and those.

    For nodes known to exist (read in the same write transaction). MATCH, not MERGE, and only the columns
    that changed: LadybugDB 0.x, 1,000 residents' updates of their entity-resolution cluster: MERGE + every
    column 0.25-0.39 ms a row, MATCH + every column 0.09-0.11, MATCH + the 5 that changed 0.013."""
    nt = ontology.node(type_name)
    sets = ", ".join(f"n.{q(p.name)} = {dialect.typed(f'r.{q(p.name)}', p)}" for p in node_columns(nt)
                     if p is not ID and (columns is None or p.name in columns))
    if not sets:
        raise ValueError(f"update_nodes({type_name!r}): no column to set among {sorted(columns or ())}")
    return (f"UNWIND $rows AS r MATCH (n:{q(nt.name)} {{{q('id')}: r.{q('id')}}}){dialect.id_seek('n', q(nt.name))} "
            f"SET {sets}")


def delete_nodes(dialect: Dialect, ontology: Ontology, type_name: str) -> str:
    """DETACH DELETE the nodes in $ids (read their relationships first for tombstones)."""
    nt = ontology.node(type_name)
    return f"{_by_ids(dialect, 'n', q(nt.name))} DETACH DELETE n"


def rels_of_nodes(dialect: Dialect, ontology: Ontology, type_name: str) -> str:
    """Every relationship touching the nodes in $ids (for delete tombstones)."""
    nt = ontology.node(type_name)
    return (
        f"{_by_ids(dialect, 'n', q(nt.name))} MATCH (n)-[r]-() "
        f"RETURN DISTINCT {dialect.rel_type_of('r')} AS type, r.{q('key')} AS key, r.{q('version')} AS version"
    )


# --- relationships ------------------------------------------------------------------------------


def existing_rels(dialect: Dialect, ontology: Ontology, rel_type: str, from_type: str) -> str:
    """key, content_hash, version, ingested_at of every ``rel_type`` relationship leaving the nodes in $ids (the
    caller keeps the keys it asked about).

    Starts from the indexed start node, so the cost follows the batch, not the relationship table. No predicate on
    the key: with ``r.key = k.key`` Neo4j planned a scan of the relationship key index per row once its statistics
    said the type held few relationships (seen beside the contract suite), and LadybugDB compared every candidate
    relationship per row (0.70 s for 5,000 LIVES_IN keys against 0.065 s by start node).
    """
    a = q(ontology.node(from_type).name)
    return (
        f"UNWIND $ids AS i MATCH (a:{a} {{{q('id')}: i}})-[r:{q(ontology.rel(rel_type).name)}]->()"
        f"{dialect.id_seek('a', a)} "
        f"RETURN r.{q('key')} AS key, r.{q('content_hash')} AS hash, r.{q('version')} AS version, "
        f"r.{q('ingested_at')} AS ingested_at"
    )


def upsert_rels(dialect: Dialect, ontology: Ontology, rel_type: str, from_type: str, to_type: str) -> str:
    """UNWIND $rows: match both ends by label + id, MERGE the relationship between them, SET every property.

    Merged on its two ends, not on ``key``: a key is made of its ends and type (``types.rel_key``), so the pair
    stands for it, and a key in the pattern let Neo4j plan the MERGE as a scan of the key index per row — the plan
    cached when that type held few relationships (50k demo, party members: 4,319 rows 15.7 s instead of 0.3 s)."""
    rt = ontology.rel(rel_type)
    if not rt.allows(from_type, to_type):
        raise OntologyError(f"{rel_type} does not connect {from_type} to {to_type}.",
                            hint=f"Allowed: {', '.join(f'{a}->{b}' for a, b in rt.endpoints)}.")
    a, b = q(ontology.node(from_type).name), q(ontology.node(to_type).name)
    sets = ", ".join(f"x.{q(p.name)} = {dialect.typed(f'r.{q(p.name)}', p)}" for p in rel_columns(rt))
    return (
        f"UNWIND $rows AS r MATCH (a:{a} {{{q('id')}: r.from_id}}), (b:{b} {{{q('id')}: r.to_id}})"
        f"{dialect.id_seek('a', a)}{dialect.id_seek('b', b)} MERGE (a)-[x:{q(rt.name)}]->(b) SET {sets}"
    )


def delete_rels(dialect: Dialect, ontology: Ontology, rel_type: str, from_type: str) -> tuple[str, str]:
    """(read stored versions, delete) for relationships of one type among $rows of {from_id, to_id, key}.

    Found between their ends (a key is made of them) and not by ``r.key = k.key``, which Neo4j sometimes planned as
    a scan of the relationship key index per row (``existing_rels``)."""
    rt = q(ontology.rel(rel_type).name)
    a = q(ontology.node(from_type).name)
    match = (f"UNWIND $rows AS k MATCH (a:{a} {{{q('id')}: k.from_id}})-[r:{rt}]->(b){dialect.id_seek('a', a)} "
             f"WHERE b.{q('id')} = k.to_id")
    return f"{match} RETURN r.{q('key')} AS key, r.{q('version')} AS version", f"{match} DELETE r"


# --- what one source wrote (a snapshot job ends what its new file no longer has) -----------------


def nodes_claimed_by(ontology: Ontology, type_name: str) -> str:
    """Ids of the nodes of one type source $job has a claim on, or wrote last and nobody claims.

    $first/$later are ``claims.source_needles($job)``: texts ``prov`` holds exactly when the job is
    one of its sources. A node without ``prov`` (written before claims, or claimed by nobody)
    belongs to its last writer (``claims.load``).
    """
    label = q(ontology.node(type_name).name)
    prov = f"n.{q('prov')}"
    return (
        f"MATCH (n:{label}) WHERE ({prov} IS NULL AND n.{q('src_job')} = $job) "
        f"OR {prov} STARTS WITH $first OR {prov} CONTAINS $later RETURN n.{q('id')} AS id"
    )


def rels_written_by(ontology: Ontology, rel_type: str, from_type: str) -> str:
    """Keys of the relationships of one type from nodes of ``from_type`` that source $job wrote last.

    A relationship is written whole, so its last writer (``src_job``) is the source that owns it.
    """
    rt = q(ontology.rel(rel_type).name)
    a = q(ontology.node(from_type).name)
    return f"MATCH (a:{a})-[r:{rt}]->() WHERE r.{q('src_job')} = $job RETURN r.{q('key')} AS key"


def delete_rels_written_by(dialect: Dialect, ontology: Ontology, rel_type: str, from_type: str) -> tuple[str, str]:
    """(read stored versions, delete) for the relationships among $rows of {from_id, to_id, key} that
    source $job wrote last: a key another source has written since is left alone (found as ``delete_rels``)."""
    rt = q(ontology.rel(rel_type).name)
    a = q(ontology.node(from_type).name)
    match = (f"UNWIND $rows AS k MATCH (a:{a} {{{q('id')}: k.from_id}})-[r:{rt}]->(b){dialect.id_seek('a', a)} "
             f"WHERE b.{q('id')} = k.to_id AND r.{q('src_job')} = $job")
    return f"{match} RETURN r.{q('key')} AS key, r.{q('version')} AS version", f"{match} DELETE r"


def edges(
    dialect: Dialect,
    ontology: Ontology,
    ids: Sequence[str],
    rel_type: str,
    direction: Direction,
    *,
    parent_type: str | None = None,
    other_type: str | None = None,
    where: Filter | None = None,
    edge_where: Filter | None = None,
    limit_per_node: int | None = None,
    other_types: Sequence[str] | None = None,
    far_props: Sequence[str] | None = None,
    rel_props: Sequence[str] | None = None,
) -> Query:
    """Relationships of one type for every id in ``ids`` in one query.

    ``other_types`` keeps only far ends of these types (a role that may not see some of them).
    ``far_props``: the far node comes back with its id and only these properties (those its type
    has), not whole — a walk that needs an area's level reads one column, not every property.
    ``rel_props``: the relationship likewise, as its key and these properties (not its claims).

    ``other_type`` labels the far end: LadybugDB binds an unlabelled end of a multi-pair
    relationship table to every node table it could be (measured: 17 ms instead of 1.5 ms for one
    parent), so its adapter asks once per reachable type.

    ``where`` filters the other node (its fields may come from any type the relationship reaches),
    ``edge_where`` the relationship. Rows: ``src`` (the parent id) and either ``rel``/``type``/``node``
    (one row per edge, ordered by parent then other id; for one parent also with ``limit_per_node``)
    or, with ``limit_per_node`` and several parents, ``items``: a list of {rel, type, node} maps in the
    same order, cut to the limit inside the query.
    """
    rt = ontology.rel(rel_type)
    if direction not in ("out", "in"):
        raise BadQueryError(f"direction is {direction!r}.", hint="Use 'out' or 'in'.")
    others = rt.to_types if direction == "out" else rt.from_types
    if other_type is not None:
        others = (ontology.node(other_type).name,)
    params = Params("w")
    label = q(ontology.node(parent_type).name) if parent_type else None
    a = f"(a:{label} {{{q('id')}: a_id}})" if label else f"(a {{{q('id')}: a_id}})"
    seek = dialect.id_seek("a", label) if label else ""  # a hint needs the label; an unlabelled match gets none
    arrow = f"-[r:{q(rt.name)}]->" if direction == "out" else f"<-[r:{q(rt.name)}]-"
    parts: list[str] = []
    if where is not None:
        types = [ontology.node(t) for t in others]
        parts.append(compile_filter(where, "b", lambda n: node_field(types, n), params, dialect))
    if edge_where is not None:
        parts.append(compile_filter(edge_where, "r", lambda n: rel_field(rt, n), Params("e", params.values), dialect))
    if other_types is not None:
        parts.append(f"{dialect.label_of('b')} IN {params.add([ontology.node(t).name for t in other_types])}")
    b = f"(b:{q(others[0])})" if other_type is not None else "(b)"
    if len(ids) == 1:
        # One parent (a DataLoader batch of one): a plain parameter lets the planner use the id index
        # directly; UNWIND costs LadybugDB ~1 ms more per query (measured).
        values = {**params.values, "a_id": ids[0]}
        head = f"MATCH {a.replace('a_id', '$a_id')}{arrow}{b}{seek}{_where(parts)}"
    else:
        values = {**params.values, "ids": list(ids)}
        head = f"UNWIND $ids AS a_id MATCH {a}{arrow}{b}{seek}{_where(parts)}"
    a_id, b_id = f"a.{q('id')}", f"b.{q('id')}"
    node = dialect.props_of("b") if far_props is None else _far_node(ontology, others, far_props)
    rel = dialect.props_of("r") if rel_props is None else _rel_map(rt, rel_props)
    if limit_per_node is None:
        item = f"{rel} AS rel, {dialect.label_of('b')} AS type, {node} AS node"
        return f"{head} RETURN {a_id} AS src, {item} ORDER BY src, {b_id}", values
    if limit_per_node < 1:
        raise BadQueryError(f"limit_per_node is {limit_per_node}.", hint="Use 1 or more, or no limit.")
    if len(ids) == 1:
        # One parent: its limit is the statement's; rows as without a limit, cut by LIMIT (LadybugDB:
        # 1 ms instead of 2.5 ms for the collect-and-slice form).
        item = f"{rel} AS rel, {dialect.label_of('b')} AS type, {node} AS node"
        return (f"{head} RETURN {a_id} AS src, {item} ORDER BY {b_id} LIMIT $limit",
                {**values, "limit": int(limit_per_node)})
    collected = f"collect({{rel: {rel}, type: {dialect.label_of('b')}, node: {node}}})"
    text = (
        f"{head} WITH a, r, b {dialect.order_before_collect(f'{a_id}, {b_id}')} "
        f"WITH {a_id} AS src, {collected} AS items RETURN src, {dialect.list_head('items', '$limit')} AS items"
    )
    return text, {**values, "limit": int(limit_per_node)}


def links(dialect: Dialect, ontology: Ontology, rel_type: str, direction: Direction, parent_type: str,
          other_type: str, far_prop: str | None = None, *, window: bool = False) -> str:
    """``src``, ``far`` (the far node's id) and ``value`` (its ``far_prop``, null when its type has none) for every
    ``rel_type`` relationship of the ``parent_type`` nodes in $ids to ``other_type`` nodes: plain columns in no
    order, for bulk walks (``GraphStore.links``). ``window``: the nodes with $lo <= offset < $hi instead
    (LadybugDB only: its internal offsets, ``ladybug/scans.py``)."""
    rt, o = ontology.rel(rel_type), ontology.node(other_type)
    if direction not in ("out", "in"):
        raise BadQueryError(f"direction is {direction!r}.", hint="Use 'out' or 'in'.")
    arrow = f"-[:{q(rt.name)}]->" if direction == "out" else f"<-[:{q(rt.name)}]-"
    a = q(ontology.node(parent_type).name)
    value = f"b.{q(far_prop)}" if far_prop is not None and (o.has(far_prop) or far_prop in {
        p.name for p in SYSTEM_NODE_PROPERTIES}) else "NULL"
    far = f"{arrow}(b:{q(o.name)})"
    returned = f" RETURN a.{q('id')} AS src, b.{q('id')} AS far, {value} AS value"
    if window:
        return f"MATCH (a:{a}) WHERE offset(ID(a)) >= $lo AND offset(ID(a)) < $hi MATCH (a){far}{returned}"
    return f"UNWIND $ids AS a_id MATCH (a:{a} {{{q('id')}: a_id}}){far}{dialect.id_seek('a', a)}{returned}"


def _rel_map(rel_type: RelType, names: Sequence[str], var: str = "r") -> str:
    """A map of the relationship's key and those of ``names`` it has (system properties included)."""
    kept = [p.name for p in rel_columns(rel_type) if p.name != "key" and p.name in names]
    return "{" + ", ".join(f"{q(n)}: {var}.{q(n)}" for n in ["key", *kept]) + "}"


def _far_node(ontology: Ontology, types: Sequence[str], names: Sequence[str]) -> str:
    """A map of the far node's id and those of ``names`` any of ``types`` has (null on the others),
    system properties (``version``, ``updated_at`` …) included."""
    system = {p.name for p in SYSTEM_NODE_PROPERTIES}
    kept = [n for n in dict.fromkeys(names)
            if n != "id" and (n in system or any(ontology.node(t).has(n) for t in types))]
    return "{" + ", ".join(f"{q(n)}: b.{q(n)}" for n in ["id", *kept]) + "}"


def neighbours(dialect: Dialect, ontology: Ontology, labels: Sequence[str], *, restricted: bool = False) -> str:
    """Every relationship, any type, either direction, of the nodes in $ids_<i> (one id list per label).

    One branch per label joined with UNION ALL, so each branch starts from an indexed lookup.
    ``restricted``: only relationship types in $rel_types to nodes labelled one of $labels (a role's view).
    """
    if not labels:
        raise BadQueryError("neighbours() needs at least one label.")
    cond = (f" WHERE {dialect.rel_type_of('r')} IN $rel_types AND {dialect.label_of('b')} IN $labels"
            if restricted else "")
    branches = [
        f"{_by_ids(dialect, 'a', q(ontology.node(label).name), f'ids_{i}')} MATCH (a)-[r]-(b){cond} "
        f"RETURN a.{q('id')} AS src, {dialect.rel_type_of('r')} AS rel_type, {dialect.props_of('r')} AS rel, "
        f"{dialect.label_of('b')} AS type, {dialect.props_of('b')} AS node"
        for i, label in enumerate(labels)
    ]
    return " UNION ALL ".join(branches)


def shortest_path(
    dialect: Dialect, ontology: Ontology, from_id: str, to_id: str, max_hops: int = MAX_PATH_HOPS, *,
    rel_types: Sequence[str] | None = None, node_types: Sequence[str] | None = None,
) -> Query:
    """Rows ``nodes``, ``rels`` of one shortest undirected path (no row when there is none).

    ``rel_types`` / ``node_types`` restrict the path to what a role may see (None: anything).
    """
    if not 1 <= max_hops <= MAX_PATH_HOPS:
        raise BadQueryError(f"max_hops is {max_hops}.", hint=f"Use 1 to {MAX_PATH_HOPS}.")
    a = q(ontology.type_of_id(from_id).name)
    b = q(ontology.type_of_id(to_id).name)
    rels = [ontology.rel(t).name for t in rel_types] if rel_types is not None else []
    params: dict[str, Any] = {"from_id": from_id, "to_id": to_id}
    labels_param = None
    if node_types is not None:
        params["labels"] = [ontology.node(t).name for t in node_types]
        labels_param = "$labels"
    return (
        f"MATCH (a:{a} {{{q('id')}: $from_id}}), (b:{b} {{{q('id')}: $to_id}}){dialect.id_seek('a', a)}"
        f"{dialect.id_seek('b', b)} {dialect.shortest_path('a', 'b', max_hops, rels, labels_param)} "
        f"RETURN nodes(p) AS nodes, {dialect.path_rels('p')} AS rels",
        params,
    )


# --- change log ---------------------------------------------------------------------------------


def insert_changes(dialect: Dialect) -> str:
    cols = ", ".join(f"{q(p.name)}: {dialect.typed(f'r.{q(p.name)}', p)}" for p in CHANGE_LOG_COLUMNS)
    return f"UNWIND $rows AS r CREATE (:{q(CHANGE_LOG)} {{{cols}}})"


def read_changes(after_seq: int, limit: int, types: Sequence[str] | None = None,
                 upto_seq: int | None = None) -> Query:
    """Up to ``limit`` entries after ``after_seq`` in seq order; ``upto_seq``: none above it."""
    if limit < 1:
        raise BadQueryError(f"limit is {limit}.", hint="Ask for 1 or more changes.")
    cols = ", ".join(f"c.{q(p.name)} AS {q(p.name)}" for p in CHANGE_LOG_COLUMNS)
    params: dict[str, Any] = {"after": int(after_seq), "limit": int(limit)}
    only = ""
    if upto_seq is not None:
        only = f" AND c.{q('seq')} <= $upto"
        params["upto"] = int(upto_seq)
    if types is not None:
        only += f" AND c.{q('type')} IN $types"
        params["types"] = list(types)
    return (
        f"MATCH (c:{q(CHANGE_LOG)}) WHERE c.{q('seq')} > $after{only} RETURN {cols} ORDER BY c.{q('seq')} LIMIT $limit",
        params,
    )


def read_change_window(after_seq: int, upto_seq: int, types: Sequence[str] | None = None) -> Query:
    """Every entry with $after < seq <= $upto, in seq order: a bounded range, no LIMIT (the caller sizes it)."""
    cols = ", ".join(f"c.{q(p.name)} AS {q(p.name)}" for p in CHANGE_LOG_COLUMNS)
    params: dict[str, Any] = {"after": int(after_seq), "upto": int(upto_seq)}
    only = ""
    if types is not None:
        only = f" AND c.{q('type')} IN $types"
        params["types"] = list(types)
    return (f"MATCH (c:{q(CHANGE_LOG)}) WHERE c.{q('seq')} > $after AND c.{q('seq')} <= $upto{only} "
            f"RETURN {cols} ORDER BY c.{q('seq')}", params)


def node_fields_map(node_type: NodeType, fields: Sequence[str] | None, var: str = "n") -> str:
    """A map literal of a node's id and ``fields`` (those the type or the system columns have; None: every
    stored column), read as named columns rather than as the node value."""
    system = {p.name for p in SYSTEM_NODE_PROPERTIES}
    names = [p.name for p in node_columns(node_type)] if fields is None else \
        ["id", *(f for f in dict.fromkeys(fields) if f != "id" and (node_type.has(f) or f in system))]
    return "{" + ", ".join(f"{q(n)}: {var}.{q(n)}" for n in names) + "}"


def scan_nodes(ontology: Ontology, type_name: str, fields: Sequence[str] | None = None) -> str:
    """Up to $limit nodes of one type with id > $after, by id (the keyset snapshot read; Neo4j walks its
    unique-id index in order, so a page costs what it returns)."""
    nt = ontology.node(type_name)
    return (f"MATCH (n:{q(nt.name)}) WHERE n.{q('id')} > $after "
            f"RETURN n.{q('id')} AS id, {node_fields_map(nt, fields)} AS props ORDER BY n.{q('id')} LIMIT $limit")


def scan_start_ids(ontology: Ontology, type_name: str, *, inclusive: bool = False) -> str:
    """Up to $limit ids of one node type from $after on (``inclusive``) or after it, by id: the start nodes
    of a relationship snapshot page (their relationships are then read with ``get_rels``)."""
    nt = ontology.node(type_name)
    return (f"MATCH (n:{q(nt.name)}) WHERE n.{q('id')} {'>=' if inclusive else '>'} $after "
            f"RETURN n.{q('id')} AS id ORDER BY n.{q('id')} LIMIT $limit")


def change_heads() -> str:
    """Per record (kind + id): the seq of its newest change-log entry."""
    c = q(CHANGE_LOG)
    return (f"MATCH (c:{c}) RETURN c.{q('kind')} AS kind, c.{q('id')} AS id, max(c.{q('seq')}) AS head")


def old_changes() -> str:
    """seq, op, kind and id of the entries older than $before with seq at most $upto (pruning candidates)."""
    c = q(CHANGE_LOG)
    return (f"MATCH (c:{c}) WHERE c.{q('ts')} < $before AND c.{q('seq')} <= $upto "
            f"RETURN c.{q('seq')} AS seq, c.{q('op')} AS op, c.{q('kind')} AS kind, c.{q('id')} AS id")


def delete_changes() -> str:
    """Delete the change-log entries whose seq is in $seqs (one primary-key lookup each)."""
    return f"UNWIND $seqs AS s MATCH (c:{q(CHANGE_LOG)} {{{q('seq')}: s}}) DELETE c"


def get_rels(dialect: Dialect, ontology: Ontology, rel_type: str, from_type: str) -> str:
    """Every stored relationship of one type out of the nodes in $ids: key, far end and its properties.

    The caller keeps the keys it asked for. Matching the key in the statement (UNWIND {from_id, key} …
    WHERE r.key = k.key) took LadybugDB 2.6 s for 1,000 LIVES_IN at 200k residents; from the start
    nodes alone it is 0.16 s, and a start node has few relationships of one type."""
    rt = ontology.rel(rel_type)
    a = q(ontology.node(from_type).name)
    return (
        f"UNWIND $ids AS i MATCH (a:{a} {{{q('id')}: i}})-[r:{q(rt.name)}]->(b){dialect.id_seek('a', a)} "
        f"RETURN r.{q('key')} AS key, b.{q('id')} AS to_id, "
        # Named columns, not the relationship value: cheaper to convert, and the same on both engines.
        + "{" + ", ".join(f"{q(p.name)}: r.{q(p.name)}" for p in rel_columns(rt)) + "} AS props"
    )


def max_seq() -> str:
    return f"MATCH (c:{q(CHANGE_LOG)}) RETURN max(c.{q('seq')}) AS seq"


__all__ = [
    "CHANGE_LOG",
    "CHANGE_LOG_COLUMNS",
    "ID",
    "LADYBUG",
    "NEO4J",
    "Dialect",
    "LadybugDialect",
    "Neo4jDialect",
    "Params",
    "compile_filter",
    "count_nodes",
    "decode_cursor",
    "delete_nodes",
    "delete_rels",
    "delete_rels_written_by",
    "edges",
    "encode_cursor",
    "existing_nodes",
    "existing_rels",
    "facet_counts",
    "filter_fields",
    "get_nodes",
    "insert_changes",
    "keyset_predicate",
    "list_nodes",
    "max_seq",
    "change_heads",
    "old_changes",
    "delete_changes",
    "get_rels",
    "neighbours",
    "node_columns",
    "nodes_claimed_by",
    "node_field",
    "order_by",
    "page_by_ids",
    "page_keeping_nodes",
    "read_change_window",
    "read_changes",
    "node_fields_map",
    "scan_nodes",
    "scan_start_ids",
    "rel_columns",
    "rel_field",
    "rels_of_nodes",
    "rels_written_by",
    "shortest_path",
    "sort_keys",
    "to_db_value",
    "update_nodes",
    "upsert_nodes",
    "upsert_rels",
]
