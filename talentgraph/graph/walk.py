"""A nested read (a GraphQL selection's relationship fields) as one Cypher statement, and its rows read back.

A ``Walk`` starts at one node (by id) or at one keyset page of a type, and follows ``Step``s: per
step one relationship type in one direction, the far-end types it may reach (a role's view, the
selection's fragments), filters on the far node and on the relationship, and a per-parent limit;
steps nest. The statement follows every step with an OPTIONAL MATCH and folds the levels back up
with ``collect`` from the deepest one; a walk by id that reads columns (what the API sends) reads rows
instead, one UNION ALL branch per chain of steps and one row per path (``_chains``: each ``collect`` cost
LadybugDB ~1.2 ms); the reader folds those rows back into the same items. It orders
each parent's edges by the far node's id and cuts them to the limit, so what a step returns for a
parent is exactly what ``GraphStore.edges`` returns for it with the same arguments (the API primes
its DataLoaders with it).

Both engines run the same text through their ``Dialect``, shaped around what LadybugDB 0.22 gets
wrong (each measured on its 0.22 release):

- an UNWIND of root ids before an aggregation followed by an OPTIONAL MATCH fails, so the root is
  one id or a page (ids and sort keys sorted first, as ``cypher.page_by_ids``); a node bound after a
  WITH … LIMIT and carried through aggregations turns null, so a page's root carries only its id and
  is bound again by id before each step and the RETURN; a root by id is carried as it is when every
  step reads some columns (its own columns read first: a step that matched nothing nulls a carried
  node's properties, and with whole far nodes collected it also emptied the steps after it);
- ORDER BY … SKIP 0 before a collect of OPTIONAL MATCH rows nulls the nodes carried beside them, so
  the engine neither orders nor cuts a level: the reader does (a parent's edges all travel, where
  ``edges`` cuts them in the engine — fine for the fan-outs of a community graph, not for hubs);
- a condition of an OPTIONAL MATCH on an already bound variable drops whole rows, so a step has none
  on its parent (a parent the step does not apply to is walked and left out by the reader);
- an unlabelled end (several node tables) collected whole under another level loses rows, and
  lists nested four deep come back as empty maps: each far-end type is its own labelled OPTIONAL
  MATCH (also 10x faster to plan), and a walk is at most ``MAX_DEPTH`` steps deep (the API reads
  deeper fields through its loaders).

Every parent a step applies to gets an entry, empty when it has no such relationship. A step (and the
root) with ``node_props`` reads the far node's id and those columns and the relationship's key and
ontology properties: what the GraphQL selection reads (``api/selection.py``); without, nodes and
relationships come back whole. A page root with ``count`` also counts its matches, in the statement.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from talentgraph.errors import BadQueryError
from talentgraph.graph import cypher
from talentgraph.graph.common import SYSTEM_NODE_NAMES, edge_from_props, node_from_props
from talentgraph.graph.cypher import Dialect, Params, q
from talentgraph.schema.ontology import NodeType, Ontology, Property, RelType
from talentgraph.types import Direction, Edge, Filter, Node, Page, SortKey


# Steps below the root (LadybugDB 0.22 returns lists nested four deep as empty maps, measured).
MAX_DEPTH = 3


@dataclass(frozen=True)
class Step:
    """The ``rel_type`` relationships (``direction`` seen from the parent) of every parent of ``parent_types``.

    ``other_types``: only far ends of these types (None: any the relationship reaches); ``where`` on
    the far node, ``edge_where`` on the relationship, ``limit`` per parent (ordered by far-end id).
    ``name`` is how the result reports it (the caller's key, e.g. an index into its own list).
    """

    name: str
    rel_type: str
    direction: Direction
    parent_types: tuple[str, ...]
    where: Filter | None = None
    edge_where: Filter | None = None
    limit: int | None = None
    other_types: tuple[str, ...] | None = None
    steps: tuple["Step", ...] = ()
    # The far node's columns: its id and these properties (those its type has); None: every column.
    # With columns, the relationship comes back as its key and its ontology properties.
    node_props: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PageRoot:
    """The root as ``GraphStore.list_nodes`` pages it; ``count``: with its ``total_count`` (None when the
    page has no row to carry it)."""

    type_name: str
    where: Filter | None = None
    sort: tuple[SortKey, ...] = ()
    first: int = 20
    after: str | None = None
    count: bool = False


@dataclass(frozen=True)
class Walk:
    """A root (one node id, or a page) and the steps taken from it."""

    steps: tuple[Step, ...]
    node_id: str | None = None
    page: PageRoot | None = None
    root_props: tuple[str, ...] | None = None  # the root's columns as ``Step.node_props``; None: every one

    def __post_init__(self) -> None:
        if (self.node_id is None) == (self.page is None):
            raise BadQueryError("A walk starts at one node id or at one page.", hint="Give node_id or page.")
        if depth(self.steps) > MAX_DEPTH:
            raise BadQueryError(f"A walk is {depth(self.steps)} steps deep.",
                                hint=f"Walk at most {MAX_DEPTH} steps and read deeper ones from their parents.")


def depth(steps: Sequence[Step]) -> int:
    """How many steps deep ``steps`` go (0 for none)."""
    return max((1 + depth(s.steps) for s in steps), default=0)


@dataclass
class WalkResult:
    """The root (``node``: None when no node has the id; ``page`` for a page root) and, per step name
    and parent id, that parent's edges — for every parent the step applies to, empty lists included."""

    node: Node | None = None
    page: Page | None = None
    edges: dict[str, dict[str, list[Edge]]] = field(default_factory=dict)


def steps_of(walk: Walk) -> Iterator[Step]:
    """Every step, depth first."""
    stack = list(reversed(walk.steps))
    while stack:
        s = stack.pop()
        yield s
        stack.extend(reversed(s.steps))


# --- the statement ------------------------------------------------------------------------------


@dataclass
class _Plan:
    """Variable names given out while the text is built, and each step's collections for the reader."""

    dialect: Dialect
    ontology: Ontology
    params: Params
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    collections: dict[int, list[str]] = field(default_factory=dict)  # id(step) -> its collections' names


@dataclass(frozen=True)
class _Shape:
    """How the rows of a walk read as chains (``_chains``) turn into the items collects would make: the
    root's (name, column) pairs beside its ``id`` (None: the ``props`` column holds the whole node); per arm
    (by its column name, each arm before the arms below it) its label column and its relationship's and far
    node's (name, column) pairs, and the arm above it; per branch (the ``b`` column) its arms."""

    root: tuple[tuple[str, str], ...] | None
    arms: dict[str, tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]]
    above: dict[str, str | None]
    branches: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class WalkQuery:
    """One statement of a walk and what its reader needs: the sort keys of a page root, and per
    step (by ``id``) the columns or item fields holding its edges (one per far-end type asked)."""

    text: str
    params: dict[str, Any]
    keys: list[tuple[Property, bool]]
    collections: dict[int, list[str]]
    shape: _Shape | None = None  # rows of flat columns, one UNION ALL branch per chain (``_chains``)


