"""The search projection follows the graph's change log, including changes around a node.

A person's place facets (building → residential area → community) are derived from the graph; when
a building moves to another residential area, the people living there must be re-projected even
though their own records did not change.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from talentgraph.graph.ladybug.store import LadybugGraphStore
from talentgraph.search.projection import SearchProjector
from talentgraph.search.service import SearchService
from talentgraph.search.tantivy.index import TantivyIndex
from talentgraph.types import NodeRecord, RelRecord, rel_key


def _area(key: str, name: str, level: str) -> NodeRecord:
    return NodeRecord("Area", f"area:{key}", {"name": name, "level": level})


STRAY = "ven:zz-stray"  # a document of no node: an index holding it is not empty, so a sync reads the change log


def _not_empty(index: TantivyIndex) -> None:
    """Give ``index`` one stray document: its first sync then takes the change log, not the table scans."""
    from talentgraph.search.mapping import build_doc
    from talentgraph.types import Node

    index.index([build_doc(Node(STRAY, "Venue", {"name": "Stray"}))])
    index.commit()


def test_moving_a_building_moves_its_residents_facets(tmp_path: Path) -> None:
    graph = LadybugGraphStore(tmp_path / "graph")
    graph.ensure_schema()
    index = TantivyIndex(tmp_path / "search")
    projector = SearchProjector(graph, index)
    search = SearchService(index)
    graph.upsert_nodes([_area("RA1", "联洋新苑", "residential_area"), _area("RA2", "仁恒河滨城", "residential_area"),
                        _area("B1", "1号楼", "building"),
                        NodeRecord("Person", "per:1", {"name": "林晓", "languages": ["ru"]})])
    graph.upsert_relationships([RelRecord("PART_OF", "area:B1", "area:RA1"), RelRecord("LIVES_IN", "per:1", "area:B1")])
    projector.sync()

    def ids(area: str) -> set[str]:
        return {h.id for h in search.search("", filters={"residential_area": [area]}).hits}

    assert ids("area:RA1") == {"per:1"} and ids("area:RA2") == set()
    graph.delete_relationships([rel_key("PART_OF", "area:B1", "area:RA1")])
    graph.upsert_relationships([RelRecord("PART_OF", "area:B1", "area:RA2")])
    report = projector.sync()
    assert report.indexed >= 1 and report.cursor == graph.last_seq()
    assert ids("area:RA1") == set() and ids("area:RA2") == {"per:1"}
    index.close()
    graph.close()


def test_the_collector_is_held_while_a_chunk_is_read_and_built_and_on_after_the_sync(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    graph = LadybugGraphStore(tmp_path / "graph")
    graph.ensure_schema()
    index = TantivyIndex(tmp_path / "search")
    projector = SearchProjector(graph, index)
    graph.upsert_nodes([_area("B1", "1号楼", "building"), NodeRecord("Person", "per:1", {"name": "林晓"})])
    held: list[bool] = []
    inputs = SearchProjector._inputs

    def recording(self: SearchProjector, nodes: Sequence[object]) -> object:
        held.append(not gc.isenabled())
        return inputs(self, nodes)  # type: ignore[arg-type]

    monkeypatch.setattr(SearchProjector, "_inputs", recording)
    assert projector.sync().indexed == 2  # a first sync, read table by table
    graph.upsert_nodes([NodeRecord("Person", "per:2", {"name": "王芳"})])
    assert projector.sync().indexed == 1  # one through the change log
    assert held and all(held) and gc.isenabled()
    monkeypatch.setattr(SearchProjector, "_inputs", lambda *a: (_ for _ in ()).throw(RuntimeError("graph down")))
    graph.upsert_nodes([NodeRecord("Person", "per:3", {"name": "李娜"})])
    with pytest.raises(RuntimeError, match="graph down"):
        projector.sync()
    assert gc.isenabled()
    index.close()
    graph.close()


def test_a_first_sync_after_one_that_failed_writes_each_document_once(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A first sync writes its documents as new (nothing looked for to replace). One that fails half-way leaves its
    documents uncommitted in the writer; the next drops them before writing, so each node's document is there once."""
    from talentgraph.search import projection

    graph = LadybugGraphStore(tmp_path / "graph")
    graph.ensure_schema()
    graph.upsert_nodes([NodeRecord("Person", f"per:{i}", {"name": f"林晓{i}", "languages": ["ru"]})
                        for i in range(40)])
    index = TantivyIndex(tmp_path / "search")
    projector = SearchProjector(graph, index)
    monkeypatch.setattr(projection, "BATCH", 10)
    inputs = projector._inputs
    calls = 0

    def failing(nodes: Sequence[object]) -> object:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("injected: the graph went away mid-sync")
        return inputs(nodes)  # type: ignore[arg-type]

    monkeypatch.setattr(projector, "_inputs", failing)
    with pytest.raises(RuntimeError, match="injected"):
        projector.sync()
    assert index.count() == 0 and index.get_cursor() == 0  # nothing committed: the next sync is a first sync again
    report = projector.sync()
    assert report.indexed == 40 and index.count() == 40
    hits = SearchService(index).search("林晓7").hits
    assert [h.id for h in hits if h.id == "per:7"] == ["per:7"]
    index.close()
    graph.close()


