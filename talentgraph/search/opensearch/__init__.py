"""OpenSearch / Elasticsearch 8 adapter of the ``SearchIndex`` port.

``dsl`` builds plain request bodies (pure functions), ``transport`` sends them with opensearch-py or
the Elasticsearch 8 client, ``bulk`` writes with per-item retries, ``index`` is the adapter.
"""

from talentgraph.search.opensearch.index import OpenSearchIndex
from talentgraph.search.opensearch.transport import (
    ElasticsearchTransport,
    EngineError,
    EngineUnavailable,
    OpenSearchTransport,
    Transport,
    open_transport,
)

__all__ = [
    "ElasticsearchTransport",
    "EngineError",
    "EngineUnavailable",
    "OpenSearchIndex",
    "OpenSearchTransport",
    "Transport",
    "open_transport",
]