# Statements of walks by id, by the identity of their steps: the API hands the same steps again for the
# same document (``api/prefetch.py`` remembers its plans), and only the id differs — always the first
# parameter. The entry holds steps, ontology and dialect, so their ids are not reused while it is here.
QUERY_CACHE = 256
_QUERIES: OrderedDict[tuple[int, int, int, str, tuple[str, ...] | None],
                      tuple[tuple[Step, ...], Ontology, Dialect, WalkQuery]] = OrderedDict()
_ROOT_ID = "p0"
_QUERIES_LOCK = threading.Lock()  # walks run in worker threads


def walk_query(dialect: Dialect, ontology: Ontology, walk: Walk) -> WalkQuery:
    """One statement returning the root row(s).

    Rows: ``id``, ``type``, ``props`` of the root node and one column per top step and far-end type
    holding ``{rel, type, node, <child collections>}`` maps.
    """
    if walk.node_id is None:
        return _walk_query(dialect, ontology, walk)
    root_type = ontology.type_of_id(walk.node_id).name
    key = (id(walk.steps), id(ontology), id(dialect), root_type, walk.root_props)
    with _QUERIES_LOCK:
        found = _QUERIES.get(key)
        if found is not None and found[0] is walk.steps and found[1] is ontology and found[2] is dialect:
            _QUERIES.move_to_end(key)
        else:
            found = None
    if found is not None:
        query = found[3]
        return WalkQuery(query.text, {**query.params, _ROOT_ID: walk.node_id}, query.keys, query.collections,
                         query.shape)
    query = _walk_query(dialect, ontology, walk)
    if query.params.get(_ROOT_ID) == walk.node_id:
        with _QUERIES_LOCK:
            _QUERIES[key] = (walk.steps, ontology, dialect, query)
            if len(_QUERIES) > QUERY_CACHE:
                _QUERIES.popitem(last=False)
    return query


