"""OpenSearch / Elasticsearch 8 adapter of the ``SearchIndex`` port.

Layout on the engine, for the alias ``A`` (setting ``search_index``)::

    A-v3-20250101120000123   the live index (settings + mapping from dsl.index_body); alias A on it
    A-meta                   one small document per versioned index: {"cursor": <change-log seq>}

Searches and incremental writes go through the alias. ``rebuild`` creates ``A-v<N+1>-<time>``,
bulk-loads and refreshes it, writes its cursor document, then moves the alias in one ``_aliases``
request (remove old + add new) and deletes the old index: searches never see an empty or half-built
index, and the cursor, being keyed by the concrete index, moves with the alias. The mapping records
the fields it was built with (``_meta``), so an index built for an older ontology is served as it is
(clauses on fields it lacks match nothing) and refuses writes until it is rebuilt, as in Tantivy.
"""

from __future__ import annotations

import calendar
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from talentgraph.config import Settings
from talentgraph.errors import ConfigError, StoreError
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.search.base import BaseSearchIndex, SearchRequest, fields_signature, kinds_of
from talentgraph.search.mapping import FieldKind
from talentgraph.search.opensearch import bulk, dsl
from talentgraph.search.opensearch.capabilities import capabilities_for
from talentgraph.search.opensearch.transport import EngineError, Transport, open_transport
from talentgraph.search.port import EncodedDoc, RawResult, SearchCapabilities, SearchDoc

log = logging.getLogger(__name__)

META_SUFFIX = "-meta"
# An index of ours that no alias points at is left over from a crashed rebuild, unless it is young
# enough to be another process's rebuild in progress.
STRAY_AGE_SECONDS = 3600
_ALIAS = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,199}$")


@dataclass(frozen=True)
class _Live:
    """The index the alias points at, and the mapping it was built with."""

    name: str
    kinds: dict[str, FieldKind]
    stale: bool
    compiler: dsl.Compiler


def index_name(alias: str, version: int, now: float | None = None) -> str:
    now = time.time() if now is None else now
    return f"{alias}-v{version}-{time.strftime('%Y%m%d%H%M%S', time.gmtime(now))}{int(now * 1000) % 1000:03d}"


def parse_index_name(alias: str, name: str) -> tuple[int, float] | None:
    """(version, creation time) of one of ``alias``'s versioned indices; None for any other name."""
    m = re.match(rf"^{re.escape(alias)}-v(\d+)-(\d{{14}})(\d{{3}})$", name)
    if m is None:
        return None
    created = calendar.timegm(time.strptime(m.group(2), "%Y%m%d%H%M%S")) + int(m.group(3)) / 1000
    return int(m.group(1)), created


def check_alias(alias: str) -> str:
    if not _ALIAS.match(alias) or alias in (".", ".."):
        raise ConfigError(
            f"search_index is {alias!r}, which cannot name an OpenSearch/Elasticsearch alias.",
            hint="Use lowercase letters, digits, '-', '_' or '.', starting with a letter or digit "
            "(TALENTGRAPH_SEARCH_INDEX).",
        )
    return alias


