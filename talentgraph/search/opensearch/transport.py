"""The few HTTP calls the adapter makes, behind one small interface with one implementation per client.

Why two clients: the Elasticsearch 8 client refuses servers that are not Elasticsearch (product
check), and OpenSearch's client is the one maintained against OpenSearch; Elasticsearch 9 clients
refuse Elasticsearch 8 servers, hence ``elasticsearch>=8,<9``. The clients also differ in how a call
is spelled — opensearch-py takes ``body=``, Elasticsearch 8 takes the body's keys as keyword
arguments (``operations=``, ``document=``, ``query=``, ``from_=``) — and in their exception types.
Those differences live here only: the adapter sends and receives plain dicts, and every client error
leaves this module as a ``StoreError`` naming the engine, URL and index.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from talentgraph.config import Settings
from talentgraph.errors import ConfigError, StoreError

Body = dict[str, Any]
DEFAULT_TIMEOUT = 30.0


class EngineError(StoreError):
    """The engine answered a request with an error status."""

    def __init__(self, message: str, *, status: int | None, kind: str, reason: str, hint: str | None = None) -> None:
        self.status = status
        self.kind = kind
        self.reason = reason
        super().__init__(message, hint=hint)

    @property
    def retryable(self) -> bool:
        # 429: queue full or a disk-watermark block; 5xx: a node or shard hiccup.
        return self.status is not None and (self.status == 429 or self.status >= 500)


class EngineUnavailable(StoreError):
    """The engine could not be reached at all (refused, timed out, DNS)."""

    retryable = True


class Transport(Protocol):
    """What the adapter needs from a search engine; every method takes and returns plain data."""

    engine: str  # "opensearch" | "elasticsearch"
    url: str

    def info(self) -> Body: ...
    def health(self) -> Body: ...
    def create_index(self, name: str, body: Body) -> None: ...
    def delete_index(self, name: str) -> bool:
        """False when there was no such index."""
    def aliases(self, pattern: str) -> dict[str, list[str]]:
        """Indices matching ``pattern`` (wildcards allowed) → the aliases each holds; {} when none."""
    def update_aliases(self, actions: Sequence[Body]) -> None:
        """All ``actions`` in one ``_aliases`` request: applied atomically or not at all."""
    def get_mapping(self, index: str) -> dict[str, Body]:
        """Concrete index name → its mapping (an alias resolves to the index it points at)."""
    def bulk(self, body: bytes) -> Body:
        """Send one NDJSON bulk body (``bulk.ndjson``); the engine's answer, items in request order."""
    def search(self, index: str, body: Body) -> Body: ...
    def count(self, index: str) -> int: ...
    def refresh(self, index: str) -> None: ...
    def get_doc(self, index: str, id: str) -> Body | None:
        """The document's _source, or None when the document or the index does not exist."""
    def put_doc(self, index: str, id: str, doc: Body) -> None: ...
    def delete_doc(self, index: str, id: str) -> bool:
        """False when there was no such document (or index)."""
    def close(self) -> None: ...


def _reason_of(info: Any) -> tuple[str, str]:
    """(type, reason) from an engine error body; both empty when the body has neither."""
    if isinstance(info, Mapping):
        err = info.get("error", info)
        if isinstance(err, Mapping):
            root = err.get("root_cause") or []
            first = root[0] if root and isinstance(root[0], Mapping) else {}
            return str(err.get("type") or first.get("type") or ""), str(err.get("reason") or first.get("reason") or "")
        if isinstance(err, str):
            return err, ""
    return "", str(info or "")


class _Base:
    engine: str
    label: str

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _unavailable(self, what: str, index: str | None, exc: Exception) -> EngineUnavailable:
        where = f" on {index!r}" if index else ""
        return EngineUnavailable(
            f"Cannot reach {self.label} at {self.url} ({what}{where}): {exc}.",
            hint=f"Is {self.label} running? Start one with services/up, or set TALENTGRAPH_SEARCH_URL to a running "
            "server (empty for the embedded Tantivy index).",
        )

    def _failed(self, what: str, index: str | None, status: int | None, info: Any) -> EngineError:
        kind, reason = _reason_of(info)
        where = f" on {index!r}" if index else ""
        hint = None
        if status in (401, 403):
            hint = "Check TALENTGRAPH_SEARCH_USER and TALENTGRAPH_SEARCH_PASSWORD."
        elif kind == "index_not_found_exception":
            hint = "Rebuild the search index (it is derived from the graph and can always be recreated)."
        return EngineError(
            f"{self.label} {what}{where} at {self.url} failed with {status} {kind or 'error'}: {reason or info}.",
            status=status, kind=kind, reason=reason, hint=hint,
        )


# --- OpenSearch ---------------------------------------------------------------------------------