def _walk_query(dialect: Dialect, ontology: Ontology, walk: Walk) -> WalkQuery:
    plan = _Plan(dialect, ontology, Params("p"))
    keys: list[tuple[Property, bool]] = []
    if walk.node_id is not None:
        nt = ontology.type_of_id(walk.node_id)
        root_type = nt.name
        head = (f"MATCH (n0:{q(nt.name)} {{{q('id')}: {plan.params.add(walk.node_id)}}})"
                f"{dialect.id_seek('n0', q(nt.name))}")
        order = ""
    else:
        assert walk.page is not None
        head, keys = _page_head(plan, walk.page)
        root_type = ontology.node(walk.page.type_name).name
        order = f" ORDER BY {cypher.order_by('n0', keys)}"

    if walk.page is None and all(s.node_props is not None for s in steps_of(walk)):
        # One node by id whose steps all read some columns (values, not whole nodes): rows, not collects.
        text, shape = _chains(plan, walk, head, root_type)
        return WalkQuery(text, plan.params.values, keys, plan.collections, shape)

    ids = ["k0", "total"] if walk.page is not None and walk.page.count else ["k0"]

    def rebind(columns: list[str]) -> str:
        # A page's root node never crosses an aggregation: only its id does, and it is bound again by
        # id for each step and for the RETURN. LadybugDB 0.22 nulls the node (or fails with
        # "unordered_map::at") when a node bound after a WITH … LIMIT is carried through aggregations.
        return (f"WITH {', '.join([*ids, *columns])} MATCH (n0:{q(root_type)} {{{q('id')}: k0}})"
                f"{dialect.id_seek('n0', q(root_type))}")

    columns: list[str] = []
    root_id = f"n0.{q('id')} AS k0"
    clauses = [head, f"WITH {', '.join([root_id, *ids[1:]])}"]
    # A page collects every level, whatever it reads: its root is bound again by id on every row, and
    # rows of a chain cost more than the collects they save (20 persons, two hops, at 50k: 53 ms against
    # 37 ms, measured with one chain of rows beside collects).
    for step in walk.steps:
        clauses += _branch(plan, step, "n0", [root_type], ids, columns, rebind)
    clauses.append(rebind(columns))
    root_cols = dialect.props_of("n0") if walk.root_props is None else \
        _node_columns("n0", [ontology.node(root_type)], walk.root_props)
    node = ", ".join([f"n0.{q('id')} AS id, {dialect.label_of('n0')} AS type, {root_cols} AS props", *ids[1:]])
    clauses.append(f"RETURN {', '.join([node, *columns])}{order}")
    return WalkQuery(" ".join(clauses), plan.params.values, keys, plan.collections)


def _page_head(plan: _Plan, page: PageRoot) -> tuple[str, list[tuple[Property, bool]]]:
    """The page's ids and sort keys sorted and cut, then its nodes bound to ``n0`` (as ``page_by_ids``)."""
    if page.first < 0:
        raise BadQueryError(f"first is {page.first}.", hint="Ask for zero or more items.")
    nt = plan.ontology.node(page.type_name)
    keys = cypher.sort_keys(nt, page.sort)
    parts: list[str] = []
    if page.where is not None:
        parts.append(cypher.compile_filter(page.where, "n", lambda name: cypher.node_field([nt], name), plan.params,
                                           plan.dialect))
    if page.after:
        parts.append(cypher.keyset_predicate("n", keys, cypher.decode_cursor(page.after, keys), plan.params))
    cols = [(f"s{i}", prop, desc) for i, (prop, desc) in enumerate(keys)]
    carried = ", ".join(f"n.{q(prop.name)} AS {alias}" for alias, prop, _ in cols)
    page_id = next(alias for alias, prop, _ in cols if prop is cypher.ID)
    limit = plan.params.add(page.first + 1)  # one more tells whether there is a next page
    count = ""
    if page.count:  # counted first, carried on every row
        counted = cypher.compile_filter(page.where, "c", lambda name: cypher.node_field([nt], name), plan.params,
                                        plan.dialect) if page.where is not None else ""
        count, carried = f"MATCH (c:{q(nt.name)}){_where([counted])} WITH count(c) AS total ", f"total, {carried}"
    head = (f"{count}MATCH (n:{q(nt.name)}){_where(parts)} WITH {carried} ORDER BY {_alias_order(cols)} "
            f"LIMIT {limit} MATCH (n0:{q(nt.name)} {{{q('id')}: {page_id}}}){plan.dialect.id_seek('n0', q(nt.name))}")
    return head, keys


