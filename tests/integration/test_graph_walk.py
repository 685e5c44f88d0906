"""``GraphStore.walk`` answers, per step and parent, what ``edges`` answers with the same arguments (every engine).

And its root page is the page ``list_nodes`` returns; every parent a step applies to has an entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from api_world import World, load_world, make_world

from talentgraph.errors import BadQueryError
from talentgraph.graph.walk import MAX_DEPTH, PageRoot, Step, Walk, WalkResult
from talentgraph.types import And, Cmp, Linked, Not, Or, SortKey

CO_BUILDS = Step("co", "CO_BUILDS_WITH", "out", ("PartyOrganization",), limit=2, other_types=("Enterprise",),
                 edge_where=Cmp("since", "gte", "2021-01-01"))
PART_OF = Step("up", "PART_OF", "out", ("PartyOrganization", "Group"), limit=5)
MEMBERS = Step("members", "MEMBER_OF", "in", ("PartyOrganization", "Group"), limit=4,
               where=Or((Cmp("volunteer", "eq", True), Not(Cmp("birth_year", "lt", 1970)))))
WALKS = {
    "two levels, both far types": (MEMBER_OF := Step("mo", "MEMBER_OF", "out", ("Person",), limit=21,
                                                      steps=(CO_BUILDS, PART_OF)),),
    "one far type, a filter on a field it has": (
        Step("mo", "MEMBER_OF", "out", ("Person",), limit=3, other_types=("Group",),
             where=Cmp("kind", "eq", "volunteer_branch")),),
    "a filter on a field only one far type has": (Step("mo", "MEMBER_OF", "out", ("Person",), limit=3,
                                                       where=Cmp("level", "eq", "branch")),),
    "siblings, an edge filter, no far type allowed": (
        Step("wa", "WORKS_AT", "out", ("Person",), limit=1, edge_where=Cmp("title", "eq", "engineer")),
        Step("mo", "MEMBER_OF", "out", ("Person",), limit=2, other_types=()),
        Step("mo2", "MEMBER_OF", "out", ("Person",), limit=2, steps=(MEMBERS,))),
    "three levels up and down, a linked filter": (
        Step("mo", "MEMBER_OF", "out", ("Person",), limit=5, steps=(
            Step("up", "PART_OF", "out", ("PartyOrganization",), limit=2, steps=(
                Step("down", "PART_OF", "in", ("PartyOrganization",), limit=3,
                     where=And((Linked("CO_BUILDS_WITH", "out", ("ent:1", "ent:2")),))),
                Step("members", "MEMBER_OF", "in", ("PartyOrganization",), limit=30))),
            CO_BUILDS)),
        Step("wa", "WORKS_AT", "out", ("Person",), steps=(
            Step("staff", "WORKS_AT", "in", ("Enterprise",), limit=3, steps=(
                Step("their", "MEMBER_OF", "out", ("Person",), other_types=("Group",)),)),))),
}


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def store(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[Any]:
    g = load_world(graph_backend, tmp_path_factory.mktemp("graph-walk") / "graph", world)
    yield g
    g.close()


def check(store: Any, walk: Walk, result: WalkResult, roots: list[str]) -> int:
    """Every step's edges are ``edges``' for every parent it applies to, and there are no others. Steps that
    read columns (``node_props``) against ``edges(far_props=…)``: the far node's columns, the edge's key."""
    checked = 0

    def seen(edges: list[Any], columns: bool) -> list[Any]:
        return [(e.node.id, e.props.get("key"), e.node.props) for e in edges] if columns else edges

    def visit(steps: tuple[Step, ...], parents: list[Any]) -> None:
        nonlocal checked
        for s in steps:
            applies = sorted({p.id for p in parents if p.type in s.parent_types})
            assert sorted(result.edges[s.name]) == applies, s.name
            want = store.edges(applies, s.rel_type, s.direction, where=s.where, edge_where=s.edge_where,
                               limit_per_node=s.limit, other_types=s.other_types,
                               far_props=s.node_props) if applies else {}
            for p in applies:
                columns = s.node_props is not None
                assert seen(result.edges[s.name][p], columns) == seen(want[p], columns), (s.name, p)
                checked += len(want[p])
            visit(s.steps, [e.node for p in applies for e in result.edges[s.name][p]])

    visit(walk.steps, list(store.get_nodes(roots).values()))
    return checked


@pytest.mark.parametrize("name", list(WALKS))
def test_a_walk_from_one_node_is_what_edges_says(store: Any, name: str) -> None:
    total = 0
    for pid in ("per:000", "per:001", "per:005", "per:nobody"):
        walk = Walk(WALKS[name], node_id=pid)
        result = store.walk(walk)
        assert result.node == store.get_nodes([pid]).get(pid)
        if result.node is not None:
            total += check(store, walk, result, [pid])
    if name != "siblings, an edge filter, no far type allowed":
        assert total > 0


@pytest.mark.parametrize("name", list(WALKS))
@pytest.mark.parametrize("page", [PageRoot("Person", first=7), PageRoot("Person", where=Cmp("volunteer", "eq", True),
                                                                         sort=(SortKey("name", True),), first=4),
                                  PageRoot("Person", sort=(SortKey("birth_year"),), first=50)])
def test_a_walk_from_a_page_is_that_page_and_what_edges_says(store: Any, name: str, page: PageRoot) -> None:
    after = None
    for _ in range(2):
        root = PageRoot(page.type_name, page.where, page.sort, page.first, after)
        result = store.walk(Walk(WALKS[name], page=root))
        want = store.list_nodes(page.type_name, where=page.where, sort=list(page.sort), first=page.first, after=after)
        assert result.page == want
        check(store, Walk(WALKS[name], page=root), result, [n.id for n in want.items])
        after = want.end_cursor


def _with_columns(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    return tuple(replace(s, node_props=("name", "level", "kind"), steps=_with_columns(s.steps)) for s in steps)


@pytest.mark.parametrize("name", list(WALKS))
def test_a_walk_reading_columns_from_one_node_is_what_edges_says(store: Any, name: str) -> None:
    """Reading columns, a walk by id reads one UNION ALL branch of rows per chain of steps: the same edges."""
    steps = _with_columns(WALKS[name])
    total = 0
    for pid in ("per:000", "per:001", "per:005", "per:007", "per:nobody"):
        walk = Walk(steps, node_id=pid, root_props=("name",))
        result = store.walk(walk)
        whole = store.get_nodes([pid]).get(pid)
        assert (result.node is None) == (whole is None)
        if whole is not None:
            assert result.node.props.get("name") == whole.props.get("name")
            total += check(store, walk, result, [pid])
    if name != "siblings, an edge filter, no far type allowed":
        assert total > 0


@pytest.mark.parametrize("name", list(WALKS))
@pytest.mark.parametrize("page", [PageRoot("Person", first=7, count=True),
                                  PageRoot("Person", sort=(SortKey("name", True),), first=4)])
def test_a_walk_reading_columns_from_a_page_is_that_page_and_what_edges_says(store: Any, name: str,
                                                                               page: PageRoot) -> None:
    """A page's roots each get their own rows of the deepest chain; they are told apart by id and folded."""
    steps = _with_columns(WALKS[name])
    after = None
    for _ in range(2):
        root = replace(page, after=after)
        result = store.walk(Walk(steps, page=root, root_props=("name",)))
        want = store.list_nodes(page.type_name, sort=list(page.sort), first=page.first, after=after, count=page.count)
        assert result.page is not None
        assert [n.id for n in result.page.items] == [n.id for n in want.items]
        assert [n.props.get("name") for n in result.page.items] == [n.props.get("name") for n in want.items]
        assert (result.page.has_next_page, result.page.end_cursor, result.page.total_count) == \
            (want.has_next_page, want.end_cursor, want.total_count)
        check(store, Walk(steps, page=root), result, [n.id for n in want.items])
        after = want.end_cursor


def test_a_walk_needs_one_root_and_at_most_max_depth_steps() -> None:
    with pytest.raises(BadQueryError):
        Walk((), node_id="per:000", page=PageRoot("Person"))
    deep = Step("x", "PART_OF", "out", ("PartyOrganization",))
    for _ in range(MAX_DEPTH):
        deep = Step("x", "PART_OF", "out", ("PartyOrganization",), steps=(deep,))
    with pytest.raises(BadQueryError, match="steps deep"):
        Walk((deep,), node_id="org:0")