def test_sync_in_narrow_windows_over_a_pruned_log_ends_where_one_window_does(tmp_path: Path) -> None:
    """Sync reads the log in seq windows up to the head it found; windows that pruning emptied are stepped
    over, and a sync that reads three seqs at a time indexes what one reading everything does."""
    docs: dict[int, set[str]] = {}
    for window in (3, 100_000):
        graph = LadybugGraphStore(tmp_path / f"graph-{window}")
        graph.ensure_schema()
        index = TantivyIndex(tmp_path / f"search-{window}")
        graph.upsert_nodes([_area("RA1", "联洋新苑", "residential_area")])
        for k in range(6):  # five superseded entries in a row: pruned, they leave whole windows empty
            graph.upsert_nodes([NodeRecord("Person", "per:9", {"name": f"孙{k}", "languages": ["de"]})])
        for n in range(8):
            graph.upsert_nodes([NodeRecord("Person", f"per:{n}", {"name": f"林{n}", "languages": ["ru"]})])
            graph.upsert_nodes([NodeRecord("Person", f"per:{n}", {"name": f"林{n}", "languages": ["en"]})])
        graph.delete_nodes(["per:3"])
        assert graph.prune_changes("9999-01-01T00:00:00Z", graph.last_seq()) > 0  # superseded entries: gaps
        report = SearchProjector(graph, index).sync(page=window)
        assert report.cursor == graph.last_seq()
        hits = SearchService(index).search("", filters={"languages": ["en"]}, first=50).hits
        docs[window] = {h.id for h in hits}
        assert SearchProjector(graph, index).sync(page=window).changes_read == 0
        index.close()
        graph.close()
    assert docs[3] == docs[100_000] == {f"per:{n}" for n in range(8) if n != 3}


@pytest.mark.parametrize("worker", [False, True], ids=["in process", "worker started early"])
def test_an_upgrade_that_changes_the_search_mapping_rebuilds_on_the_next_sync(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: bool) -> None:
    # A data dir indexed by an older release (fewer searchable fields) must not stop the next ingest. With the
    # document worker started early (as an ingest starts it, before its jobs) on an index older still (built before
    # documents carried id keys, so the live index encodes another form), the rebuild's documents are encoded for the
    # index it makes, not in the live one's form (which the new index would refuse).
    from talentgraph.schema.ontology import ONTOLOGY, Property, PropType, SearchKind
    from talentgraph.search import docpool

    if worker:
        monkeypatch.setattr(docpool, "MIN_DOCS", 0)

    graph = LadybugGraphStore(tmp_path / "graph")
    graph.ensure_schema()
    graph.upsert_nodes([NodeRecord("Person", "per:1", {"name": "林晓"})])
    old = TantivyIndex(tmp_path / "search")
    SearchProjector(graph, old).sync()
    old.close()
    if worker:
        (tmp_path / "search" / (tmp_path / "search" / "CURRENT").read_text() / "id-keys").unlink()
    newer = ONTOLOGY.with_property("Person", Property("hobby", PropType.STRING, "Hobby.", searchable=SearchKind.TEXT))
    index = TantivyIndex(tmp_path / "search", newer)
    assert index.mapping_stale()
    graph.upsert_nodes([NodeRecord("Person", "per:2", {"name": "王芳"})])
    projector = SearchProjector(graph, index, newer)
    if worker:
        projector.start_builder()
        assert projector._builder is not None and projector._builder.form != index.rebuild_encoder().form
    report = projector.sync()
    assert not index.mapping_stale() and report.cursor == graph.last_seq() and index.count() == 2
    assert [h.id for h in SearchService(index, newer).search("王芳").hits] == ["per:2"]
    assert projector._builder is None and not mp.active_children()
    index.close()
    graph.close()


