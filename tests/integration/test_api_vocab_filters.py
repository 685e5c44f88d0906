"""GraphQL filters on vocabulary fields take labels (俄语, Russian) like ingest does; an unknown value
is a BAD_QUERY naming close terms instead of silently matching nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_world import OPEN_ADMIN, World, client, gql, load_world, make_world

from talentgraph.config import Settings
from talentgraph.server import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def app(graph_backend: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    world: World = make_world()
    g = load_world(graph_backend, tmp_path_factory.mktemp("api-vocab") / "graph", world)
    yield create_app(g, None, Settings(data_dir=tmp_path_factory.mktemp("d")), gate=OPEN_ADMIN)
    g.close()


async def _count(app: Any, where: str) -> Any:
    async with client(app) as c:
        return await gql(c, f"{{ persons(where: {where}) {{ totalCount }} }}")


async def test_labels_and_ids_give_the_same_rows(app: Any) -> None:
    by_id = (await _count(app, '{languages: {contains: "ru"}}'))["data"]["persons"]["totalCount"]
    assert by_id > 0
    for label in ("俄语", "Russian", "русский"):
        body = await _count(app, f'{{languages: {{contains: "{label}"}}}}')
        assert body["data"]["persons"]["totalCount"] == by_id, (label, body)


async def test_facet_count_where_reads_labels_too(app: Any) -> None:
    async with client(app) as c:
        ids = await gql(c, '{ facetCounts(type: Person, field: "languages", where: {languages: {contains: "ru"}}) '
                           '{ value count } }')
        labels = await gql(c, '{ facetCounts(type: Person, field: "languages", where: {languages: {contains: "俄语"}}) '
                              '{ value count } }')
    assert ids["data"]["facetCounts"] == labels["data"]["facetCounts"]


async def test_unknown_value_is_a_bad_query_with_close_terms(app: Any) -> None:
    body = await _count(app, '{languages: {contains: "Russain"}}')
    (err,) = body["errors"]
    assert err["extensions"]["code"] == "BAD_QUERY"
    assert "'Russain' is not in the 'languages' vocabulary" in err["message"]
    assert "ru (俄语 / Russian)" in err["extensions"]["hint"]