@functools.cache
def _fast_json() -> Any:
    """opensearch-py's JSON serializer, reading answers with orjson (a bulk answer holds an item per document,
    a search answer every hit's source and highlights; the standard library took ~4% of a sync). One for
    every client: it holds no state."""
    import json

    import orjson
    from opensearchpy.exceptions import SerializationError
    from opensearchpy.serializer import JSONSerializer

    class FastJSON(JSONSerializer):
        def loads(self, s: Any) -> Any:
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:  # what orjson does not take (NaN, Infinity), json may
                try:
                    return json.loads(s)
                except (ValueError, TypeError) as exc:
                    raise SerializationError(s, exc) from exc

    return FastJSON()


class OpenSearchTransport(_Base):
    engine = "opensearch"
    label = "OpenSearch"

    def __init__(self, url: str, *, user: str = "", password: str = "", timeout: float = DEFAULT_TIMEOUT,
                 **client_options: Any) -> None:
        from opensearchpy import OpenSearch

        super().__init__(url)
        options: dict[str, Any] = {"timeout": timeout, "serializer": _fast_json(), **client_options}
        if user:
            options["http_auth"] = (user, password)
        self.client = OpenSearch(hosts=[self.url], **options)

    @contextmanager
    def _errors(self, what: str, index: str | None = None) -> Iterator[None]:
        from opensearchpy import exceptions as ex

        try:
            yield
        except ex.ConnectionError as exc:  # includes timeouts
            raise self._unavailable(what, index, exc) from exc
        except ex.TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else None
            raise self._failed(what, index, status, exc.info or exc.error) from exc
        except ex.OpenSearchException as exc:
            raise StoreError(f"OpenSearch client error during {what} at {self.url}: {exc}.") from exc

    def info(self) -> Body:
        with self._errors("info"):
            return dict(self.client.info())

    def health(self) -> Body:
        with self._errors("cluster health"):
            return dict(self.client.cluster.health())

    def create_index(self, name: str, body: Body) -> None:
        with self._errors("create index", name):
            self.client.indices.create(index=name, body=body)

    def delete_index(self, name: str) -> bool:
        from opensearchpy import NotFoundError

        with self._errors("delete index", name):
            try:
                self.client.indices.delete(index=name)
            except NotFoundError:
                return False
        return True

    def aliases(self, pattern: str) -> dict[str, list[str]]:
        from opensearchpy import NotFoundError

        with self._errors("get aliases", pattern):
            try:
                raw = self.client.indices.get_alias(index=pattern)
            except NotFoundError:
                return {}
        return {name: sorted((v or {}).get("aliases", {})) for name, v in raw.items()}

    def update_aliases(self, actions: Sequence[Body]) -> None:
        with self._errors("update aliases"):
            self.client.indices.update_aliases(body={"actions": list(actions)})

    def get_mapping(self, index: str) -> dict[str, Body]:
        with self._errors("get mapping", index):
            raw = self.client.indices.get_mapping(index=index)
        return {name: dict(v.get("mappings", {})) for name, v in raw.items()}

    def bulk(self, body: bytes) -> Body:
        with self._errors("bulk"):
            return dict(self.client.bulk(body=body))

    def search(self, index: str, body: Body) -> Body:
        with self._errors("search", index):
            return dict(self.client.search(index=index, body=body))

    def count(self, index: str) -> int:
        with self._errors("count", index):
            return int(self.client.count(index=index)["count"])

    def refresh(self, index: str) -> None:
        with self._errors("refresh", index):
            self.client.indices.refresh(index=index)

    def get_doc(self, index: str, id: str) -> Body | None:
        from opensearchpy import NotFoundError

        with self._errors("get document", index):
            try:
                raw = self.client.get(index=index, id=id)
            except NotFoundError:
                return None
        return dict(raw["_source"]) if raw.get("found") else None

    def put_doc(self, index: str, id: str, doc: Body) -> None:
        with self._errors("put document", index):
            self.client.index(index=index, id=id, body=doc)

    def delete_doc(self, index: str, id: str) -> bool:
        from opensearchpy import NotFoundError

        with self._errors("delete document", index):
            try:
                self.client.delete(index=index, id=id)
            except NotFoundError:
                return False
        return True

    def close(self) -> None:
        self.client.close()


# --- Elasticsearch 8 ----------------------------------------------------------------------------

# Search body keys whose Elasticsearch 8 keyword argument is spelled differently (Python keywords
# and leading underscores).
_ES_SEARCH_ARGS = {"from": "from_", "_source": "source"}


def es_search_kwargs(body: Mapping[str, Any]) -> dict[str, Any]:
    return {_ES_SEARCH_ARGS.get(k, k): v for k, v in body.items()}