def test_a_query_only_process_segments_entity_names_like_the_indexer(tmp_path: Path) -> None:
    from talentgraph.search import analysis

    graph = LadybugGraphStore(tmp_path / "graph")
    graph.ensure_schema()
    name = "联洋晨曦睦邻汇"  # an invented venue name jieba does not know
    assert name not in analysis.segment(name)
    graph.upsert_nodes([NodeRecord("Venue", "ven:X1", {"name": name})])
    index = TantivyIndex(tmp_path / "search")
    assert SearchProjector(graph, index).learn_entity_names() == 1
    assert name in analysis.segment(name)
    index.close()
    graph.close()


def test_derived_fields_follow_the_declared_paths_not_fixed_names(tmp_path: Path) -> None:
    """Rename MEMBER_OF and LIVES_IN in an ontology: the projection follows the renamed paths."""
    from dataclasses import replace

    from talentgraph.schema.ontology import DERIVED_FIELDS, NODE_TYPES, REL_TYPES, Hop, Ontology
    from talentgraph.search.mapping import facet_field

    names = {"MEMBER_OF": "BELONGS_TO", "LIVES_IN": "RESIDES_IN"}
    rels = tuple(replace(r, name=names.get(r.name, r.name)) for r in REL_TYPES)

    def renamed(hop: Hop) -> Hop:
        return replace(hop, rel=names.get(hop.rel, hop.rel))

    def moved(path: object) -> object:
        if hasattr(path, "hop"):
            return replace(path, hop=renamed(path.hop))  # type: ignore[type-var]
        return replace(path, linked=tuple(renamed(h) for h in path.linked))  # type: ignore[type-var, attr-defined]

    ontology = Ontology(NODE_TYPES, rels, tuple(replace(d, path=moved(d.path)) for d in DERIVED_FIELDS))
    graph = LadybugGraphStore(tmp_path / "graph", ontology)
    graph.ensure_schema()
    graph.upsert_nodes([_area("RA1", "联洋新苑", "residential_area"), _area("B1", "1号楼", "building"),
                        NodeRecord("Group", "grp:G1", {"name": "合唱团", "kind": "culture_team"}),
                        NodeRecord("PartyOrganization", "org:P1", {"name": "第一支部", "level": "branch"}),
                        NodeRecord("Person", "per:1", {"name": "林晓"})])
    graph.upsert_relationships([RelRecord("PART_OF", "area:B1", "area:RA1"), RelRecord("RESIDES_IN", "per:1", "area:B1"),
                                RelRecord("BELONGS_TO", "per:1", "grp:G1"), RelRecord("BELONGS_TO", "per:1", "org:P1")])
    projector = SearchProjector(graph, TantivyIndex(tmp_path / "search", ontology), ontology)
    person = graph.get_nodes(["per:1"])["per:1"]
    [doc] = projector.docs_for([person])
    assert doc.fields[facet_field("groups")] == ["grp:G1"]
    assert doc.fields[facet_field("party_orgs")] == ["org:P1"]
    assert doc.fields[facet_field("party_member")] == ["true"]
    assert doc.fields[facet_field("building")] == ["area:B1"]
    assert doc.fields[facet_field("residential_area")] == ["area:RA1"]
    projector.index.close()
    graph.close()


def test_a_fresh_process_loading_the_index_lexicon_segments_like_the_indexer(tmp_path: Path) -> None:
    """The entity names an index was analysed with live beside it (``lexicon.json``): a new process
    that loads only that file cuts a query exactly as the process that built the index does."""
    import json
    import subprocess
    import sys

    from talentgraph.search import analysis

    graph = LadybugGraphStore(tmp_path / "graph")
    graph.ensure_schema()
    venue, project = "晨曦联洋睦邻汇", "睦邻汇微心愿计划"  # invented names jieba does not know
    query = f"{venue}{project}志愿者"
    graph.upsert_nodes([NodeRecord("Venue", "ven:X2", {"name": venue}),
                        NodeRecord("Project", "prj:X2", {"name": project, "menu": "micro_charity"})])
    lexicon = tmp_path / "search" / analysis.LEXICON_FILE
    index = TantivyIndex(tmp_path / "search")
    SearchProjector(graph, index, lexicon_path=lexicon).sync()
    here = analysis.segment(query)
    assert venue in here and project in here
    saved = analysis.read_lexicon(lexicon)
    assert {venue, project} <= set(saved)

    script = ("import json, sys\nfrom pathlib import Path\nfrom talentgraph.search import analysis\n"
              "before = analysis.segment(sys.argv[2])\nanalysis.load_lexicon(Path(sys.argv[1]))\n"
              "print(json.dumps([before, analysis.segment(sys.argv[2])], ensure_ascii=False))\n")
    out = subprocess.run([sys.executable, "-c", script, str(lexicon), query], check=True, capture_output=True,
                         text=True, encoding="utf-8").stdout
    before, after = json.loads(out)
    assert before != here  # without the index's lexicon the fresh process cuts the names apart
    assert after == here
    index.close()
    graph.close()


