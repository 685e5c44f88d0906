"""What each engine offers, decided once from its name and version instead of ``if engine == …`` in the adapter.

OpenSearch forked from Elasticsearch 7.10: it has point-in-time search since 2.4 (under
``/_search/point_in_time``) and never gained ``combined_fields`` (Elasticsearch 7.13+). Elasticsearch
has point in time (``/_pit``) since 7.10.
"""

from __future__ import annotations

import re

from talentgraph.errors import ConfigError
from talentgraph.search.opensearch.dsl import MAX_RESULT_WINDOW
from talentgraph.search.port import SearchCapabilities

ENGINES = ("opensearch", "elasticsearch")

# (point in time since, combined_fields since); None: never.
_SINCE: dict[str, tuple[tuple[int, int] | None, tuple[int, int] | None]] = {
    "opensearch": ((2, 4), None),
    "elasticsearch": ((7, 10), (7, 13)),
}


def parse_version(number: str) -> tuple[int, int]:
    """"2.19.1" → (2, 19); "8.15.0-SNAPSHOT" → (8, 15)."""
    m = re.match(r"^(\d+)\.(\d+)", number or "")
    if m is None:
        raise ConfigError(f"Search engine version {number!r} is not a version number.",
                          hint="Point TALENTGRAPH_SEARCH_URL at an OpenSearch 2.x or Elasticsearch 8.x server.")
    return int(m.group(1)), int(m.group(2))


def capabilities_for(engine: str, version: str) -> SearchCapabilities:
    if engine not in _SINCE:
        raise ConfigError(f"search_engine is {engine!r}.", hint=f"Use one of: {', '.join(ENGINES)}.")
    v = parse_version(version)
    pit, combined = _SINCE[engine]
    return SearchCapabilities(
        name=engine,
        point_in_time=pit is not None and v >= pit,
        combined_fields=combined is not None and v >= combined,
        max_result_window=MAX_RESULT_WINDOW,
    )


__all__ = ["ENGINES", "capabilities_for", "parse_version"]
