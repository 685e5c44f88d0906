"""The raw baselines every talentgraph number is divided by, measured in the same run.

- ``copy_baseline``: the rows the ingest wrote, read back as typed Arrow tables and loaded with LadybugDB
  ``COPY FROM`` into a fresh database (no parsing, validation, hashing, change log or search);
- ``neo4j_merge_baseline``: the same rows through the bare Neo4j driver, hand-written ``UNWIND … MERGE``;
- ``bulk_baseline``: the same search documents through bare OpenSearch ``_bulk`` into a fresh index;
- ``RawGraph``: hand-written Cypher straight on the engine (a read-only LadybugDB handle in this process,
  or the bare Neo4j driver), beside the running server;
- ``BareSearch``: the query the search service compiles, run straight on the index (Tantivy's searcher,
  or the DSL body through the bare OpenSearch client).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from talentgraph.config import Settings
from talentgraph.schema.ontology import ONTOLOGY

Rows = list[dict[str, Any]]


# --- hand-written Cypher on the bare engine ---------------------------------------------------------


class RawGraph:
    """Read-only Cypher on the engine behind ``settings``, not through talentgraph's store.

    LadybugDB: the served database opened a second time, ``read_only=True``, in this process. Ladybug lets
    read-only handles in other processes open a database a read-write process holds (checked on 0.22;
    talentgraph's own single-writer lock is not taken), and the server writes nothing while the bench reads.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        if settings.embedded_graph:
            import ladybug as lb

            self._db = lb.Database(str(settings.data_dir / "graph" / "graph.lbdb"), read_only=True)
            self._conn = lb.Connection(self._db)
            self.dialect = "ladybug"
        else:
            import neo4j

            # Notifications off, as talentgraph's store has them: reading back the relationship types the demo
            # never wrote would otherwise log one warning each.
            self._driver = neo4j.GraphDatabase.driver(settings.graph_url,
                                                      auth=(settings.graph_user, settings.graph_password),
                                                      notifications_min_severity="OFF")
            self._session = self._driver.session(database=settings.graph_database)
            self.dialect = "neo4j"

    def read(self, text: str, params: Mapping[str, Any] | None = None) -> Rows:
        if self.dialect == "ladybug":
            result = self._conn.execute(text, dict(params or {}))
            assert not isinstance(result, list)  # one statement
            names = result.get_column_names()
            rows = [dict(zip(names, values)) for values in result.get_all()]
            result.close()
            return rows
        return [dict(r) for r in self._session.run(text, dict(params or {})).data()]

    def arrow(self, text: str) -> Any:
        assert self.dialect == "ladybug"
        result = self._conn.execute(text)
        assert not isinstance(result, list)
        return result.get_as_arrow(100_000)

    def close(self) -> None:
        if self.dialect == "ladybug":
            self._conn.close()
            self._db.close()
        else:
            self._session.close()
            self._driver.close()


def graph_counts(raw: RawGraph) -> dict[str, int]:
    """Nodes and relationships of the ontology's types (the change log is not counted)."""
    nodes = sum(int(raw.read(f"MATCH (n:`{t.name}`) RETURN count(n) AS c")[0]["c"]) for t in ONTOLOGY.node_types)
    rels = sum(int(raw.read(f"MATCH ()-[r:`{r.name}`]->() RETURN count(r) AS c")[0]["c"]) for r in ONTOLOGY.rel_types)
    return {"nodes": nodes, "rels": rels, "entities": nodes + rels}


# --- LadybugDB COPY ---------------------------------------------------------------------------------


def copy_baseline(settings: Settings, workdir: Path) -> dict[str, Any]:
    """COPY the very rows the ingest wrote (read back as typed Arrow tables) into a fresh LadybugDB."""
    import ladybug as lb

    from talentgraph.graph.cypher import LADYBUG
    from talentgraph.graph.ladybug.bulk import copy_from_arrow

    raw = RawGraph(settings)
    try:
        def columns(table: str) -> list[str]:
            return [r["name"] for r in sorted(raw.read(f"CALL table_info('{table}') RETURN *"),
                                              key=lambda r: r["property id"])]

        node_tables: dict[str, Any] = {}
        for t in ONTOLOGY.node_types:
            table = raw.arrow(f"MATCH (n:`{t.name}`) RETURN "
                              + ", ".join(f"n.`{c}` AS `{c}`" for c in columns(t.name)))
            if table.num_rows:
                node_tables[t.name] = table
        rel_tables: dict[tuple[str, str, str], Any] = {}
        for rel in ONTOLOGY.rel_types:
            cols = columns(rel.name)
            for f, to in rel.endpoints:
                table = raw.arrow(f"MATCH (a:`{f}`)-[r:`{rel.name}`]->(b:`{to}`) RETURN a.id AS `from`, b.id AS `to`"
                                  + "".join(f", r.`{c}` AS `{c}`" for c in cols))
                if table.num_rows:
                    rel_tables[(rel.name, f, to)] = table
    finally:
        raw.close()
    db_dir = workdir / f"copy-baseline-{os.getpid()}"
    shutil.rmtree(db_dir, ignore_errors=True)
    db_dir.mkdir(parents=True)
    db = lb.Database(str(db_dir / "db"))
    fresh = lb.Connection(db)
    try:
        for stmt in LADYBUG.schema(ONTOLOGY):
            fresh.execute(stmt)
        n_nodes = sum(t.num_rows for t in node_tables.values())
        n_rels = sum(t.num_rows for t in rel_tables.values())
        t0 = time.perf_counter()
        for name, table in node_tables.items():
            copy_from_arrow(fresh, f"`{name}`", table)
        for (rel_name, f, to), table in rel_tables.items():
            multi = len(ONTOLOGY.rel(rel_name).endpoints) > 1
            copy_from_arrow(fresh, f"`{rel_name}`", table, f"(from='{f}', to='{to}')" if multi else "")
        dt = time.perf_counter() - t0
    finally:
        fresh.close()
        db.close()
        shutil.rmtree(db_dir, ignore_errors=True)
    return {"copy_s": round(dt, 2), "copy_entities_per_s": round((n_nodes + n_rels) / dt),
            "copy_nodes": n_nodes, "copy_rels": n_rels}


# --- Neo4j UNWIND MERGE ------------------------------------------------------------------------------


def read_back_graph(raw: RawGraph) -> tuple[dict[str, Rows], dict[tuple[str, str, str], Rows]]:
    """Every node and relationship the ingest wrote, as plain property maps."""
    nodes: dict[str, Rows] = {}
    rels: dict[tuple[str, str, str], Rows] = {}
    for t in ONTOLOGY.node_types:
        rows = raw.read(f"MATCH (n:`{t.name}`) RETURN properties(n) AS p")
        if rows:
            nodes[t.name] = [dict(r["p"]) for r in rows]
    for rel in ONTOLOGY.rel_types:
        for f, to in rel.endpoints:
            rows = raw.read(f"MATCH (a:`{f}`)-[r:`{rel.name}`]->(b:`{to}`) RETURN a.id AS f, b.id AS t, properties(r) AS p")
            if rows:
                rels[(rel.name, f, to)] = [{"from": r["f"], "to": r["t"], "props": dict(r["p"])} for r in rows]
    return nodes, rels


def neo4j_merge_baseline(settings: Settings, wipe: Callable[[], None]) -> dict[str, Any]:
    """The ingested rows read back, the graph wiped, the rows written again with the bare driver:
    hand-written ``UNWIND … MERGE``, 5,000 rows a transaction. Leaves the bench's rows in Neo4j.

    A relationship is merged between its two ends, as talentgraph does: with its key in the pattern Neo4j may plan
    the MERGE as a scan of the key index per row (a slower baseline than a careful hand would write)."""
    import neo4j

    raw = RawGraph(settings)
    try:
        nodes, rels = read_back_graph(raw)
    finally:
        raw.close()
    wipe()
    s = settings
    driver = neo4j.GraphDatabase.driver(s.graph_url, auth=(s.graph_user, s.graph_password),
                                        notifications_min_severity="OFF")
    t0 = time.perf_counter()
    def write(session: Any, text: str, rows: Rows) -> None:
        for i in range(0, len(rows), 5000):
            session.execute_write(lambda tx: tx.run(text, rows=rows[i:i + 5000]).consume())

    with driver.session(database=s.graph_database) as session:
        for label, rows in nodes.items():
            write(session, f"UNWIND $rows AS r MERGE (n:`{label}` {{id: r.id}}) SET n += r", rows)
        for (rel, f, to), rows in rels.items():
            write(session, f"UNWIND $rows AS r MATCH (a:`{f}` {{id: r.from}}) MATCH (b:`{to}` {{id: r.to}}) "
                           f"MERGE (a)-[x:`{rel}`]->(b) SET x += r.props", rows)
    dt = time.perf_counter() - t0
    driver.close()
    n = sum(len(v) for v in nodes.values()) + sum(len(v) for v in rels.values())
    return {"raw_merge_s": round(dt, 2), "raw_merge_entities_per_s": round(n / dt), "raw_merge_entities": n}


# --- OpenSearch _bulk --------------------------------------------------------------------------------


def bulk_baseline(stores: Any) -> dict[str, Any]:
    """The same (already analysed) documents sent with bare ``_bulk`` requests into a fresh index."""
    from opensearchpy import OpenSearch

    from talentgraph.search.mapping import search_fields
    from talentgraph.search.opensearch import dsl

    docs = [dsl.document(d) | {"_id": d.id} for d in stores.projector.all_docs()]
    s = stores.settings
    client = OpenSearch(hosts=[s.search_url], http_auth=(s.search_user, s.search_password) if s.search_user else None,
                        timeout=120)
    name = f"bench-bare-{os.getpid()}"
    client.indices.create(index=name, body=dsl.index_body(search_fields(ONTOLOGY)))
    try:
        t0 = time.perf_counter()
        for i in range(0, len(docs), 2000):
            lines: list[Any] = []
            for d in docs[i:i + 2000]:
                doc_id = d.pop("_id")
                lines += [{"index": {"_index": name, "_id": doc_id}}, d]
            resp = client.bulk(body=lines)
            if resp["errors"]:
                raise RuntimeError("bare _bulk had item errors")
        client.indices.refresh(index=name)
        dt = time.perf_counter() - t0
    finally:
        client.indices.delete(index=name)
        client.close()
    return {"bare_bulk_s": round(dt, 2), "bare_bulk_docs_per_s": round(len(docs) / dt), "docs": len(docs)}


# --- the compiled search query, bare ---------------------------------------------------------------------


class BareSearch:
    """The query tree, filters and facets the search service compiles for a caller, sent to the engine
    without analysis at request time, labels, highlights, explanations, auth, audit, GraphQL or HTTP."""

    def __init__(self, settings: Settings, role: str) -> None:
        import asyncio

        from talentgraph.access.policy import POLICY
        from talentgraph.access.principal import Principal
        from talentgraph.access.scope import RequestAccess
        from talentgraph.schema.overlay import overlay_path
        from talentgraph.schema.vocabularies import use_overlay
        from talentgraph.search.service import SearchService
        from talentgraph.stores import open_index

        use_overlay(overlay_path(settings.data_dir))  # the vocabularies the server plans with
        self.index = open_index(settings)  # a reader beside the server's writer (Tantivy) or a client
        self.service = SearchService(self.index, ONTOLOGY, max_page_size=settings.max_page_size)
        self.settings = settings
        # The role's visibility, as the server computes it per request (no graph read for unscoped roles).
        access = RequestAccess(Principal("bench", role), POLICY.view(role), None, None)  # type: ignore[arg-type]
        self.visibility = asyncio.run(access.search_visibility())

    def prepare(self, text: str, filters: Mapping[str, Sequence[str]], facets: Sequence[str],
                first: int) -> Callable[[], Any]:
        from talentgraph.search.service import FACET_SIZE

        svc, vis, types = self.service, self.visibility, ("Person",)
        plan = svc.plan(text, types, vis)
        flt = svc.filter_query({k: list(v) for k, v in filters.items()}, types, vis)
        names = [svc._facets[n].name for n in svc._facet_names(list(facets), types, vis)]
        if self.index.capabilities.name == "tantivy":
            index = self.index
            return lambda: index.search(plan.query, filters=flt, facets=names, limit=first, offset=0,
                                        facet_size=FACET_SIZE)
        from talentgraph.search.opensearch import dsl

        live = self.index._current()  # type: ignore[attr-defined]
        body = dsl.search_body(dsl.combine(live.compiler(plan.query), live.compiler(flt)), facets=names,
                               limit=first, offset=0, facet_size=FACET_SIZE, ranked=dsl.ranks(plan.query))
        client, alias = self.index.transport.client, self.settings.search_index  # type: ignore[attr-defined]
        return lambda: client.search(index=alias, body=body)

    def close(self) -> None:
        self.index.close()


__all__ = ["BareSearch", "RawGraph", "bulk_baseline", "copy_baseline", "graph_counts", "neo4j_merge_baseline",
           "read_back_graph"]
