"""OpenSearch/Elasticsearch adapter without a server: request bodies as dicts, mapping from the
ontology, names, capabilities, bulk bodies, and what the Elasticsearch 8 transport puts on the wire."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from elastic_transport import HttpHeaders, Urllib3HttpNode
from elastic_transport.client_utils import DEFAULT
from elastic_transport._node._base import NodeApiResponse

from talentgraph.config import Settings
from talentgraph.errors import BadQueryError, ConfigError, StoreError
from talentgraph.schema.ontology import ONTOLOGY, Property, PropType, SearchKind
from talentgraph.search.mapping import FieldKind, build_doc, search_fields
from talentgraph.search.opensearch import bulk, dsl
from talentgraph.search.opensearch.capabilities import capabilities_for, parse_version
from talentgraph.search.opensearch.index import OpenSearchIndex, check_alias, index_name, parse_index_name
from talentgraph.search.opensearch.transport import (
    ElasticsearchTransport,
    EngineUnavailable,
    OpenSearchTransport,
    es_search_kwargs,
    open_transport,
)
from talentgraph.search.query import Bool, Fuzzy, MatchAll, Range, Term, Terms
from talentgraph.types import Node


@pytest.fixture(scope="module")
def compile_() -> dsl.Compiler:
    return dsl.Compiler({f.name: f.kind for f in search_fields()})


# --- query nodes --------------------------------------------------------------------------------


def test_term(compile_: dsl.Compiler) -> None:
    assert compile_(Term("name", "张")) == {"term": {"name": {"value": "张"}}}
    assert compile_(Term("name", "张", 3.0)) == {"term": {"name": {"value": "张", "boost": 3.0}}}


def test_query_syntax_in_values_is_inert(compile_: dsl.Compiler) -> None:
    value = 'name:* OR "x" AND -y'
    assert compile_(Term("name", value)) == {"term": {"name": {"value": value}}}


def test_terms_dedupes_and_empty_matches_nothing(compile_: dsl.Compiler) -> None:
    assert compile_(Terms("languages__facet", ("ru", "en", "ru"))) == {"terms": {"languages__facet": ["ru", "en"]}}
    assert compile_(Terms("languages__facet", ())) == {"match_none": {}}


def test_fuzzy_is_constant_scored_like_tantivy(compile_: dsl.Compiler) -> None:
    assert compile_(Fuzzy("bio", "gardenin", 1, 1, 0.5)) == {"fuzzy": {"bio": {
        "value": "gardenin", "fuzziness": 1, "prefix_length": 1, "transpositions": True,
        "rewrite": "constant_score", "boost": 0.5}}}
    with pytest.raises(BadQueryError, match="distance 3"):
        compile_(Fuzzy("bio", "gardening", 3))


def test_match_all_and_range(compile_: dsl.Compiler) -> None:
    assert compile_(MatchAll()) == {"match_all": {}}
    with pytest.raises(BadQueryError, match="Range query on 'year__facet', which is a facet field"):
        compile_(Range("year__facet", gte=2020))


def test_bool_with_every_occur(compile_: dsl.Compiler) -> None:
    q = Bool(
        must=(Term("name", "张", 3.0),),
        should=(Fuzzy("bio", "gardening", 1, 1, 0.5), Terms("languages__facet", ("ru",))),
        must_not=(Term("type", "Area"),),
        filter=(Terms("type", ("Person",)), MatchAll()),
        minimum_should_match=1,
        boost=2.0,
    )
    assert compile_(q) == {"bool": {
        "must": [{"term": {"name": {"value": "张", "boost": 3.0}}}],
        "filter": [{"terms": {"type": ["Person"]}}, {"match_all": {}}],
        "should": [compile_(q.should[0]), {"terms": {"languages__facet": ["ru"]}}],
        "must_not": [{"term": {"type": {"value": "Area"}}}],
        "minimum_should_match": 1,
        "boost": 2.0,
    }}


def test_bool_edge_cases(compile_: dsl.Compiler) -> None:
    # Default minimum_should_match is left to the engine, whose rule is the tree's rule.
    assert compile_(Bool(should=(Term("name", "a"),))) == {"bool": {"should": [{"term": {"name": {"value": "a"}}}]}}
    assert compile_(Bool()) == {"bool": {}}  # matches everything, as in Tantivy
    assert compile_(Bool(should=(Term("name", "a"),), minimum_should_match=2)) == {"match_none": {}}
    nested = compile_(Bool(must=(Bool(should=(Term("name", "a"), Term("name", "b"))),)))
    assert nested["bool"]["must"][0]["bool"]["should"][1] == {"term": {"name": {"value": "b"}}}


def test_unknown_fields_raise_or_match_nothing() -> None:
    kinds = {f.name: f.kind for f in search_fields()}
    with pytest.raises(BadQueryError, match="'hobby'") as e:
        dsl.Compiler(kinds)(Term("hobby", "x"))
    assert "languages__facet" in str(e.value.hint)
    with pytest.raises(BadQueryError, match="_src"):
        dsl.Compiler(kinds)(Term("_src", "x"))
    stale = dsl.Compiler(kinds, unknown="empty")
    assert stale(Bool(should=(Term("hobby", "x"), Term("name", "y")))) == {
        "bool": {"should": [{"match_none": {}}, {"term": {"name": {"value": "y"}}}]}}


def test_ranks() -> None:
    assert dsl.ranks(Term("name", "a")) and dsl.ranks(Bool(should=(Fuzzy("bio", "abcde"),)))
    assert not dsl.ranks(MatchAll()) and not dsl.ranks(Bool(filter=(Term("type", "Person"),)))
    assert not dsl.ranks(Terms("type", ("Person",)))


# --- search request and response ---------------------------------------------------------------


def test_search_body_ranked_with_facets() -> None:
    body = dsl.search_body(dsl.combine({"match_all": {}}, {"terms": {"type": ["Person"]}}),
                           facets=["languages__facet", "skills__facet"], limit=7, offset=14, facet_size=5)
    assert body == {
        "query": {"bool": {"must": [{"match_all": {}}], "filter": [{"terms": {"type": ["Person"]}}]}},
        "from": 14,
        "size": 7,
        "track_total_hits": True,
        "sort": [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}],
        "_source": ["type", "_src", "id"],
        "aggs": {
            name: {"terms": {"field": name, "size": 5, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
            for name in ("languages__facet", "skills__facet")
        },
    }


def test_browsing_sorts_by_id_only() -> None:
    body = dsl.search_body({"match_all": {}}, limit=1, offset=0, ranked=False)
    assert body["sort"] == [{"id": {"order": "asc"}}] and "aggs" not in body
    assert dsl.combine({"match_all": {}}, None) == {"match_all": {}}


def test_read_result() -> None:
    response = {
        "hits": {"total": {"value": 42, "relation": "eq"}, "hits": [
            {"_id": "per:1", "_score": 2.5, "_source": {"id": "per:1", "type": "Person", "_src": '{"name": "张伟"}'}},
            {"_id": "area:b01", "_score": 1.0, "_source": {"id": "area:b01", "type": "Area"}},
        ]},
        "aggregations": {"languages__facet": {"buckets": [
            {"key": "zh", "doc_count": 3}, {"key": "en", "doc_count": 5}, {"key": "de", "doc_count": 3}]},
            "party_member__facet": {"buckets": []}},
    }
    raw = dsl.read_result(response, ["languages__facet", "party_member__facet"])
    assert raw.total == 42 and [h.id for h in raw.hits] == ["per:1", "area:b01"]
    assert raw.hits[0].score == 2.5 and raw.hits[0].stored == {"type": "Person", "_src": '{"name": "张伟"}'}
    assert raw.hits[1].stored == {"type": "Area"}
    assert raw.facets == {"languages__facet": [("en", 5), ("de", 3), ("zh", 3)], "party_member__facet": []}
    assert dsl.read_result(response, ranked=False).hits[0].score == 0.0


# --- mapping ------------------------------------------------------------------------------------


def test_mapping_follows_search_fields() -> None:
    fields = search_fields()
    body = dsl.index_body(fields, {"alias": "tg", "version": 3})
    m = body["mappings"]
    assert m["dynamic"] == "strict" and m["_source"] == {"includes": ["id", "type", "_src"]}
    assert m["_meta"]["talentgraph"] == {"fields": dsl.fields_signature(fields), "alias": "tg", "version": 3}
    assert list(m["properties"]) == [f.name for f in fields]
    for f in fields:
        p = m["properties"][f.name]
        if f.kind in (FieldKind.NAME, FieldKind.TEXT, FieldKind.KEYWORD):
            assert p == {"type": "text", "analyzer": "whitespace", "index_options": "freqs"}, f.name
        elif f.kind is FieldKind.BIGRAM:
            assert p["analyzer"] == "whitespace" and p["fields"] == {"cjk": {"type": "text", "analyzer": "cjk"}}
        elif f.kind is FieldKind.SOURCE:
            assert p == {"type": "keyword", "index": False, "doc_values": False}
        else:
            assert p == {"type": "keyword"}, f.name
    assert body["settings"]["index"]["number_of_shards"] == 1
    assert dsl.kinds_of(m["_meta"]["talentgraph"]["fields"]) == {f.name: f.kind for f in fields}


def test_a_new_ontology_property_reaches_the_mapping() -> None:
    extended = ONTOLOGY.with_property("Person", Property("hobby", PropType.STRING, "Hobby.",
                                                         searchable=SearchKind.TEXT, facet=True))
    before = dsl.mappings(search_fields())["properties"]
    after = dsl.mappings(search_fields(extended))["properties"]
    assert set(after) - set(before) == {"hobby", "hobby__bigram", "hobby__facet"}
    assert after["hobby"]["analyzer"] == "whitespace" and after["hobby__facet"] == {"type": "keyword"}
    assert "cjk" in after["hobby__bigram"]["fields"]


def test_document_body() -> None:
    doc = build_doc(Node("per:1", "Person", {"name": "张伟", "languages": ["ru"]}))
    body = dsl.document(doc)
    assert body["id"] == "per:1" and body["type"] == "Person" and body["languages__facet"] == ["ru"]
    assert body["name"] == doc.fields["name"] and json.loads(body["_src"])["name"] == "张伟"
    assert set(body) <= {f.name for f in search_fields()}


# --- names and capabilities ---------------------------------------------------------------------


def test_index_names_round_trip() -> None:
    name = index_name("talentgraph", 12, now=1_700_000_000.25)
    assert name == "talentgraph-v12-20231114221320250"
    assert parse_index_name("talentgraph", name) == (12, 1_700_000_000.25)
    assert parse_index_name("talentgraph", "talentgraph-meta") is None
    assert parse_index_name("talent", name) is None  # another alias's prefix is not ours


def test_alias_names_are_checked() -> None:
    assert check_alias("talentgraph") == "talentgraph"
    for bad in ("TalentGraph", "-x", "_x", "a b", "a*", "", "."):
        with pytest.raises(ConfigError, match="search_index"):
            check_alias(bad)


def test_capabilities() -> None:
    os2 = capabilities_for("opensearch", "2.19.1")
    assert (os2.name, os2.point_in_time, os2.combined_fields) == ("opensearch", True, False)
    assert not capabilities_for("opensearch", "2.3.0").point_in_time
    es8 = capabilities_for("elasticsearch", "8.15.0-SNAPSHOT")
    assert (es8.name, es8.point_in_time, es8.combined_fields) == ("elasticsearch", True, True)
    assert parse_version("8.15.0") == (8, 15)
    with pytest.raises(ConfigError, match="'solr'"):
        capabilities_for("solr", "9.0")
    with pytest.raises(ConfigError, match="not a version"):
        parse_version("latest")


# --- bulk bodies --------------------------------------------------------------------------------


def _lines(body: bytes) -> list[Any]:
    assert body.endswith(b"\n")
    return [json.loads(line) for line in body.decode("utf-8").split("\n")[:-1]]


def test_bulk_bodies_and_chunks() -> None:
    actions = [bulk.Action("index", "per:1", {"id": "per:1", "name": "张伟"}), bulk.Action("delete", "per:2"),
               bulk.Action("index", "per:3", '{"id":"per:3","name":"Наталья"}')]  # encoded by a worker
    assert _lines(bulk.ndjson(actions, "tg", require_alias=True)) == [
        {"index": {"_index": "tg", "_id": "per:1", "require_alias": True}}, {"id": "per:1", "name": "张伟"},
        {"delete": {"_index": "tg", "_id": "per:2"}},
        {"index": {"_index": "tg", "_id": "per:3", "require_alias": True}}, {"id": "per:3", "name": "Наталья"},
    ]
    # A worker's text is sent as it is, byte for byte; a body is encoded once.
    assert b'{"id":"per:3","name":"\xd0\x9d' in bulk.ndjson(actions[2:], "tg")
    assert actions[0].text is actions[0].text
    with pytest.raises(StoreError, match="per:9"):
        _ = bulk.Action("index", "per:9", {"bio": "\ud800"}).text  # a lone surrogate is no Unicode text
    many = [bulk.Action("index", f"per:{i}", {"bio": "x" * 100}) for i in range(25)]
    assert [len(c) for c in bulk.chunks(many, max_docs=10)] == [10, 10, 5]
    assert [len(c) for c in bulk.chunks(many, max_docs=100, max_bytes=1000)] == [6, 6, 6, 6, 1]
    assert list(bulk.chunks([])) == []
    assert [bulk.retryable(s) for s in (200, 400, 404, 409, 429, 500, 503)] == [
        False, False, False, False, True, True, True]


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = bulk.RetryPolicy(first_delay=0.1, max_delay=0.5)
    for attempt, cap in ((1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (9, 0.5)):
        d = policy.delay(attempt)
        assert cap / 2 <= d <= cap


# --- transports without a server ----------------------------------------------------------------


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RecordingNode(Urllib3HttpNode):
    """The Elasticsearch client's real HTTP node, noting each request before sending it."""

    sent: ClassVar[list[dict[str, Any]]] = []

    def perform_request(self, method: str, target: str, body: bytes | None = None,
                        headers: HttpHeaders | None = None, request_timeout: Any = DEFAULT) -> NodeApiResponse:
        sent = dict(headers or {})
        lines = [json.loads(x) for x in (body or b"").decode().splitlines() if x]
        parsed = lines if "ndjson" in str(sent.get("content-type", "")) else (lines[0] if lines else None)
        self.sent.append({"method": method, "target": target, "body": parsed, "headers": sent})
        return super().perform_request(method, target, body, headers, request_timeout)