def _alias_order(cols: Sequence[tuple[str, Property, bool]]) -> str:
    """The order of ``cypher.order_by`` over carried sort-key columns (nulls last, id last)."""
    parts: list[str] = []
    for ref, prop, desc in cols:
        if prop is not cypher.ID:
            parts.append(f"{ref} IS NULL")
        parts.append(f"{ref} DESC" if desc else ref)
    return ", ".join(parts)


def _where(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    return " WHERE " + " AND ".join(parts) if parts else ""


def far_types(rel: RelType, direction: Direction, parent_types: Sequence[str]) -> list[str]:
    """The node types a relationship reaches from parents of ``parent_types``, in ontology order."""
    ends = [t for f, t in rel.endpoints if f in parent_types] if direction == "out" else \
        [f for f, t in rel.endpoints if t in parent_types]
    return list(dict.fromkeys(ends))


@dataclass(frozen=True)
class _Arm:
    """One far-end type of a step (or all of them, unlabelled), as one OPTIONAL MATCH: ``r``/``n``/``c``
    are its relationship, node and column names; ``children`` the steps taken from its nodes."""

    step: Step
    children: list[Step]
    match: str  # the OPTIONAL MATCH clause
    r: str
    n: str
    c: str
    ends: list[str]  # the types its far node may be


def _arms(plan: _Plan, step: Step, parent: str, parent_types: Sequence[str]) -> list[_Arm]:
    """``step``'s OPTIONAL MATCHes from ``parent``: one per far-end type, labelled.

    LadybugDB 0.22 loses rows when an unlabelled end (several node tables) is collected whole under
    another level (measured), and plans a labelled end 10x faster. Only when a filter names a field
    some of those types lack is the end left unlabelled (one match, as ``edges`` does), so the filter
    keeps its meaning.
    """
    o, d, params = plan.ontology, plan.dialect, plan.params
    rt = o.rel(step.rel_type)
    if step.direction not in ("out", "in"):
        raise BadQueryError(f"direction is {step.direction!r}.", hint="Use 'out' or 'in'.")
    if step.limit is not None and step.limit < 1:
        raise BadQueryError(f"limit is {step.limit}.", hint="Use 1 or more, or no limit.")
    k = next(plan.numbers)
    plan.collections.setdefault(id(step), [])  # a step with no far end left has no column, and no edges
    # The far ends reachable from what ``parent`` can be (one type when it is labelled).
    reachable = far_types(rt, step.direction, [t for t in parent_types if t in step.parent_types])
    candidates = reachable if step.other_types is None else \
        [t for t in reachable if t in {o.node(x).name for x in step.other_types}]
    all_ends = rt.to_types if step.direction == "out" else rt.from_types
    resolve_in = [o.node(t) for t in all_ends]
    fields = cypher.filter_fields(step.where) - {"id"} if step.where is not None else set()
    groups: list[tuple[str | None, list[Step]]]
    if all(o.node(t).has(f) for t in candidates for f in fields):
        groups = [(t, [c for c in step.steps if t in c.parent_types]) for t in candidates]
    else:
        groups = [(None, list(step.steps))]
    out: list[_Arm] = []
    for i, (label, children) in enumerate(groups):
        r, n = f"r{k}_{i}", f"n{k}_{i}"
        # No condition on the parent itself: LadybugDB 0.22 applies such a condition of an OPTIONAL
        # MATCH to the whole row (a parent of another type was dropped, measured). A parent the step
        # does not apply to is walked all the same and left out when the rows are read.
        parts: list[str] = []
        if step.where is not None:
            parts.append(cypher.compile_filter(step.where, n, lambda name: cypher.node_field(resolve_in, name), params,
                                               d))
        if step.edge_where is not None:
            parts.append(cypher.compile_filter(step.edge_where, r, lambda name: cypher.rel_field(rt, name), params, d))
        if label is None and set(candidates) != set(all_ends):
            parts.append(f"{d.label_of(n)} IN {params.add(candidates)}")
        far = f"({n}:{q(label)})" if label is not None else f"({n})"
        arrow = f"-[{r}:{q(rt.name)}]->" if step.direction == "out" else f"<-[{r}:{q(rt.name)}]-"
        out.append(_Arm(step, children, f"OPTIONAL MATCH ({parent}){arrow}{far}{_where(parts)}", r, n,
                        f"c{k}_{i}", [label] if label else candidates))
    return out


def _item(plan: _Plan, arm: _Arm, subs: Sequence[str]) -> str:
    """The map one edge of ``arm`` is read back as: ``{rel, type, node, <its children's columns>}``."""
    d, step = plan.dialect, arm.step
    if step.node_props is None:
        rel_cols, node_cols = d.props_of(arm.r), d.props_of(arm.n)
    else:
        rel_cols = _rel_columns(arm.r, plan.ontology.rel(step.rel_type))
        node_cols = _node_columns(arm.n, [plan.ontology.node(t) for t in arm.ends], step.node_props)
    return "{" + ", ".join([f"rel: {rel_cols}", f"type: {d.label_of(arm.n)}", f"node: {node_cols}",
                            *(f"{x}: {x}" for x in subs)]) + "}"


def _branch(plan: _Plan, step: Step, parent: str, parent_types: Sequence[str], carried: list[str],
            columns: list[str], rebind: Callable[[list[str]], str] | None = None) -> list[str]:
    """Clauses that add ``step``'s collections to ``columns`` per row of ``carried`` + ``columns`` (kept).
    ``rebind(columns)``: a clause put before every aggregation but the first (the root level)."""
    clauses: list[str] = []
    for arm in _arms(plan, step, parent, parent_types):
        clauses += _collected(plan, arm, carried, columns, rebind)
    return clauses


def _collected(plan: _Plan, arm: _Arm, carried: list[str], columns: list[str],
               rebind: Callable[[list[str]], str] | None = None) -> list[str]:
    """``arm`` folded into one list column per row of ``carried`` + ``columns``, its children inside its items."""
    clauses = [rebind(columns)] if rebind is not None else []
    clauses.append(arm.match)
    subs: list[str] = []
    for child in arm.children:
        clauses += _branch(plan, child, arm.n, arm.ends, [*carried, *columns, arm.r, arm.n], subs)
    # A parent without such a relationship collects one item with a null node, which the reader
    # skips (a CASE … NULL around the item cost LadybugDB ~2 ms a level, measured).
    clauses.append(f"WITH {', '.join([*carried, *columns, f'collect({_item(plan, arm, subs)}) AS {arm.c}'])}")
    columns.append(arm.c)
    plan.collections.setdefault(id(arm.step), []).append(arm.c)
    return clauses


def _chains(plan: _Plan, walk: Walk, head: str, root_type: str) -> tuple[str, _Shape]:
    """A walk by id whose steps read columns, as rows: one UNION ALL branch per chain of arms from the root
    to a leaf, its OPTIONAL MATCHes in a row and its values as flat columns (the other branches' columns
    null), one row per path; the reader folds them into the items collects would make (``_fold``).

    Each ``collect`` cost LadybugDB 0.22 ~1.2 ms and each map ~0.1 ms a column (the bench's 2-hop at 50k:
    1.74 ms with one collect and maps, 1.19 ms as two branches of flat columns; measured), where the rows of
    a chain of OPTIONAL MATCHes cost nearly nothing. Two chains in one branch would multiply their rows, so
    each has its own. Nothing is carried through a WITH: LadybugDB 0.22 nulls a carried node's properties
    after a later OPTIONAL MATCH that found nothing, and a node matched in the branch keeps them.
    """
    o, d = plan.ontology, plan.dialect
    tree = _tree(plan, walk.steps, "n0", [root_type])
    arms: list[_Arm] = []  # every arm, each before the arms below it
    aboves: dict[str, str | None] = {}

    def visit(entries: list[tuple[_Arm, Any]], above: str | None) -> None:
        for arm, below in entries:
            aboves[arm.c] = above
            plan.collections.setdefault(id(arm.step), []).append(arm.c)
            arms.append(arm)
            visit(below, arm.c)

    visit(tree, None)
    values: dict[str, list[tuple[str, str, Property]]] = {}  # arm column -> (column, expression, property)
    shapes: dict[str, tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {}
    for arm in arms:
        rt, ends = o.rel(arm.step.rel_type), [o.node(t) for t in arm.ends]
        rel = tuple((n, f"{arm.c}_r{j}") for j, n in enumerate(_rel_names(rt)))
        node = tuple((n, f"{arm.c}_n{j}") for j, n in enumerate(_node_names(ends, arm.step.node_props or ())))
        values[arm.c] = [(f"{arm.c}_t", d.label_of(arm.n), cypher.ID),
                         *((c, f"{arm.r}.{q(n)}", cypher.rel_field(rt, n)) for n, c in rel),
                         *((c, f"{arm.n}.{q(n)}", cypher.node_field(ends, n)) for n, c in node)]
        shapes[arm.c] = (f"{arm.c}_t", rel, node)
    root: tuple[tuple[str, str], ...] | None = None
    if walk.root_props is None:
        root_columns = [f"{d.props_of('n0')} AS props"]
    else:
        names = _node_names([o.node(root_type)], walk.root_props)[1:]  # its id is the ``id`` column
        root = tuple((n, f"r0_{j}") for j, n in enumerate(names, 1))
        root_columns = [f"n0.{q(n)} AS {c}" for n, c in root]
    type_param = plan.params.add(root_type)
    paths = list(_paths(tree)) or [()]
    texts: list[str] = []
    for i, path in enumerate(paths):
        on = {a.c for a in path}
        columns = [f"n0.{q('id')} AS id", f"{type_param} AS type", *root_columns, f"{i} AS b"]
        columns += [f"{expr if arm.c in on else d.null_of(prop)} AS {c}"
                    for arm in arms for c, expr, prop in values[arm.c]]
        texts.append(" ".join([head, *(a.match for a in path), "RETURN " + ", ".join(columns)]))
    return " UNION ALL ".join(texts), _Shape(root, shapes, aboves, tuple(frozenset(a.c for a in p) for p in paths))


def _tree(plan: _Plan, steps: Sequence[Step], parent: str, parent_types: Sequence[str]) -> list[tuple[_Arm, Any]]:
    """The arms of ``steps`` from ``parent``, each with the tree of arms below it."""
    return [(arm, _tree(plan, arm.children, arm.n, arm.ends))
            for step in steps for arm in _arms(plan, step, parent, parent_types)]


def _paths(tree: list[tuple[_Arm, Any]]) -> Iterator[tuple[_Arm, ...]]:
    """Every chain of arms from the top of ``tree`` down to an arm with none below it."""
    for arm, below in tree:
        if below:
            for rest in _paths(below):
                yield (arm, *rest)
        else:
            yield (arm,)


def _node_names(types: Sequence[NodeType], names: Sequence[str]) -> list[str]:
    """``id`` and those of ``names`` one of ``types`` (or the system columns) has, each once."""
    return ["id", *(n for n in dict.fromkeys(names)
                    if n != "id" and (n in SYSTEM_NODE_NAMES or any(t.has(n) for t in types)))]


def _rel_names(rel_type: RelType) -> list[str]:
    """A relationship's key and its ontology properties (not its system columns)."""
    return ["key", *(p.name for p in rel_type.properties if p.name != "key")]


def _node_columns(var: str, types: Sequence[NodeType], names: Sequence[str]) -> str:
    """A map of ``var``'s id and those of ``names`` its type has (any of ``types``: null on the others):
    what a selection reads, not every column."""
    return "{" + ", ".join(f"{q(n)}: {var}.{q(n)}" for n in _node_names(types, names)) + "}"


def _rel_columns(var: str, rel_type: RelType) -> str:
    """A map of a relationship's key and its ontology properties (not its system columns)."""
    return "{" + ", ".join(f"{q(n)}: {var}.{q(n)}" for n in _rel_names(rel_type)) + "}"


# --- the rows -----------------------------------------------------------------------------------


def read_walk(ontology: Ontology, walk: Walk, query: WalkQuery, rows: Sequence[Mapping[str, Any]]) -> WalkResult:
    """The ``WalkResult`` of the rows of ``query`` (made by ``walk_query`` for ``walk``)."""
    out = WalkResult(edges={s.name: {} for s in steps_of(walk)})
    if query.shape is not None and rows:
        rows = [_fold(_assemble(query.shape, rows), query.shape.above)]
    roots = [node_from_props(ontology, row["type"], row["props"]) for row in rows]
    shown = len(roots) if walk.page is None else walk.page.first  # not the row that tells of a next page
    for root, row in zip(roots[:shown], rows):
        for step in walk.steps:
            _read_items(ontology, step, root, row, query.collections, out)
    if walk.page is None:
        out.node = roots[0] if roots else None
        return out
    first, keys = walk.page.first, query.keys
    items = roots[:first]
    end_cursor = None
    if items:
        last = items[-1]
        values = [last.id if p.name == "id" else last.props.get(p.name) for p, _ in keys]
        end_cursor = cypher.encode_cursor(keys, values)
    total = int(rows[0]["total"]) if walk.page.count and rows else None
    out.page = Page(items=items, total_count=total, end_cursor=end_cursor, has_next_page=len(roots) > first)
    return out


def _assemble(shape: _Shape, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows of flat columns (``_chains``) as the rows ``_fold`` reads: the root's ``props`` and per arm its
    ``{rel, type, node}`` map, None for the arms of other branches."""
    out: list[dict[str, Any]] = []
    for row in rows:
        on = shape.branches[row["b"]]
        item: dict[str, Any] = {"id": row["id"], "type": row["type"],
                                "props": row["props"] if shape.root is None else
                                {"id": row["id"], **{n: row[c] for n, c in shape.root}}}
        for arm, (label, rel, node) in shape.arms.items():
            item[arm] = {"rel": {n: row[c] for n, c in rel}, "type": row[label],
                         "node": {n: row[c] for n, c in node}} if arm in on else None
        out.append(item)
    return out


def _fold(rows: Sequence[Mapping[str, Any]], above: Mapping[str, str | None]) -> dict[str, Any]:
    """The one root row a walk by id would have returned with every level collected: its rows (one per path
    down a chain, ``_chains``) grouped back into lists of items, level by level. ``above``: each arm's column
    and the column of the arm above it (None at the root), each arm before the arms below it."""
    folded = {k: v for k, v in rows[0].items() if k not in above}
    index: dict[tuple[int, str], dict[tuple[Any, ...], dict[str, Any]]] = {}  # (holder, column) -> items by edge
    for row in rows:
        holders: dict[str | None, dict[str, Any]] = {None: folded}
        for c, up in above.items():
            value = row[c]
            if value is None:
                continue  # an arm of another branch, and so are the arms below it
            holder = holders[up]
            rel, node = value.get("rel") or {}, value.get("node") or {}
            key = (value.get("type"), node.get("id"), rel.get("key"))
            items = index.setdefault((id(holder), c), {})
            item = items.get(key)
            if item is None:
                item = items[key] = value  # a map of its own (``_assemble``): its lists go into it
                holder.setdefault(c, []).append(item)
            holders[c] = item
    return folded


def _read_items(ontology: Ontology, step: Step, parent: Node, holder: Mapping[str, Any],
                collections: Mapping[int, list[str]], out: WalkResult) -> None:
    """``step``'s edges of ``parent`` from the collections in ``holder`` (a row, or the parent's item):
    merged across far-end types, ordered by far-end id and cut to the limit, as ``edges`` does."""
    if parent.type not in step.parent_types:
        return  # the step does not apply to this parent (its OPTIONAL MATCH matched nothing)
    found: list[tuple[Edge, Mapping[str, Any]]] = []
    for name in collections[id(step)]:
        for item in holder.get(name) or ():
            if item is None or item.get("node") is None or item["node"].get("id") is None:
                continue  # the OPTIONAL MATCH found none: the parent's entry stays empty
            node = node_from_props(ontology, item["type"], item["node"])
            found.append((edge_from_props(ontology, step.rel_type, item["rel"], node), item))
    found.sort(key=lambda f: f[0].node.id)
    kept = found[:step.limit] if step.limit is not None else found
    out.edges[step.name].setdefault(parent.id, [e for e, _ in kept])
    for edge, item in kept:
        for child in step.steps:
            _read_items(ontology, child, edge.node, item, collections, out)


__all__ = ["MAX_DEPTH", "PageRoot", "Step", "Walk", "WalkQuery", "WalkResult", "depth", "far_types", "read_walk",
           "steps_of", "walk_query"]