def test_a_lexicon_of_the_same_words_gives_the_same_dictionary_in_any_order() -> None:
    from talentgraph.search import analysis

    words = {"甲乙丙丁戊己": 7, "丙丁戊己庚辛": 5}
    assert analysis.lexicon_version(words) == analysis.lexicon_version(dict(reversed(list(words.items()))))
    assert analysis.lexicon_version(words) != analysis.lexicon_version({**words, "庚辛壬癸": 3})


def test_documents_built_in_the_worker_process_equal_those_built_in_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large sync or rebuild builds documents in a forked worker while it reads the graph; every document
    (names analysed, entity names learned on the way, derived place fields) is the one built here."""
    from talentgraph.config import Settings
    from talentgraph.demo.generator import generate
    from talentgraph.ingest.mapping import load_pipeline
    from talentgraph.ingest.pipeline import run_pipeline
    from talentgraph.search import docpool
    from talentgraph.search.port import EncodedDoc, SearchDoc
    from talentgraph.stores import open_stores

    generate(tmp_path / "reg", residents=400, seed=5)
    stores = open_stores(Settings(data_dir=tmp_path / "data"))
    pipeline = Path(__file__).resolve().parents[2] / "talentgraph" / "demo" / "jobs" / "pipeline.yaml"
    run_pipeline(load_pipeline(pipeline, input_dir=tmp_path / "reg"), stores.graph, id_hash_key=b"k",
                 quarantine_dir=tmp_path / "q")

    class Recording(TantivyIndex):
        """What reaches the index, as the bodies it writes (the worker's come encoded, the others not)."""

        def __init__(self, path: Path) -> None:
            super().__init__(path)
            self.docs: list[EncodedDoc] = []

        def index(self, docs: Sequence[SearchDoc | EncodedDoc], *, new: bool = False) -> int:
            encode = self.encoder()
            self.docs.extend(d if isinstance(d, EncodedDoc) else encode(d) for d in docs)
            return super().index(docs, new=new)

        def rebuild(self, docs: Iterable[SearchDoc | EncodedDoc], cursor: int) -> int:
            encode = self.rebuild_encoder()

            def recorded() -> Iterator[SearchDoc | EncodedDoc]:
                for d in docs:
                    self.docs.append(d if isinstance(d, EncodedDoc) else encode(d))
                    yield d

            return super().rebuild(recorded(), cursor)

    submitted: list[int] = []
    submit = docpool.DocBuilder.submit

    def counting(self: docpool.DocBuilder, inputs: list[docpool.DocInput], tag: object = None) -> None:
        submitted.append(len(inputs))
        submit(self, inputs, tag)

    monkeypatch.setattr(docpool.DocBuilder, "submit", counting)
    from talentgraph.search import projection

    built: dict[str, dict[str, EncodedDoc]] = {}
    sent: dict[str, int] = {}
    # The worker given everything (it may hand back at the end what it had not started); the same with the worker
    # started before the sync (as an ingest starts it before its jobs: every entity name reaches it with the pieces);
    # worker and this process sharing pieces of 20 (this one builds a piece whenever the worker has one waiting);
    # this process alone; the worker started early and killed before the sync (as the out-of-memory killer would),
    # so this process builds what it was given. Each way, for a first sync read table by table, one read through
    # the change log, and a rebuild (``talentgraph reindex``: into a new generation, swapped in).
    for where, min_docs, batch, piece, ahead in (("worker", 0, projection.BATCH, docpool.PIECE, 10**9),
                                                 ("early", 0, projection.BATCH, docpool.PIECE, 10**9),
                                                 ("killed", 0, projection.BATCH, docpool.PIECE, 10**9),
                                                 ("both", 0, 50, 20, 1),
                                                 ("here", 10**9, projection.BATCH, docpool.PIECE, docpool.AHEAD_DOCS)):
        for read in ("scan", "log", "rebuild"):
            monkeypatch.setattr(docpool, "MIN_DOCS", min_docs)
            monkeypatch.setattr(projection, "BATCH", batch)
            monkeypatch.setattr(docpool, "PIECE", piece)
            monkeypatch.setattr(docpool, "AHEAD_DOCS", ahead)
            index = Recording(tmp_path / f"search-{where}-{read}")
            if read == "log":
                _not_empty(index)
            index.docs.clear()
            submitted.clear()
            projector = SearchProjector(stores.graph, index)
            if where in ("early", "killed"):
                projector.start_builder()
                assert len(mp.active_children()) == 1
            if where == "killed":
                worker = mp.active_children()[0]
                os.kill(worker.pid, signal.SIGKILL)
                worker.join(30)
            if read == "rebuild":
                assert projector.rebuild() == index.count() == len(index.docs) > 400
            else:
                assert projector.sync().indexed == len(index.docs) > 400
            assert projector._builder is None and not mp.active_children()  # taken by the sync and ended
            built[f"{where} {read}"] = {d.id: d for d in index.docs}
            sent[f"{where} {read}"] = sum(submitted)
            index.close()
    for read in ("scan", "log", "rebuild"):
        assert sent[f"worker {read}"] == len(built[f"worker {read}"])  # every document went to the worker
        assert sent[f"early {read}"] == len(built[f"early {read}"])
        assert 0 < sent[f"both {read}"] < len(built[f"both {read}"])  # some from the worker, the rest built here
    assert all(docs == built["here log"] for docs in built.values())
    stores.close()


def test_the_first_sync_of_a_resolved_graph_builds_what_cluster_lookups_would(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every person is projected in a first sync, so no record can touch a cluster outside it: the SAME_AS lookups
    are skipped, and the documents (one per cluster, members' names merged in) are those built with them."""
    from talentgraph.config import Settings
    from talentgraph.demo.generator import generate
    from talentgraph.ingest.mapping import load_pipeline
    from talentgraph.ingest.pipeline import run_pipeline
    from talentgraph.resolve.run import Resolver
    from talentgraph.search.port import SearchDoc
    from talentgraph.stores import open_stores

    generate(tmp_path / "reg", residents=400, seed=5)
    stores = open_stores(Settings(data_dir=tmp_path / "data"))
    pipeline = Path(__file__).resolve().parents[2] / "talentgraph" / "demo" / "jobs" / "pipeline.yaml"
    run_pipeline(load_pipeline(pipeline, input_dir=tmp_path / "reg"), stores.graph, id_hash_key=b"k",
                 quarantine_dir=tmp_path / "q")
    assert Resolver(stores.graph, tmp_path / "data").run().clusters > 0

    class Recording(TantivyIndex):
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            self.docs: list[SearchDoc] = []

        def index(self, docs: Iterable[SearchDoc], *, new: bool = False) -> int:
            docs = list(docs)
            self.docs.extend(docs)
            return super().index(docs, new=new)

        def rebuild(self, docs: Iterable[SearchDoc], cursor: int) -> int:
            def recorded() -> Iterator[SearchDoc]:
                for d in docs:
                    self.docs.append(d)
                    yield d

            return super().rebuild(recorded(), cursor)

    looked_up: list[str] = []
    edges = stores.graph.edges

    def spy(ids: Sequence[str], rel_type: str, *args: object, **kwargs: object) -> object:
        looked_up.append(rel_type)
        return edges(ids, rel_type, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stores.graph, "edges", spy)
    built: dict[str, dict[str, SearchDoc]] = {}
    for how in ("scanned", "skipped", "looked up"):
        if how == "looked up":
            monkeypatch.setattr(SearchProjector, "_projected_whole", lambda self, pending: set())
        index = Recording(tmp_path / f"search-{how}")
        if how != "scanned":  # through the change log, not table by table
            _not_empty(index)
            index.docs.clear()
        looked_up.clear()
        report = SearchProjector(stores.graph, index).sync()
        # Records standing for another have no document: the log's path deletes theirs, the scan writes none.
        assert (report.deleted > 0) is (how != "scanned")
        assert ("SAME_AS" in looked_up) is (how == "looked up")
        built[how] = {d.id: d for d in index.docs}
        index.close()
    assert built["scanned"] == built["skipped"] == built["looked up"]
    # A rebuild reads whole nodes (claims and system columns too): the documents are the same.
    index = Recording(tmp_path / "search-rebuilt")
    SearchProjector(stores.graph, index).rebuild()
    assert {d.id: d for d in index.docs} == built["scanned"]
    index.close()
    stores.close()