class OpenSearchIndex(BaseSearchIndex):
    """``SearchIndex`` on an OpenSearch 2.x or Elasticsearch 8 server, through a ``Transport``."""

    capabilities: SearchCapabilities

    def __init__(
        self,
        transport: Transport,
        alias: str = "talentgraph",
        ontology: Ontology = ONTOLOGY,
        *,
        retry: bulk.RetryPolicy = bulk.RetryPolicy(),
    ) -> None:
        super().__init__(ontology)
        self.transport = transport
        self.alias = check_alias(alias)
        self.meta_index = alias + META_SUFFIX
        self.retry = retry
        self._signature = fields_signature(self.fields)
        self._encode = dsl.SourceEncoder(self.fields)
        self._lock = threading.RLock()
        self._rebuild_lock = threading.Lock()
        self._pending_cursor: int | None = None
        info = transport.info()
        self.version = str(info.get("version", {}).get("number", ""))
        distribution = info.get("version", {}).get("distribution", "elasticsearch")
        if distribution != transport.engine:
            raise ConfigError(
                f"The server at {transport.url} is {distribution} {self.version}, but search_engine is "
                f"{transport.engine!r}.",
                hint=f"Set TALENTGRAPH_SEARCH_ENGINE={distribution}.",
            )
        self.capabilities = capabilities_for(transport.engine, self.version)
        self._live = self._ensure()

    @classmethod
    def from_settings(cls, settings: Settings, ontology: Ontology = ONTOLOGY) -> "OpenSearchIndex":
        transport = open_transport(settings)
        try:
            return cls(transport, settings.search_index, ontology)
        except BaseException:
            transport.close()
            raise

    # --- the live index -------------------------------------------------------------------------

    def _ensure(self) -> _Live:
        """The live index; on first use, creates v1 with the alias and the cursor index."""
        self._create_meta_index()
        live = self._resolve()
        if live is not None:
            return live
        name = index_name(self.alias, 1)
        body = dsl.index_body(self.fields, {"alias": self.alias, "version": 1})
        body["aliases"] = {self.alias: {}}
        self.transport.create_index(name, body)
        log.info("search index %s created with alias %s", name, self.alias)
        live = self._resolve()
        if live is None:
            raise StoreError(f"Created {name!r} with alias {self.alias!r} at {self.transport.url}, but the alias "
                             "does not resolve.", hint="Check the engine's logs; then retry.")
        return live

    def _create_meta_index(self) -> None:
        if self.transport.aliases(self.meta_index):
            return
        try:
            self.transport.create_index(self.meta_index, {
                "settings": {"index": {"number_of_shards": 1}},
                "mappings": {"dynamic": False, "properties": {"cursor": {"type": "long"}}},
            })
        except EngineError as exc:
            if exc.kind != "resource_already_exists_exception":  # another process was first
                raise

    def _resolve(self) -> _Live | None:
        try:
            mappings = self.transport.get_mapping(self.alias)
        except EngineError as exc:
            if exc.kind == "index_not_found_exception":
                return None
            raise
        if self.alias in mappings:
            raise StoreError(
                f"{self.alias!r} at {self.transport.url} is an index, not an alias, so it cannot be rebuilt "
                "and swapped.",
                hint=f"Delete that index (it is derived from the graph) or set TALENTGRAPH_SEARCH_INDEX to another name.",
            )
        if len(mappings) > 1:
            mappings = self._settle(list(mappings), mappings)
        ((name, mapping),) = mappings.items()
        signature = (mapping.get("_meta") or {}).get(dsl.META_KEY, {}).get("fields")
        kinds = kinds_of(signature) if signature else {}
        stale = signature != self._signature
        # A stale index is queried with the fields it has; the rest match nothing until a rebuild.
        compiler = dsl.Compiler(kinds, unknown="empty") if stale else dsl.Compiler(self._kinds)
        return _Live(name, kinds if stale else dict(self._kinds), stale, compiler)

    def _settle(self, names: list[str], mappings: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Several indices hold the alias (two processes created a first index at once): every
        process keeps the same one — the highest version, the earliest made — so they converge
        without talking to each other."""

        def rank(name: str) -> tuple[int, float, str]:
            version, created = parse_index_name(self.alias, name) or (-1, float("inf"))
            return (-version, created, name)

        keep, *drop = sorted(names, key=rank)
        try:
            self.transport.update_aliases([{"remove": {"index": n, "alias": self.alias}} for n in drop])
        except EngineError as exc:
            log.info("alias %s already settled by another process: %s", self.alias, exc)
        for n in drop:
            self._drop_index(n)
        return {keep: mappings[keep]}

    def _current(self) -> _Live:
        live = self._live
        if live.stale:
            # Another process may have rebuilt it for this mapping meanwhile.
            with self._lock:
                self._live = live = self._resolve() or self._ensure()
        return live

    def _where(self) -> str:
        return f"{self.alias!r} at {self.transport.url}"

    def _stale(self) -> str | None:
        live = self._current()
        return f"{live.name!r} at {self.transport.url}" if live.stale else None

    # --- writes ---------------------------------------------------------------------------------

    def _encoder(self) -> dsl.SourceEncoder:
        return self._encode

    def _index(self, docs: Iterable[SearchDoc | EncodedDoc], new: bool) -> int:
        # An ``index`` action replaces by _id whether or not the document is there: ``new`` changes nothing here.
        actions = (bulk.Action("index", d.id, dsl.source_of(d)) for d in self._checked(docs, self._encode.form))
        return bulk.write(self.transport, self.alias, actions, policy=self.retry, require_alias=True).indexed

    def _discard_uncommitted(self) -> None:
        pass  # a bulk write is kept once acknowledged; a later ``index`` of the same _id replaces it

    def _delete(self, ids: list[str]) -> int:
        actions = (bulk.Action("delete", i) for i in ids)
        return bulk.write(self.transport, self.alias, actions, policy=self.retry).deleted

    def _commit(self) -> None:
        live = self._current()
        self.transport.refresh(self.alias)
        with self._lock:
            pending = self._pending_cursor
            # The cursor is written only after the documents it covers are searchable.
            if pending is not None:
                self._put_cursor(live.name, pending)
                if self._pending_cursor == pending:
                    self._pending_cursor = None

    def _get_cursor(self) -> int:
        pending = self._pending_cursor
        if pending is not None:
            return pending
        doc = self.transport.get_doc(self.meta_index, self._current().name)
        value = (doc or {}).get("cursor", 0)
        if not isinstance(value, int) or value < 0:
            raise StoreError(f"The cursor document {self.meta_index}/{self._live.name} holds {value!r}.",
                             hint="Rebuild the search index.")
        return value

    def _set_cursor(self, seq: int) -> None:
        self._pending_cursor = seq

    def _put_cursor(self, name: str, seq: int) -> None:
        self.transport.put_doc(self.meta_index, name, {"cursor": seq, "index": name, "alias": self.alias,
                                                       "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    # --- reads ----------------------------------------------------------------------------------

    def _count(self) -> int:
        return self.transport.count(self.alias)

    def _search(self, req: SearchRequest) -> RawResult:
        live = self._current()
        compiled = dsl.combine(live.compiler(req.query), live.compiler(req.filters) if req.filters is not None else None)
        counted = [f for f in req.facets if f in live.kinds]
        body = dsl.search_body(compiled, facets=counted, limit=req.limit, offset=req.offset,
                               facet_size=req.facet_size, ranked=req.ranked)
        return dsl.read_result(self.transport.search(self.alias, body), counted, ranked=req.ranked)

    # --- rebuild --------------------------------------------------------------------------------

    def _rebuild_encoder(self) -> dsl.SourceEncoder:
        return self._encode  # a new index gets this adapter's mapping, which is what it encodes for

    def _rebuild(self, docs: Iterable[SearchDoc | EncodedDoc], cursor: int) -> int:
        with self._rebuild_lock:
            ours = self._versioned()
            live = list(self.transport.aliases(self.alias))  # whatever holds the alias, named by us or not
            self._remove_strays(ours)
            version = max((v for v, _t, _a in ours.values()), default=0) + 1
            name = index_name(self.alias, version)
            self.transport.create_index(name, dsl.index_body(self.fields, {"alias": self.alias, "version": version}))
            try:
                actions = (bulk.Action("index", d.id, dsl.source_of(d)) for d in self._checked(docs, self._encode.form))
                report = bulk.write(self.transport, name, actions, policy=self.retry)
                self.transport.refresh(name)
                self._put_cursor(name, cursor)
                self.transport.update_aliases(
                    [{"remove": {"index": old, "alias": self.alias}} for old in live]
                    + [{"add": {"index": name, "alias": self.alias}}]
                )
            except BaseException:
                self._drop_index(name)
                raise
            with self._lock:
                self._live = self._resolve() or self._ensure()
                # Writes not yet committed went to the old index and are older than ``cursor``:
                # the next sync replays them.
                self._pending_cursor = None
            for old in live:
                self._drop_index(old)
            log.info("search index rebuilt: %d documents in %s (cursor %d)", report.indexed, name, cursor)
            return report.indexed

    def _versioned(self) -> dict[str, tuple[int, float, list[str]]]:
        """Our versioned indices: name → (version, creation time, aliases)."""
        out: dict[str, tuple[int, float, list[str]]] = {}
        for name, aliases in self.transport.aliases(f"{self.alias}-v*").items():
            parsed = parse_index_name(self.alias, name)
            if parsed is not None:
                out[name] = (parsed[0], parsed[1], aliases)
        return out

    def _remove_strays(self, ours: dict[str, tuple[int, float, list[str]]]) -> None:
        now = time.time()
        for name, (_v, created, aliases) in ours.items():
            if self.alias not in aliases and now - created > STRAY_AGE_SECONDS:
                log.info("removing %s, left over from an interrupted rebuild", name)
                self._drop_index(name)

    def _drop_index(self, name: str) -> None:
        """Best effort: a leftover index costs disk, not correctness, and is removed by a later rebuild."""
        try:
            self.transport.delete_index(name)
            self.transport.delete_doc(self.meta_index, name)
        except StoreError:
            log.warning("could not delete search index %s", name, exc_info=True)

    # --- housekeeping ---------------------------------------------------------------------------

    def drop(self) -> None:
        """Delete every index this alias owns (versions and cursors). The next use starts from v1."""
        for name in self._versioned():
            self.transport.delete_index(name)
        self.transport.delete_index(self.meta_index)

    def health(self) -> dict[str, Any]:
        """Cluster status and the live index, for /health and the CLI."""
        h = self.transport.health()
        return {"engine": self.capabilities.name, "version": self.version, "url": self.transport.url,
                "cluster_status": h.get("status"), "alias": self.alias, "index": self._live.name,
                "stale": self._live.stale}

    def _close(self) -> None:
        self.transport.close()


__all__ = ["OpenSearchIndex", "check_alias", "index_name", "parse_index_name"]