@pytest.fixture()
def es() -> Iterator[ElasticsearchTransport]:
    RecordingNode.sent.clear()
    t = ElasticsearchTransport(f"http://127.0.0.1:{_unused_port()}", user="u", password="p", timeout=2,
                               node_class=RecordingNode, max_retries=0)
    yield t
    t.close()


def _send(call: Any) -> dict[str, Any]:
    with pytest.raises(EngineUnavailable, match="Cannot reach Elasticsearch at http://127.0.0.1") as e:
        call()
    assert "services/up" in str(e.value.hint)
    (req,) = RecordingNode.sent
    RecordingNode.sent.clear()
    return req


def test_elasticsearch_transport_request_shapes(es: ElasticsearchTransport) -> None:
    fields = search_fields()
    req = _send(lambda: es.create_index("tg-v1-x", {**dsl.index_body(fields), "aliases": {"tg": {}}}))
    assert (req["method"], req["target"]) == ("PUT", "/tg-v1-x")
    assert req["body"]["mappings"]["dynamic"] == "strict" and req["body"]["aliases"] == {"tg": {}}
    assert req["headers"]["authorization"].startswith("Basic ")
    assert "compatible-with=8" in req["headers"]["accept"]

    ops = bulk.ndjson([bulk.Action("index", "per:1", {"id": "per:1"}), bulk.Action("delete", "per:2")], "tg")
    req = _send(lambda: es.bulk(ops))
    assert (req["method"], req["target"]) == ("PUT", "/_bulk") and req["body"] == _lines(ops)
    assert "ndjson" in req["headers"]["content-type"]

    body = dsl.search_body({"term": {"name": {"value": "张"}}}, facets=["languages__facet"], limit=5, offset=10)
    req = _send(lambda: es.search("tg", body))
    assert (req["method"], req["target"]) == ("POST", "/tg/_search")
    assert req["body"] == body  # from_= and source= went back to "from" and "_source"

    req = _send(lambda: es.update_aliases([{"remove": {"index": "a", "alias": "tg"}}, {"add": {"index": "b", "alias": "tg"}}]))
    assert (req["method"], req["target"]) == ("POST", "/_aliases") and len(req["body"]["actions"]) == 2

    req = _send(lambda: es.put_doc("tg-meta", "tg-v1-x", {"cursor": 7}))
    assert (req["method"], req["target"], req["body"]) == ("PUT", "/tg-meta/_doc/tg-v1-x", {"cursor": 7})

    assert _send(lambda: es.count("tg"))["target"] == "/tg/_count"
    assert _send(lambda: es.refresh("tg"))["target"] == "/tg/_refresh"
    assert _send(lambda: es.get_doc("tg-meta", "x"))["target"] == "/tg-meta/_doc/x"
    assert _send(lambda: es.aliases("tg-v*"))["target"] == "/tg-v*/_alias"
    assert _send(lambda: es.get_mapping("tg"))["target"] == "/tg/_mapping"
    assert _send(lambda: es.delete_index("tg-v1-x"))["method"] == "DELETE"


