"""Settings, declared once: name, type, default, help. Read from flags or ``TALENTGRAPH_*`` env vars.

The CLI builds its options from ``SETTINGS`` and the README's configuration table is checked
against it by a test, so a setting cannot exist undocumented.
"""

from __future__ import annotations

import datetime as dt
import functools

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from talentgraph.errors import ConfigError


@functools.cache  # read once: every Settings() and the store's default ask for it
def auto_graph_memory_mb() -> int:
    """The embedded graph's default page cache: a quarter of the memory this process may use, 1 to 16 GiB.

    LadybugDB's own default (80%) would starve the search index and the ingest workers beside it; a fixed
    1 GiB was too small at a million residents, where two lookups in a row (LIVES_IN, then MEMBER_OF:
    each planned as a hash join over the whole relationship table) need ~1.5 GiB and the second failed
    with "the buffer pool is full". Pages are taken as they are read, so a small graph uses little."""
    total = 0
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    try:  # a container's limit (cgroup v2), when it is lower than the machine's memory
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit() and (total == 0 or int(limit) < total):
            total = int(limit)
    except OSError:
        pass
    return max(1024, min(16 * 1024, total // 4 // (1024 * 1024)))


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "TALENTGRAPH_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", Path, Path("./talentgraph-data"),
            "Directory for the embedded graph (LadybugDB), search index (Tantivy), quarantine files and logs."),
    Setting("graph_url", str, "",
            "Graph backend. Empty: embedded LadybugDB in the data dir. bolt://host:7687 or neo4j://…: Neo4j."),
    Setting("graph_user", str, "neo4j", "Neo4j user name."),
    Setting("graph_password", str, "", "Neo4j password."),
    Setting("graph_database", str, "neo4j", "Neo4j database name."),
    Setting("graph_memory_mb", int, auto_graph_memory_mb(),
            "Page cache of the embedded graph (LadybugDB buffer pool) in MiB; by default a quarter of the memory, "
            "1 to 16 GiB (LadybugDB's own default would take 4/5 of it)."),
    Setting("search_url", str, "",
            "Search backend. Empty: embedded Tantivy in the data dir. http(s)://host:9200: OpenSearch or Elasticsearch."),
    Setting("search_engine", str, "opensearch", "Engine at search_url: opensearch or elasticsearch."),
    Setting("search_user", str, "", "Search engine user name (basic auth)."),
    Setting("search_password", str, "", "Search engine password (basic auth)."),
    Setting("search_index", str, "talentgraph", "Index alias name on OpenSearch/Elasticsearch."),
    Setting("id_hash_key", str, "",
            "Secret key for hashing identity-document numbers. Empty: a random key is created in the data dir."),
    Setting("host", str, "127.0.0.1", "Address the server listens on."),
    Setting("port", int, 8000, "Port the server listens on."),
    Setting("max_page_size", int, 100, "Largest `first` a GraphQL connection or search accepts."),
    Setting("log_level", str, "info", "Logging level: debug, info, warning, error."),
    Setting("allowed_hosts", str, "",
            "Host names the server answers to, comma-separated ('*': any). Empty: localhost, 127.0.0.1, ::1 and host."),
    Setting("ingest_roots", str, "",
            "Directories (os.pathsep-separated) that jobs and sources sent to a running server must lie in. "
            "Empty: the data dir and the bundled demo jobs."),
    Setting("trusted_proxies", str, "",
            "Proxy addresses whose X-Forwarded-For is believed (comma-separated). Empty: none."),
    Setting("jwt_jwks", str, "", "JWKS of the identity provider for JWT bearer tokens: a file path or an https URL. "
            "Empty: no JWTs."),
    Setting("jwt_issuer", str, "", "Expected `iss` of JWTs."),
    Setting("jwt_audience", str, "", "Expected `aud` of JWTs (this service's client id)."),
    Setting("jwt_role_claim", str, "role", "Claim holding the role (dotted path or JSON pointer, Hasura-style)."),
    Setting("jwt_areas_claim", str, "areas", "Claim holding a staff token's area ids (list or comma-separated)."),
    Setting("jwt_name_claim", str, "sub", "Claim naming the caller in the audit log."),
    Setting("audit_max_bytes", int, 64 * 1024 * 1024, "Size at which the audit log rotates to a new file."),
    Setting("request_deadline", float, 10.0, "Seconds after which a GraphQL request is stopped (HTTP 504)."),
    Setting("max_body_bytes", int, 1024 * 1024,
            "Largest GraphQL request body accepted (HTTP 413 beyond), and request line with headers (431)."),
    Setting("max_query_cost", int, 50_000,
            "Cost budget of one GraphQL document: the product of page sizes along each path, summed."),
    Setting("feed_retention_days", float, 30.0,
            "Days the change feed keeps tombstones (deletions); a consumer's cursor older than this must resync."),
    Setting("feed_max_wait", float, 30.0, "Longest a long pull on /feed waits for new changes, in seconds."),
    Setting("notify_endpoints", str, "",
            "URL prefixes NGSI-LD subscriptions may send notifications to (comma-separated). Empty: loopback only."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./talentgraph-data")
    graph_url: str = ""
    graph_user: str = "neo4j"
    graph_password: str = ""
    graph_database: str = "neo4j"
    graph_memory_mb: int = field(default_factory=auto_graph_memory_mb)
    search_url: str = ""
    search_engine: str = "opensearch"
    search_user: str = ""
    search_password: str = ""
    search_index: str = "talentgraph"
    id_hash_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    max_page_size: int = 100
    log_level: str = "info"
    allowed_hosts: str = ""
    ingest_roots: str = ""
    trusted_proxies: str = ""
    jwt_jwks: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_role_claim: str = "role"
    jwt_areas_claim: str = "areas"
    jwt_name_claim: str = "sub"
    audit_max_bytes: int = 64 * 1024 * 1024
    request_deadline: float = 10.0
    max_body_bytes: int = 1024 * 1024
    max_query_cost: int = 50_000
    feed_retention_days: float = 30.0
    feed_max_wait: float = 30.0
    notify_endpoints: str = ""

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> "Settings":
        """Defaults < environment < explicit overrides (CLI flags); values cast and checked."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for s in SETTINGS:
            raw: Any = s.default
            if s.env in env:
                raw = env[s.env]
            if overrides and overrides.get(s.name) is not None:
                raw = overrides[s.name]
            values[s.name] = _cast(s, raw)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.search_engine not in ("opensearch", "elasticsearch"):
            raise ConfigError(
                f"search_engine is {self.search_engine!r}.",
                hint="Set TALENTGRAPH_SEARCH_ENGINE to 'opensearch' or 'elasticsearch'.",
            )
        if self.graph_url and not self.graph_url.startswith(("bolt://", "bolt+s://", "neo4j://", "neo4j+s://")):
            raise ConfigError(
                f"graph_url is {self.graph_url!r}.",
                hint="Use bolt://host:7687 or neo4j://host:7687, or leave it empty for the embedded LadybugDB.",
            )
        if self.search_url and not self.search_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"search_url is {self.search_url!r}.",
                hint="Use http(s)://host:9200, or leave it empty for the embedded Tantivy index.",
            )
        if not 0.1 <= self.request_deadline <= 600:
            raise ConfigError(f"request_deadline is {self.request_deadline}.", hint="Use 0.1 to 600 seconds.")
        if self.max_body_bytes < 1024 or self.max_query_cost < 1:
            raise ConfigError("max_body_bytes must be at least 1024 and max_query_cost at least 1.")
        if not 64 <= self.graph_memory_mb <= 1024 * 1024:
            raise ConfigError(f"graph_memory_mb is {self.graph_memory_mb}.", hint="Use 64 MiB or more.")
        if not 1 / 24 <= self.feed_retention_days <= 3650:
            raise ConfigError(f"feed_retention_days is {self.feed_retention_days}.",
                              hint="Use one hour (0.0417) to 3650 days.")
        if not 0 <= self.feed_max_wait <= 300:
            raise ConfigError(f"feed_max_wait is {self.feed_max_wait}.", hint="Use 0 to 300 seconds.")
        if not 1 <= self.max_page_size <= 10_000:
            raise ConfigError(f"max_page_size is {self.max_page_size}.", hint="Use a value from 1 to 10000.")

    @property
    def notify_prefixes(self) -> list[str]:
        return [p.strip() for p in self.notify_endpoints.split(",") if p.strip()]

    @property
    def feed_retention(self) -> "dt.timedelta":
        return dt.timedelta(days=self.feed_retention_days)

    @property
    def embedded_graph(self) -> bool:
        return not self.graph_url

    @property
    def embedded_search(self) -> bool:
        return not self.search_url


def _cast(s: Setting, raw: Any) -> Any:
    if isinstance(raw, s.type):
        return raw
    try:
        if s.type is bool:
            return str(raw).lower() in ("1", "true", "yes", "on")
        return s.type(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"Setting {s.name} ({s.env}) is {raw!r}.", hint=f"Expected a value of type {s.type.__name__}."
        ) from exc


assert {f.name for f in fields(Settings)} == set(_BY_NAME), "Settings and SETTINGS must declare the same names"
