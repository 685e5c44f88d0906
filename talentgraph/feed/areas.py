"""Area statistics for the map: per residential area and building, how many residents, foreign
residents by nationality, party members, volunteers, and talents by skill category and language.

Counted in the store through the port (``grouped_counts``: persons per area they live in, by value;
``list_nodes``/``edges`` for the areas and their parents), once per change-log position and kept
until the log moves. A person resolved to another record (entity resolution: ``canonical`` names
another record) is not counted again.

What a role sees follows the policy. A statistic's sensitivity is the higher of where someone
lives at the finest level published (``building`` is personal; the ontology's derived fields) and the
counted property's (``party_member`` is personal): the residential area's counts are sums of the
buildings', so they are counted under the same rule or they would give the buildings' away.
``view.facet_rule`` then says EXACT (counts as they are: admin), SUPPRESSED (small counts hidden,
below: platform, analyst, staff — these paths carry no area scope) or FORBIDDEN (left out, null).

Suppression (k = ``POLICY.k_anonymity``):

1. Primary: a count from 1 to k-1 is never shown: ``count`` is null, ``display`` "<k". Zero is
   shown (an empty cell singles nobody out).
2. Complementary: wherever published counts add up, a reader could subtract. The sums checked are
   (a) per area, the foreign residents = the sum of the nationality cells; (b) per area, residents
   = foreign residents + the rest, = party members + the rest, = volunteers + the rest (the rest is
   never published but follows by subtraction, so a "rest" of 1 to k-1 is protected like a shown
   cell); (c) per residential area and statistic, the area's count = the sum of its buildings'
   counts plus its own residents who live in no building (that remainder is assumed known to the
   reader: the check is as strict as if it were published).
   For each sum whose total is shown, every hidden small cell must keep at least two possible values
   given the total, the shown parts and what the markers say (a "<k" cell holds 1..k-1, a
   complementary cell k or more, the rest 0 or more). Where one would be pinned, the smallest shown
   non-zero part is hidden too (``display`` "≥k"), else the total; repeated until every sum holds.
   Lists (nationalities, skills, languages) put hidden cells after the shown ones in value order,
   so the order does not rank them either.

This is the classic cell-suppression heuristic, checked sum by sum; it does not solve the whole
linear system across sums at once. Cells a role reads EXACT are never hidden.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from talentgraph.access.policy import FacetRule, RoleView
from talentgraph.api import golden
from talentgraph.errors import OntologyError
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import Flag, Ontology, Sensitivity, Within
from talentgraph.schema.vocabularies import vocabulary
from talentgraph.types import And, Cmp, Filter, Linked, Node, Or

# The person properties counted, and the derived flag for party members: spelled here once and
# checked against the ontology when the first count runs (a renamed property fails loudly).
PERSON = "Person"
NATIONALITY, SKILLS, LANGUAGES, VOLUNTEER, PARTY_MEMBER = "nationality", "skills", "languages", "volunteer", \
    "party_member"
# China's ISO 3166-1 code: a foreign resident is one with any other (known) nationality.
HOME_NATIONALITY = "CN"
# The levels statistics are made for (the map draws their outlines), finest last.
STAT_LEVELS = ("residential_area", "building")

# Statistic names as they appear in GeoJSON properties (GraphQL camel-cases them).
RESIDENTS, FOREIGN, PARTY, VOLUNTEERS = "residents", "foreign_residents", "party_members", "volunteers"
NATIONALITIES, SKILL_CATEGORIES, LANGS = "nationalities", "skill_categories", "languages"
SCALARS = (RESIDENTS, FOREIGN, PARTY, VOLUNTEERS)
LISTS = (NATIONALITIES, SKILL_CATEGORIES, LANGS)
_VOCAB = {NATIONALITIES: "nationalities", SKILL_CATEGORIES: "skills", LANGS: "languages"}

_ORDER = (Sensitivity.PUBLIC, Sensitivity.NAME, Sensitivity.PERSONAL, Sensitivity.SENSITIVE)
_PAGE = 1000

CellKey = tuple[str, str, str]  # (area id, statistic, value; "" for the scalar statistics)
_REST = "~rest"  # the value of an unpublished "rest" cell (residents minus a scalar statistic)


# --- raw counts ------------------------------------------------------------------------------------


@dataclass
class AreaCounts:
    id: str
    name: str
    level: str
    parent: str | None  # a building's residential area
    cells: Counter[tuple[str, str]] = field(default_factory=Counter)  # (statistic, value) → count

    def count(self, stat: str, value: str = "") -> int:
        return self.cells[(stat, value)]


@dataclass(frozen=True)
class Tally:
    seq: int
    areas: dict[str, AreaCounts]  # in id order


@dataclass(frozen=True)
class _Paths:
    """Where the counted things are in the ontology (derived fields of Person)."""

    lives_in: str  # relationship Person → Area
    part_of: str  # relationship Area → Area (child → parent)
    level_prop: str
    party: Flag
    level_class: dict[str, Sensitivity]  # area level → sensitivity of "lives at this level"
    stat_class: dict[str, Sensitivity]  # statistic → sensitivity of the counted property


def _paths(ontology: Ontology) -> _Paths:
    person = ontology.node(PERSON)
    for name in (NATIONALITY, SKILLS, LANGUAGES, VOLUNTEER):
        person.prop(name)  # raises when renamed
    derived = {d.name: d for d in ontology.derived_for(PERSON)}
    within = {d.path.level: d for d in derived.values() if isinstance(d.path, Within)}
    party = derived.get(PARTY_MEMBER)
    if party is None or not isinstance(party.path, Flag) or any(lv not in within for lv in STAT_LEVELS):
        raise OntologyError(f"Area statistics need Person's derived fields {PARTY_MEMBER} (a Flag) and "
                            f"{', '.join(STAT_LEVELS)} (Within).", hint="See DERIVED_FIELDS in schema/ontology.py.")
    path = within[STAT_LEVELS[0]].path
    assert isinstance(path, Within)
    nat = person.prop(NATIONALITY).sensitivity
    return _Paths(
        lives_in=path.hop.rel, part_of=path.up, level_prop=path.level_prop, party=party.path,
        level_class={lv: within[lv].sensitivity for lv in STAT_LEVELS},
        stat_class={RESIDENTS: Sensitivity.PUBLIC, FOREIGN: nat, NATIONALITIES: nat, PARTY: party.sensitivity,
                    VOLUNTEERS: person.prop(VOLUNTEER).sensitivity, SKILL_CATEGORIES: person.prop(SKILLS).sensitivity,
                    LANGS: person.prop(LANGUAGES).sensitivity},
    )


def _all(graph: GraphStore, type_name: str, where: Any = None) -> list[Node]:
    out: list[Node] = []
    after: str | None = None
    while True:
        page = graph.list_nodes(type_name, where=where, first=_PAGE, after=after)
        out += page.items
        if not page.has_next_page:
            return out
        after = page.end_cursor


def _skill_category(skill: str) -> str:
    skills = vocabulary("skills")
    if skill not in skills:
        return skill
    chain = skills.ancestors(skill)
    return chain[-1].id if chain else skill


def _constant(value: str) -> Callable[[Any], str | None]:
    return lambda _: value


def count_areas(graph: GraphStore, ontology: Ontology) -> Tally:
    """Count every statistic of every residential area and building, in the store (``grouped_counts``).

    Each person counts in the area they live in; a residential area's count is its own residents'
    plus its buildings' (a person with homes in two buildings counts in each).
    """
    seq = graph.last_seq()  # read first: a write landing meanwhile only makes the next call recount
    p = _paths(ontology)
    areas = _all(graph, "Area", Cmp(p.level_prop, "in", list(STAT_LEVELS)))
    out: dict[str, AreaCounts] = {a.id: AreaCounts(a.id, str(a.props.get("name") or a.id),
                                                   str(a.props.get(p.level_prop)), None)
                                  for a in sorted(areas, key=lambda a: a.id)}
    ids = list(out)
    if not ids:
        return Tally(seq, out)
    buildings = [i for i in ids if out[i].level == STAT_LEVELS[-1]]
    for child, edges in graph.edges(buildings, p.part_of, "out", far_props=[p.level_prop]).items():
        parents = [e.node.id for e in edges if e.node.id in out and out[e.node.id].level == STAT_LEVELS[0]]
        out[child].parent = parents[0] if parents else None
    shown = golden.shown_filter()  # one record per person (entity resolution)

    def tally(stat: str, where: Filter | None = None, field: str | None = None,
              value_of: Callable[[Any], str | None] = lambda v: "") -> None:
        counts = graph.grouped_counts(PERSON, p.lives_in, "out", ids, field=field,
                                      where=shown if where is None else And((shown, where)))
        for area_id, facets in counts.items():
            for f in facets:
                value = value_of(f.value)
                if value is None:
                    continue
                for target in (area_id, out[area_id].parent):
                    if target is not None:
                        out[target].cells[(stat, value)] += f.count

    tally(RESIDENTS)
    foreign: Callable[[Any], str | None] = lambda v: None if not v or v == HOME_NATIONALITY else str(v)
    tally(NATIONALITIES, field=NATIONALITY, value_of=foreign)
    for a in out.values():
        a.cells[(FOREIGN, "")] = sum(n for (stat, _), n in a.cells.items() if stat == NATIONALITIES)
    tally(VOLUNTEERS, Cmp(VOLUNTEER, "eq", True))
    tally(LANGS, field=LANGUAGES, value_of=lambda v: str(v))
    # Party members: the flag's property values, or a membership along the flag's relationships.
    party: list[Filter] = [Cmp(p.party.prop, "in", sorted(p.party.values))] if p.party.prop else []
    for hop in p.party.linked:
        party.append(Linked(hop.rel, hop.direction, tuple(n.id for n in _all(graph, hop.to))))
    tally(PARTY, Or(tuple(party)))
    # A skill category counts each person once, however many of its skills they have: one count per
    # category present, over the category and everything below it.
    skills = vocabulary("skills")
    present = graph.facet_counts(PERSON, SKILLS, And((shown, Linked(p.lives_in, "out", tuple(ids)))))
    for category in sorted({_skill_category(str(f.value)) for f in present}):
        below = [category, *(t.id for t in skills.descendants(category))] if category in skills else [category]
        tally(SKILL_CATEGORIES, Cmp(SKILLS, "in", below), value_of=_constant(category))
    return Tally(seq, out)


# --- suppression -----------------------------------------------------------------------------------


class Status(StrEnum):
    SHOWN = "shown"
    PRIMARY = "primary"  # 1..k-1, shown as "<k"
    SECONDARY = "secondary"  # hidden so that a sum cannot reveal a small cell, shown as "≥k"


@dataclass(frozen=True)
class Cell:
    value: int
    published: bool = True  # False: never shown, but follows from a sum (a "rest")
    suppressible: bool = True  # the role's rule for the cell is SUPPRESSED (EXACT: never hidden)


@dataclass(frozen=True)
class Group:
    """Published cells that add up: ``total = offset + sum(parts)``; ``offset`` is assumed known."""

    total: Any
    parts: tuple[Any, ...]
    offset: int = 0


def protect(cells: Mapping[Any, Cell], groups: Sequence[Group], k: int) -> dict[Any, Status]:
    """Primary and complementary suppression (module docstring); pure, deterministic."""
    status = {key: Status.PRIMARY if c.suppressible and 0 < c.value < k else Status.SHOWN for key, c in cells.items()}
    changed = True
    while changed:
        changed = False
        for g in groups:
            total = cells[g.total]
            if not total.published or status[g.total] is not Status.SHOWN:
                continue  # an unknown total ties nothing down
            shown = [p for p in g.parts if cells[p].published and status[p] is Status.SHOWN]
            unknown = [p for p in g.parts if p not in shown]
            rest = total.value - g.offset - sum(cells[p].value for p in shown)
            if all(_protected(i, unknown, rest, cells, status, k) for i in unknown if status[i] is Status.PRIMARY):
                continue
            candidates = sorted((p for p in shown if cells[p].suppressible and cells[p].value > 0),
                                key=lambda p: (cells[p].value, str(p)))
            if candidates:
                status[candidates[0]] = Status.SECONDARY
            elif total.suppressible:
                status[g.total] = Status.SECONDARY
            else:
                continue  # the role reads the total exactly and every part is hidden already
            changed = True
    return status


def _bounds(key: Any, cells: Mapping[Any, Cell], status: Mapping[Any, Status], k: int) -> tuple[float, float]:
    """What a reader knows of a hidden cell from its marker alone."""
    if not cells[key].published:
        return 0, math.inf
    return (1, k - 1) if status[key] is Status.PRIMARY else (k, math.inf)


def _protected(i: Any, unknown: Sequence[Any], rest: int, cells: Mapping[Any, Cell], status: Mapping[Any, Status],
               k: int) -> bool:
    """Whether hidden cell ``i`` keeps two or more possible values given the hidden cells' sum ``rest``."""
    lo_i, hi_i = _bounds(i, cells, status, k)
    others = [_bounds(j, cells, status, k) for j in unknown if j != i]
    lo = max(lo_i, rest - sum(hi for _, hi in others))
    hi = min(hi_i, rest - sum(lo_ for lo_, _ in others))
    return hi > lo