class ElasticsearchTransport(_Base):
    engine = "elasticsearch"
    label = "Elasticsearch"

    def __init__(self, url: str, *, user: str = "", password: str = "", timeout: float = DEFAULT_TIMEOUT,
                 **client_options: Any) -> None:
        from elasticsearch import Elasticsearch

        super().__init__(url)
        options: dict[str, Any] = {"request_timeout": timeout, **client_options}
        if user:
            options["basic_auth"] = (user, password)
        self.client = Elasticsearch(self.url, **options)

    @contextmanager
    def _errors(self, what: str, index: str | None = None) -> Iterator[None]:
        import elastic_transport
        from elasticsearch import ApiError, UnsupportedProductError

        try:
            yield
        except UnsupportedProductError as exc:
            raise ConfigError(
                f"The server at {self.url} is not Elasticsearch ({exc.message}).",
                hint="For OpenSearch set TALENTGRAPH_SEARCH_ENGINE=opensearch; the Elasticsearch 8 client "
                "only talks to Elasticsearch 8.",
            ) from exc
        except ApiError as exc:
            raise self._failed(what, index, exc.meta.status, exc.body or exc.message) from exc
        except elastic_transport.ConnectionError as exc:  # includes timeouts
            raise self._unavailable(what, index, exc) from exc
        except elastic_transport.TransportError as exc:
            raise StoreError(f"Elasticsearch client error during {what} at {self.url}: {exc}.") from exc

    def _call(self, fn: Callable[..., Any], **kwargs: Any) -> Body:
        return dict(fn(**kwargs).body)

    def info(self) -> Body:
        with self._errors("info"):
            return self._call(self.client.info)

    def health(self) -> Body:
        with self._errors("cluster health"):
            return self._call(self.client.cluster.health)

    def create_index(self, name: str, body: Body) -> None:
        with self._errors("create index", name):
            self.client.indices.create(index=name, **body)

    def delete_index(self, name: str) -> bool:
        with self._errors("delete index", name):
            resp = self.client.options(ignore_status=404).indices.delete(index=name)
        return resp.meta.status != 404

    def aliases(self, pattern: str) -> dict[str, list[str]]:
        with self._errors("get aliases", pattern):
            resp = self.client.options(ignore_status=404).indices.get_alias(index=pattern)
        if resp.meta.status == 404:
            return {}
        return {name: sorted((v or {}).get("aliases", {})) for name, v in resp.body.items()}

    def update_aliases(self, actions: Sequence[Body]) -> None:
        with self._errors("update aliases"):
            self.client.indices.update_aliases(actions=list(actions))

    def get_mapping(self, index: str) -> dict[str, Body]:
        with self._errors("get mapping", index):
            raw = self._call(self.client.indices.get_mapping, index=index)
        return {name: dict(v.get("mappings", {})) for name, v in raw.items()}

    def bulk(self, body: bytes) -> Body:
        with self._errors("bulk"):
            return self._call(self.client.bulk, operations=body)

    def search(self, index: str, body: Body) -> Body:
        with self._errors("search", index):
            return self._call(self.client.search, index=index, **es_search_kwargs(body))

    def count(self, index: str) -> int:
        with self._errors("count", index):
            return int(self._call(self.client.count, index=index)["count"])

    def refresh(self, index: str) -> None:
        with self._errors("refresh", index):
            self.client.indices.refresh(index=index)

    def get_doc(self, index: str, id: str) -> Body | None:
        with self._errors("get document", index):
            resp = self.client.options(ignore_status=404).get(index=index, id=id)
        body = resp.body
        return dict(body["_source"]) if resp.meta.status != 404 and body.get("found") else None

    def put_doc(self, index: str, id: str, doc: Body) -> None:
        with self._errors("put document", index):
            self.client.index(index=index, id=id, document=doc)

    def delete_doc(self, index: str, id: str) -> bool:
        with self._errors("delete document", index):
            resp = self.client.options(ignore_status=404).delete(index=index, id=id)
        return resp.meta.status != 404

    def close(self) -> None:
        self.client.close()


TRANSPORTS: dict[str, type[OpenSearchTransport] | type[ElasticsearchTransport]] = {
    "opensearch": OpenSearchTransport,
    "elasticsearch": ElasticsearchTransport,
}


def open_transport(settings: Settings, **client_options: Any) -> Transport:
    """The transport for ``settings.search_url`` and ``search_engine`` (no request is made yet)."""
    if not settings.search_url:
        raise ConfigError("search_url is empty, so there is no search engine to connect to.",
                          hint="Set TALENTGRAPH_SEARCH_URL=http://host:9200, or use the embedded Tantivy index.")
    cls = TRANSPORTS.get(settings.search_engine)
    if cls is None:
        raise ConfigError(f"search_engine is {settings.search_engine!r}.",
                          hint=f"Use one of: {', '.join(TRANSPORTS)}.")
    return cls(settings.search_url, user=settings.search_user, password=settings.search_password, **client_options)


__all__ = [
    "ElasticsearchTransport",
    "EngineError",
    "EngineUnavailable",
    "OpenSearchTransport",
    "TRANSPORTS",
    "Transport",
    "es_search_kwargs",
    "open_transport",
]
