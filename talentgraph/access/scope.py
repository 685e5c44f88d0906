"""One request's access: the caller, their role's view, and their area scope resolved against the graph.

The scope is enforced inside store queries: filters on in-scope properties become
``Linked(<relationship>, out, places) AND <condition>`` (``guard``), so counts and cursors stay
right; per-row masking of in-scope fields asks ``in_scope`` through a DataLoader, one store call per
query level.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from talentgraph.access.policy import Grant, RoleView
from talentgraph.access.principal import Principal
from talentgraph.graph.port import GraphStore
from talentgraph.search.mapping import facet_field
from talentgraph.search.query import Bool, Query, Terms
from talentgraph.search.service import Visibility
from talentgraph.types import And, Cmp, Filter, Linked, Node, Not, Or

# Derived search fields whose values are the ids of the places a row lives in (the projection's
# "area:<level>" sources): how a search hit's scope is told without a graph round trip.
PLACE_SOURCE_PREFIX = "area:"

Runner = Callable[..., Awaitable[Any]]
# Areas' expansions remembered per graph store (weakly: a closed store takes its memo with it).
PLACES_MEMO = 256
_PLACES: "weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], frozenset[str]]]" = weakref.WeakKeyDictionary()


class RequestAccess:
    def __init__(self, principal: Principal, view: RoleView, graph: GraphStore, run: Runner) -> None:
        self.principal = principal
        self.view = view
        self._graph = graph
        self._run = run
        self._places: frozenset[str] | None = None
        self._in_scope: DataLoader[str, bool] = DataLoader(load_fn=self._load_in_scope)
        self.person_ids: set[str] = set()  # persons whose rows this request returned (for the audit)
        self.aggregates = 0  # aggregate counts returned (facets), for the audit
        self.operation: str | None = None  # GraphQL operation name (api/audit_trail.py)
        self.outcome: str | None = None  # "rejected" / "partial" when the GraphQL result carried errors
        self.document_hash: str | None = None

    @property
    def role(self) -> str:
        return self.principal.role

    def returned(self, nodes: Iterable[Node | None]) -> None:
        """Note the persons a response carries, for the access record (PIPL art. 55)."""
        subject = self.view.scope.subject
        self.person_ids.update(n.id for n in nodes if n is not None and n.type == subject)

    def returned_ids(self, ids: Iterable[tuple[str, str]]) -> None:
        subject = self.view.scope.subject
        self.person_ids.update(i for i, t in ids if t == subject)

    # --- the scope ------------------------------------------------------------------------------

    async def places(self) -> frozenset[str]:
        """The key's areas and every place contained in them (buildings below residential areas).

        Worked out once per set of areas and state of the graph: a staff member's every request
        would otherwise walk the area tree again (two graph reads, 9-16 ms of a search). The graph's
        last change-log seq is part of the key, so a building moved to another area counts at once.
        """
        if self._places is None:
            scope = self.view.scope
            areas = tuple(sorted({a for a in self.principal.areas if a}))
            memo = _PLACES.setdefault(self._graph, {})
            key = (areas, scope.contains, scope.place, scope.depth, await self._run(self._graph.last_seq))
            found = memo.get(key)
            if found is None:
                found = await self._expand(areas)
                if len(memo) >= PLACES_MEMO:
                    memo.clear()
                memo[key] = found
            self._places = found
        return self._places

    async def _expand(self, areas: Sequence[str]) -> frozenset[str]:
        scope = self.view.scope
        found: set[str] = set()
        frontier = list(areas)
        for _ in range(scope.depth + 1):
            frontier = [a for a in frontier if a not in found]
            if not frontier:
                break
            found.update(frontier)
            children: dict[str, list[Any]] = await self._run(self._graph.edges, frontier, scope.contains, "in",
                                                             far_props=())
            frontier = [e.node.id for edges in children.values() for e in edges if e.node.type == scope.place]
        return frozenset(found)

    async def subject_filter(self) -> Filter:
        """"Lives inside the caller's areas", as a store filter on the subject type."""
        return Linked(self.view.scope.relationship, "out", tuple(sorted(await self.places())))

    async def _load_in_scope(self, ids: Sequence[str]) -> list[bool]:
        places = await self.places()
        if not places:
            return [False] * len(ids)
        where = Cmp("id", "in", tuple(sorted(places)))
        found: dict[str, list[Any]] = await self._run(self._graph.edges, list(ids), self.view.scope.relationship,
                                                      "out", where=where)
        return [bool(found.get(i)) for i in ids]

    async def in_scope(self, node: Node) -> bool:
        if node.type != self.view.scope.subject or not self.view.scoped:
            return False
        return await self._in_scope.load(node.id)

    async def sees(self, node: Node, grant: Grant) -> bool:
        """Whether a value with ``grant`` on this row may be shown."""
        if grant is Grant.ALWAYS:
            return True
        if grant is Grant.IN_SCOPE:
            return await self.in_scope(node)
        return False

    # --- search ---------------------------------------------------------------------------------

    async def search_visibility(self) -> Visibility:
        view, o = self.view, self.view.ontology
        grants, rules = view.field_grants
        read = {k: g.value for k, g in grants.items()}
        count = {k: r.value for k, r in rules.items()}
        place_fields = tuple(d.name for d in o.derived_for(view.scope.subject)
                             if d.source.startswith(PLACE_SOURCE_PREFIX))
        scope: Query | None = None
        places: frozenset[str] = frozenset()
        if view.scoped:
            places = await self.places()
            values = tuple(sorted(places))
            scope = Bool(should=tuple(Terms(facet_field(f), values) for f in place_fields), minimum_should_match=1)
        return Visibility(read=read, count=count, types=frozenset(t.name for t in view.types()),
                          k=view.policy.k_anonymity, scope=scope, places=places, place_fields=place_fields)

    # --- filters --------------------------------------------------------------------------------

    async def guard(self, where: Filter | None, scoped_fields: frozenset[str], type_name: str | None) -> Filter | None:
        """Rewrite conditions on in-scope fields so rows outside the scope behave as if the value were
        hidden (null): the filter is no oracle for values the caller cannot read. Rows of a type
        other than the scope's subject are never in scope."""
        if where is None or not scoped_fields or not _mentions(where, scoped_fields):
            return where
        inside = await self.subject_filter() if type_name == self.view.scope.subject else Or(())
        return _rewrite(where, scoped_fields, inside)

    async def parent_in_scope(self, node: Node) -> bool:
        """Whether an in-scope relationship may be read from this end at all."""
        scope = self.view.scope
        if node.type == scope.place:
            return node.id in await self.places()
        if node.type == scope.subject:
            return await self.in_scope(node)
        return False

    async def scope_far_end(self, where: Filter | None, far_type: str | None) -> Filter:
        """An in-scope relationship (LIVES_IN for staff) seen from one end: keep the far ends inside the
        scope — subjects living in the caller's places, or the places themselves."""
        scope = self.view.scope
        if far_type == scope.subject:
            inside = await self.subject_filter()
        elif far_type == scope.place:
            inside = Cmp("id", "in", tuple(sorted(await self.places())))
        else:
            inside = Or(())
        return inside if where is None else And((inside, where))


def _mentions(f: Filter, fields: frozenset[str]) -> bool:
    if isinstance(f, Cmp):
        return f.field in fields
    if isinstance(f, Not):
        return _mentions(f.item, fields)
    if isinstance(f, (And, Or)):
        return any(_mentions(x, fields) for x in f.items)
    return False


def _rewrite(f: Filter, fields: frozenset[str], inside: Filter) -> Filter:
    if isinstance(f, Cmp):
        if f.field not in fields:
            return f
        if (f.op == "is_null" and f.value in (None, True)) or (f.op == "eq" and f.value is None):
            return Or((Not(inside), f))  # hidden values read as null
        return And((inside, f))
    if isinstance(f, Not):
        return Not(_rewrite(f.item, fields, inside))
    if isinstance(f, And):
        return And(tuple(_rewrite(x, fields, inside) for x in f.items))
    if isinstance(f, Or):
        return Or(tuple(_rewrite(x, fields, inside) for x in f.items))
    return f


__all__ = ["RequestAccess"]