# --- a role's view ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    count: int | None
    display: str


@dataclass(frozen=True)
class ShownValue:
    value: str
    count: int | None
    display: str


@dataclass(frozen=True)
class AreaStats:
    id: str
    name: str
    level: str
    parent: str | None
    scalars: dict[str, Shown | None]  # None: the role may not count this statistic
    lists: dict[str, list[ShownValue] | None]

    def as_properties(self) -> dict[str, Any]:
        """The GeoJSON ``stats`` property: {count, display} per statistic, lists of {value, count, display}."""
        out: dict[str, Any] = {}
        for name, s in self.scalars.items():
            out[name] = None if s is None else {"count": s.count, "display": s.display}
        for name, values in self.lists.items():
            out[name] = None if values is None else [{"value": v.value, "count": v.count, "display": v.display}
                                                     for v in values]
        return out


def role_stats(view: RoleView, tally: Tally, ontology: Ontology) -> dict[str, AreaStats]:
    """Every area's statistics as ``view``'s role may see them, suppressed as the module says."""
    p = _paths(ontology)
    k = view.policy.k_anonymity
    order = _ORDER.index

    def rule(level: str, stat: str) -> FacetRule:
        # Every level counts under the finest level's class: a residential area's count is the sum
        # of its buildings', so an exact area count beside hidden building counts would give them
        # away (an area with one building). ``level`` is kept for the day levels stop nesting.
        where = max((p.level_class[lv] for lv in STAT_LEVELS), key=order)
        return view.facet_rule(PERSON, max(where, p.stat_class[stat], key=order))

    cells: dict[CellKey, Cell] = {}
    groups: list[Group] = []
    of_area: dict[str, list[CellKey]] = defaultdict(list)  # published cells per area, in insertion order
    for a in tally.areas.values():
        rules = {stat: rule(a.level, stat) for stat in (*SCALARS, *LISTS)}
        for stat in SCALARS:
            if rules[stat] is not FacetRule.FORBIDDEN:
                cells[(a.id, stat, "")] = Cell(a.count(stat), suppressible=rules[stat] is FacetRule.SUPPRESSED)
                of_area[a.id].append((a.id, stat, ""))
        for (stat, value), n in sorted(a.cells.items()):
            if stat in LISTS and rules[stat] is not FacetRule.FORBIDDEN:
                cells[(a.id, stat, value)] = Cell(n, suppressible=rules[stat] is FacetRule.SUPPRESSED)
                of_area[a.id].append((a.id, stat, value))
        total = (a.id, RESIDENTS, "")
        if total in cells:
            for stat in (FOREIGN, PARTY, VOLUNTEERS):
                if (a.id, stat, "") in cells:  # the rest (residents minus these) follows by subtraction
                    rest = (a.id, stat, _REST)
                    cells[rest] = Cell(a.count(RESIDENTS) - a.count(stat), published=False,
                                       suppressible=rules[stat] is FacetRule.SUPPRESSED)
                    groups.append(Group(total, ((a.id, stat, ""), rest)))
        if (a.id, FOREIGN, "") in cells:
            groups.append(Group((a.id, FOREIGN, ""), tuple(c for c in of_area[a.id] if c[1] == NATIONALITIES)))
    children: dict[str, list[str]] = defaultdict(list)
    for a in tally.areas.values():
        if a.parent is not None:
            children[a.parent].append(a.id)
    for parent, kids in children.items():
        for _, stat, value in of_area[parent]:
            parts = tuple((kid, stat, value) for kid in kids if (kid, stat, value) in cells)
            offset = cells[(parent, stat, value)].value - sum(cells[x].value for x in parts)
            groups.append(Group((parent, stat, value), parts, offset))
    status = protect(cells, groups, k)

    def shown(key: CellKey) -> Shown | None:
        if key not in cells:
            return None
        s = status[key]
        if s is Status.SHOWN:
            return Shown(cells[key].value, str(cells[key].value))
        return Shown(None, f"<{k}" if s is Status.PRIMARY else f"≥{k}")

    out: dict[str, AreaStats] = {}
    for a in tally.areas.values():
        rules = {stat: rule(a.level, stat) for stat in LISTS}
        lists: dict[str, list[ShownValue] | None] = {}
        for stat in LISTS:
            if rules[stat] is FacetRule.FORBIDDEN:
                lists[stat] = None
                continue
            values = [ShownValue(v, s.count, s.display) for (area, st, v) in of_area[a.id] if st == stat
                      for s in [shown((area, st, v))] if s is not None]
            # Shown counts largest first; hidden ones after them by value, so the order ranks nothing hidden.
            lists[stat] = sorted(values, key=lambda x: (x.count is None, -(x.count or 0), x.value))
        out[a.id] = AreaStats(a.id, a.name, a.level, a.parent, {stat: shown((a.id, stat, "")) for stat in SCALARS},
                              lists)
    return out