def test_es_search_keywords() -> None:
    assert es_search_kwargs({"from": 1, "_source": ["id"], "query": {}, "size": 2}) == {
        "from_": 1, "source": ["id"], "query": {}, "size": 2}


def test_unreachable_engine_names_url_and_fix() -> None:
    url = f"http://127.0.0.1:{_unused_port()}"
    for engine in ("opensearch", "elasticsearch"):
        with pytest.raises(StoreError, match=f"Cannot reach .* at {url} \\(info\\)") as e:
            OpenSearchIndex.from_settings(Settings(search_url=url, search_engine=engine))
        assert "services/up" in str(e.value)


def test_open_transport_follows_the_engine_setting() -> None:
    os_t = open_transport(Settings(search_url="http://127.0.0.1:9", search_engine="opensearch"))
    es_t = open_transport(Settings(search_url="http://127.0.0.1:9", search_engine="elasticsearch"))
    assert isinstance(os_t, OpenSearchTransport) and isinstance(es_t, ElasticsearchTransport)
    os_t.close()
    es_t.close()
    with pytest.raises(ConfigError, match="search_url is empty"):
        open_transport(Settings())


def test_opensearch_answers_are_read_as_json_reads_them() -> None:
    from opensearchpy.exceptions import SerializationError

    from talentgraph.search.opensearch.transport import OpenSearchTransport

    t = OpenSearchTransport(f"http://127.0.0.1:{_unused_port()}", timeout=1)
    try:
        serializer = t.client.transport.deserializer.serializers["application/json"]
        # Every number an engine writes (64-bit longs, unsigned too), any script; NaN only json takes.
        answer = ('{"items":[{"index":{"_id":"per:1","status":201}}],"name":"张伟 Наталья",'
                  '"long":-9223372036854775808,"unsigned":18446744073709551615,"score":NaN}')
        expected = json.dumps(json.loads(answer))  # compared as text: NaN equals no NaN
        assert json.dumps(serializer.loads(answer)) == expected
        assert json.dumps(serializer.loads(answer.encode())) == expected
        with pytest.raises(SerializationError):
            serializer.loads('{"items": [')
    finally:
        t.close()