def labels(stat: str, value: str) -> tuple[str | None, str | None]:
    """Chinese and English labels of a list statistic's value (its vocabulary's term)."""
    v = vocabulary(_VOCAB[stat])
    term = v.terms.get(value)
    return (term.zh, term.en) if term is not None else (None, None)


# --- kept per change-log position ------------------------------------------------------------------


class AreaStatsCache:
    """The tally, recounted only when the change log has moved; each role's view of it, kept too."""

    def __init__(self, graph: GraphStore, ontology: Ontology) -> None:
        self.graph, self.ontology = graph, ontology
        self._lock = threading.Lock()
        self._tally: Tally | None = None
        self._views: dict[str, dict[str, AreaStats]] = {}

    def stats(self, view: RoleView) -> dict[str, AreaStats]:
        """Blocking (call it in a worker thread)."""
        with self._lock:  # one recount at a time; the others wait for it rather than repeat it
            seq = self.graph.last_seq()
            if self._tally is None or self._tally.seq != seq:
                self._tally = count_areas(self.graph, self.ontology)
                self._views = {}
            got = self._views.get(view.role)
            if got is None:
                got = self._views[view.role] = role_stats(view, self._tally, self.ontology)
            return got


_CACHES: dict[int, AreaStatsCache] = {}
_CACHES_LOCK = threading.Lock()
_MAX_CACHES = 4  # a server has one graph; tests open many, and a closed graph's counts must not pile up


def cache_for(graph: GraphStore, ontology: Ontology) -> AreaStatsCache:
    """One cache per open graph, shared by the GeoJSON route and the GraphQL field."""
    with _CACHES_LOCK:
        cache = _CACHES.pop(id(graph), None)
        if cache is None or cache.graph is not graph:
            cache = AreaStatsCache(graph, ontology)
        _CACHES[id(graph)] = cache  # most recently used last
        while len(_CACHES) > _MAX_CACHES:
            del _CACHES[next(iter(_CACHES))]
        return cache


def cells_shown(stats: Iterable[AreaStats]) -> int:
    """How many aggregate values a response carries (the audit records the number, not the values)."""
    return sum(sum(s is not None for s in a.scalars.values()) + sum(len(v or ()) for v in a.lists.values())
               for a in stats)
