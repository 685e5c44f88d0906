"""Embedded search index on Tantivy: the default ``SearchIndex`` adapter.

Directory layout under ``path``::

    CURRENT          name of the live generation ("index-3"), replaced atomically
    index-3/         a Tantivy index, plus
      fields.json    the mapping it was built with (Tantivy's Python API cannot list a schema)
      cursor         graph change-log sequence applied
      id-keys        present when documents carry the id-key fast fields (``ID_KEYS``) that order
                     score ties by id without reading stored documents; older generations lack
                     them and are served as they are, ordering ties by the stored id

``rebuild`` builds ``index-<n+1>`` beside the live one and swaps ``CURRENT``, so searches never see
an empty or half-built index. All handles on one directory in a process share one state object and
one ``IndexWriter`` (Tantivy allows one writer per directory); another process that holds the writer
makes writes here fail with ``StoreBusyError`` while searches keep working.
"""

from __future__ import annotations

import base64
import bisect
import heapq
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import tantivy

from talentgraph.errors import OntologyError, StoreBusyError, StoreError
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.search.base import (
    BaseSearchIndex,
    SearchRequest,
    fields_signature,
    json_body,
    kinds_of,
    stale_mapping_error,
    wire_form,
)
from talentgraph.search.cache import LRU
from talentgraph.search.mapping import ANALYSED, ID_FIELD, SOURCE_FIELD, TYPE_FIELD, FieldKind, SearchField
from talentgraph.search.port import EncodedDoc, RawHit, RawResult, SearchCapabilities, SearchDoc
from talentgraph.search.query import Bool, Query, Term, Terms, flattened, walk, without_absent
from talentgraph.search.tantivy.compile import Compiler

log = logging.getLogger(__name__)

TOKENIZER = "tg_whitespace"  # analysis happened in Python: the engine only splits on spaces
POINTER = "CURRENT"
FIELDS_FILE = "fields.json"
CURSOR_FILE = "cursor"
META_FILE = "meta.json"  # Tantivy's: the segments of the last commit
ID_KEYS_FILE = "id-keys"  # present when the generation carries ID_KEYS (built by this version or later)
ID_KEYS = ("id__k0", "id__k1", "id__k2")
"""The id's first 24 UTF-8 bytes as three big-endian u64 fast fields: ordering by them is ordering by
id (code point order), read for a batch of hits with ``Searcher.fast_field_values`` and no stored
document. Ids longer than 24 bytes that share those bytes are told apart by their stored id."""
COMPILED_CACHE_SIZE = 512  # compiled queries per generation and commit (tantivy.Query objects are immutable)
OVERFETCH = 500
"""Hits fetched past the page, so that a score tie at the page's end usually completes in the first
search; when it does not, one more search completes it (no loop). Measured at 200k residents: where held
concepts and mentions meet, matches tie in groups of a few hundred ("lawyer": 400, "nurse": 369), which
now end inside the fetch; 500 more hits cost the heap and their Python tuples (~0.1 ms), a second search
~2–20 ms (``_rest_of_tie``), and the more members the fetch holds, the tighter its bound."""
_GENERATION = re.compile(r"^index-(\d+)$")
WRITER_HEAP = 64_000_000
# Deepest hit (offset + limit) a search may reach: Tantivy's top-docs collector allocates the whole
# window up front (an offset of 10^12 asked for ~48 TB and aborted the process). The same window as
# the OpenSearch adapter's index setting.
MAX_RESULT_WINDOW = 200_000


def _analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def build_schema(fields: Sequence[SearchField], *, keyed: bool = True) -> tantivy.Schema:
    """``keyed``: with the ``ID_KEYS`` fast fields (every generation built since they exist)."""
    sb = tantivy.SchemaBuilder()
    for f in fields:
        if f.kind in ANALYSED:
            # No positions: queries are term, not phrase, queries; frequencies feed BM25.
            sb.add_text_field(f.name, stored=False, tokenizer_name=TOKENIZER, index_option="freq")
        elif f.kind is FieldKind.ID:
            sb.add_text_field(f.name, stored=True, fast=True, tokenizer_name="raw", index_option="basic")
        elif f.kind in (FieldKind.TYPE, FieldKind.FACET):
            sb.add_text_field(f.name, stored=f.kind is FieldKind.TYPE, fast=True, tokenizer_name="raw",
                              index_option="basic")
        elif f.kind is FieldKind.SOURCE:
            sb.add_bytes_field(f.name, stored=True, indexed=False, fast=False)
    for name in ID_KEYS if keyed else ():
        sb.add_unsigned_field(name, stored=False, indexed=False, fast=True)
    return sb.build()


def id_keys(doc_id: str) -> tuple[int, int, int]:
    """``ID_KEYS`` values of an id: comparing them compares ids (zero padding sorts a prefix first)."""
    raw = doc_id.encode("utf-8")[:24].ljust(24, b"\0")
    return (int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:16], "big"), int.from_bytes(raw[16:], "big"))


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _wire_form(fields: Sequence[SearchField], *, keyed: bool) -> str:
    return wire_form("tantivy", fields, "keyed" if keyed else "plain")


class _Generation:
    """One opened ``index-<n>`` directory."""

    def __init__(self, directory: Path, fields: Sequence[SearchField], *, create: bool) -> None:
        self.dir = directory
        self.fields = list(fields)
        saved = self.dir / FIELDS_FILE
        signature = fields_signature(fields)
        if create:
            self.dir.mkdir(parents=True, exist_ok=False)
            _write_atomic(saved, json.dumps(signature))
            _write_atomic(self.dir / CURSOR_FILE, "0")
            _write_atomic(self.dir / ID_KEYS_FILE, ",".join(ID_KEYS))
        stored = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else None
        self.stale = stored != signature
        # An index built before ID_KEYS existed is still served; its ties are ordered by stored id.
        self.id_keys = (self.dir / ID_KEYS_FILE).exists()
        try:
            if self.stale:
                # Built for another mapping: serve it as it is until a rebuild replaces it.
                self.index = tantivy.Index.open(str(self.dir))
                kinds = kinds_of(stored or [])
            else:
                self.index = tantivy.Index(build_schema(fields, keyed=self.id_keys), path=str(self.dir), reuse=True)
                kinds = {f.name: f.kind for f in fields}
        except (ValueError, OSError) as exc:
            raise StoreError(
                f"Cannot open the search index at {self.dir}: {exc}.",
                hint="Rebuild it (the index is derived from the graph and can always be recreated).",
            ) from exc
        self.index.register_tokenizer(TOKENIZER, _analyzer())  # custom tokenizers are per Index object
        self.compiler = Compiler(self.index.schema, kinds, unknown="empty" if self.stale else "raise")
        self.kinds = kinds
        self._compiled: LRU[tuple[int, Query | None], tuple[Query, object, tantivy.Query]] = LRU(COMPILED_CACHE_SIZE)
        self._reloaded_at: object = self._commit_stamp()
        self.writer: tantivy.IndexWriter | None = None
        self._form = _wire_form(fields, keyed=self.id_keys)
        self._encoder: JsonEncoder | None = None

    def encoder(self, kinds: Mapping[str, FieldKind]) -> JsonEncoder:
        """How documents are written to this generation (``kinds``: the mapping's, which a writable
        generation was built with)."""
        if self._encoder is None:
            self._encoder = JsonEncoder(kinds, keyed=self.id_keys, form=self._form)
        return self._encoder

    def prepared(self, query: Query, filters: Query | None) -> tuple[tantivy.Searcher, tantivy.Query]:
        """A searcher, and ``query`` narrowed by ``filters`` (a non-scoring filter clause) compiled for it
        without the clauses on tokens that no document of that searcher holds (``without_absent``: the
        same matches and scores, a fraction of the term lookups) and with its nested alternatives folded
        (``flattened``: Tantivy merges each union's postings on its own, once per level).

        What a searcher holds changes with each commit, here or in another process (Tantivy's reader
        follows ``meta.json``), so a compiled query is kept for the commit it was pruned at: keyed by
        the query's identity (the service keeps plans of repeated texts; the big tree is not hashed, and
        the entry holds the query, so that identity is not reused) and stamped with ``meta.json``'s
        identity. A commit seen here first reloads the reader, so the searcher is at least that new;
        one that lands while the searcher is taken leaves it either side, and the query is then
        pruned for that searcher alone."""
        stamp = self._commit_stamp()
        if stamp != self._reloaded_at:
            self.index.reload()
            self._reloaded_at = stamp
        searcher = self.index.searcher()
        whole = query if filters is None else Bool(must=(query,), filter=(filters,))
        if self._commit_stamp() != stamp:
            return searcher, self._pruned_for(whole, searcher)
        key = (id(query), filters)
        try:
            cached = self._compiled.get(key)
        except TypeError:  # a filter built with a list: compile every time
            return searcher, self._pruned_for(whole, searcher)
        if cached is not None and cached[0] is query and cached[1] == stamp:
            return searcher, cached[2]
        out = self._pruned_for(whole, searcher)
        self._compiled.put(key, (query, stamp, out))
        return searcher, out

    def _pruned_for(self, query: Query, searcher: tantivy.Searcher) -> tantivy.Query:
        def present(field: str, token: str) -> bool:
            try:
                return bool(searcher.doc_freq(field, token))
            except ValueError:  # not an indexed text field of this generation: the compiler decides
                return True

        # A clause on a field this index lacks is reported (or, while an older mapping is served, matches
        # nothing) as without pruning, even inside a bool that pruning drops for another clause.
        for node in walk(query):
            if isinstance(node, (Term, Terms)):
                self.compiler.searchable(node.field)
        kept = without_absent(query, present)
        return self.compiler(flattened(kept)) if kept is not None else tantivy.Query.empty_query()

    def _commit_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = (self.dir / META_FILE).stat()  # replaced (a new inode) by every commit
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def open_writer(self) -> tantivy.IndexWriter:
        if self.stale:
            # Also checked by BaseSearchIndex; here it guards the files against any other caller.
            raise stale_mapping_error(f"at {self.dir}")
        if self.writer is None:
            try:
                self.writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
            except ValueError as exc:
                if "LockBusy" in str(exc):
                    raise StoreBusyError(
                        f"Another process is writing to the search index at {self.dir}.",
                        hint="Stop the other talentgraph process (server or CLI) or point this one at another data dir.",
                    ) from exc
                raise StoreError(f"Cannot open a writer on {self.dir}: {exc}.") from exc
        return self.writer

    def close_writer(self, *, discard: bool = False) -> None:
        w, self.writer = self.writer, None
        if w is not None:
            if discard:
                w.rollback()
            # Waits for merges and releases the directory lock.
            w.wait_merging_threads()

    def read_cursor(self) -> int:
        try:
            return int((self.dir / CURSOR_FILE).read_text(encoding="utf-8").strip() or 0)
        except FileNotFoundError:
            return 0
        except ValueError as exc:
            raise StoreError(f"{self.dir / CURSOR_FILE} does not hold a number.",
                             hint="Rebuild the search index.") from exc

    def write_cursor(self, seq: int) -> None:
        _write_atomic(self.dir / CURSOR_FILE, str(seq))


class _Shared:
    """State of one index directory, shared by every TantivyIndex on it in this process."""

    def __init__(self, root: Path, fields: Sequence[SearchField]) -> None:
        self.root = root
        self.fields = list(fields)
        self.lock = threading.RLock()  # writes, commits and swaps
        self.rebuild_lock = threading.Lock()
        self.users = 0
        root.mkdir(parents=True, exist_ok=True)
        self.gen = self._open_current()
        self.cursor = self.gen.read_cursor()
        self.pointer_stamp = self._pointer_stamp()

    # --- generations ----------------------------------------------------------------------------

    def _pointer(self) -> Path:
        return self.root / POINTER

    def _pointer_stamp(self) -> tuple[int, int] | None:
        try:
            st = self._pointer().stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def _open_current(self) -> _Generation:
        pointer = self._pointer()
        if pointer.exists():
            name = pointer.read_text(encoding="utf-8").strip()
            if not _GENERATION.match(name) or not (self.root / name).is_dir():
                raise StoreError(f"{pointer} names {name!r}, which is not an index directory here.",
                                 hint=f"Delete {self.root} and rebuild the search index.")
            return _Generation(self.root / name, self.fields, create=False)
        gen = _Generation(self.root / f"index-{self._next_number()}", self.fields, create=True)
        _write_atomic(pointer, gen.dir.name)
        return gen

    def _next_number(self) -> int:
        numbers = [int(m.group(1)) for p in self.root.iterdir() if (m := _GENERATION.match(p.name))]
        return max(numbers, default=0) + 1

    def refresh(self) -> None:
        """Follow a swap made by another process (its rebuild replaced CURRENT)."""
        stamp = self._pointer_stamp()
        if stamp == self.pointer_stamp:
            return
        with self.lock:
            if stamp == self._pointer_stamp() and stamp != self.pointer_stamp:
                name = self._pointer().read_text(encoding="utf-8").strip()
                if name != self.gen.dir.name:
                    self.gen.close_writer(discard=True)
                    self.gen = _Generation(self.root / name, self.fields, create=False)
                    self.cursor = self.gen.read_cursor()
                self.pointer_stamp = stamp


_REGISTRY: dict[Path, _Shared] = {}
_REGISTRY_LOCK = threading.Lock()


class TantivyIndex(BaseSearchIndex):
    """``SearchIndex`` on an embedded Tantivy index in ``path``."""

    capabilities = SearchCapabilities(name="tantivy", max_result_window=MAX_RESULT_WINDOW)

    def __init__(self, path: Path | str, ontology: Ontology = ONTOLOGY) -> None:
        super().__init__(ontology)
        self.path = Path(path).resolve()
        with _REGISTRY_LOCK:
            shared = _REGISTRY.get(self.path)
            if shared is not None and fields_signature(shared.fields) != fields_signature(self.fields):
                raise OntologyError(
                    f"The search index at {self.path} is already open in this process with another mapping.",
                    hint="Open one index directory per ontology.",
                )
            if shared is None:
                shared = _Shared(self.path, self.fields)
                _REGISTRY[self.path] = shared
            shared.users += 1
        self._s = shared

    def _where(self) -> str:
        return f"at {self.path}"

    def _stale(self) -> str | None:
        gen = self._s.gen
        return f"at {gen.dir}" if gen.stale else None

    # --- writes ---------------------------------------------------------------------------------

    def _encoder(self) -> JsonEncoder:
        s = self._s
        s.refresh()
        return s.gen.encoder(self._kinds)

    def _index(self, docs: Iterable[SearchDoc | EncodedDoc], new: bool) -> int:
        s = self._s
        n = 0
        with s.lock:
            writer = s.gen.open_writer()
            for doc in self._encoded(docs, s.gen.encoder(self._kinds)):
                # Tantivy holds every delete until the commit (a first sync of 225,700 documents: 250 MB more at its
                # peak): documents known to be new skip it.
                if not new:
                    writer.delete_documents_by_term(ID_FIELD, doc.id)
                _add(writer, doc)
                n += 1
        return n

    def _discard_uncommitted(self) -> None:
        s = self._s
        with s.lock:
            if s.gen.writer is not None:
                s.gen.writer.rollback()

    def _delete(self, ids: list[str]) -> int:
        s = self._s
        with s.lock:
            s.gen.index.reload()
            present = _count(s.gen.index.searcher().search(
                tantivy.Query.term_set_query(s.gen.index.schema, ID_FIELD, ids), limit=1, count=True
            ))
            writer = s.gen.open_writer()
            for i in ids:
                writer.delete_documents_by_term(ID_FIELD, i)
        return present

    def _commit(self) -> None:
        s = self._s
        with s.lock:
            if s.gen.writer is not None:
                s.gen.writer.commit()
            # The cursor is persisted only after the documents it covers are durable.
            if s.cursor != s.gen.read_cursor():
                s.gen.write_cursor(s.cursor)
            s.gen.index.reload()

    def _get_cursor(self) -> int:
        return self._s.cursor

    def _set_cursor(self, seq: int) -> None:
        self._s.cursor = seq

    # --- reads ----------------------------------------------------------------------------------

    def _count(self) -> int:
        s = self._s
        s.refresh()
        return int(s.gen.index.searcher().num_docs)

    def _search(self, req: SearchRequest) -> RawResult:
        s = self._s
        s.refresh()
        gen = s.gen  # one generation for the whole request, even if a rebuild swaps meanwhile
        searcher, compiled = gen.prepared(req.query, req.filters)
        names = [f for f in req.facets if f in gen.kinds]
        # The facet pass and the top-docs pass read the same postings independently, and Tantivy lets
        # go of the GIL in both: the facets are counted on another core meanwhile.
        counting: Future[dict[str, list[tuple[str, int]]]] | None = (
            _facet_pool().submit(_facets, searcher, compiled, names, req.facet_size)
            if names and PARALLEL_FACETS else None)
        try:
            if req.ranked:
                total, page = _ranked(searcher, compiled, req.offset, req.limit, keyed=gen.id_keys,
                                      schema=gen.index.schema)
            else:
                total, page = _by_id(searcher, compiled, req.offset, req.limit)
            hits = [_hit(searcher, addr, score, doc) for score, addr, doc in page]
            out_facets = (counting.result() if counting is not None
                          else _facets(searcher, compiled, names, req.facet_size))
        except ValueError as exc:
            raise StoreError(f"Tantivy search failed: {exc}.") from exc
        finally:
            if counting is not None and not counting.cancel():
                wait([counting])  # after an error: the pass may still be reading this generation
        return RawResult(hits=hits, total=total, facets=out_facets)

    # --- rebuild --------------------------------------------------------------------------------

    def _rebuild_encoder(self) -> JsonEncoder:
        # What ``_Generation(create=True).encoder`` is for a generation made now: keyed, with this mapping.
        return JsonEncoder(self._kinds, keyed=True, form=_wire_form(self.fields, keyed=True))

    def _rebuild(self, docs: Iterable[SearchDoc | EncodedDoc], cursor: int) -> int:
        s = self._s
        with s.rebuild_lock:
            with s.lock:
                s.refresh()
                if not s.gen.stale:
                    # Holding the live writer proves no other process is writing or rebuilding here.
                    s.gen.open_writer()
                self._remove_strays(s)
                new_dir = s.root / f"index-{s._next_number()}"
            gen: _Generation | None = None
            try:
                gen = _Generation(new_dir, self.fields, create=True)
                writer = gen.open_writer()
                n = 0
                for encoded in self._encoded(docs, gen.encoder(self._kinds)):
                    _add(writer, encoded)
                    n += 1
                writer.commit()
                gen.close_writer()
                gen.write_cursor(cursor)
                gen.index.reload()
            except BaseException:
                if gen is not None:
                    try:
                        gen.close_writer(discard=True)
                    except (RuntimeError, ValueError):
                        log.warning("could not close the writer of the abandoned %s", new_dir, exc_info=True)
                shutil.rmtree(new_dir, ignore_errors=True)
                raise
            with s.lock:
                old = s.gen
                _write_atomic(s.root / POINTER, gen.dir.name)
                s.gen, s.cursor, s.pointer_stamp = gen, cursor, s._pointer_stamp()
                # Uncommitted writes to the old generation are older than the rebuild's cursor
                # and will be replayed by the next sync.
                old.close_writer(discard=True)
            shutil.rmtree(old.dir, ignore_errors=True)
            log.info("search index rebuilt: %d documents in %s (cursor %d)", n, gen.dir.name, cursor)
            return n

    @staticmethod
    def _remove_strays(s: _Shared) -> None:
        """Generations left by an interrupted rebuild (never the live one)."""
        for p in s.root.iterdir():
            if _GENERATION.match(p.name) and p != s.gen.dir:
                shutil.rmtree(p, ignore_errors=True)

    def _close(self) -> None:
        s = self._s
        with _REGISTRY_LOCK:
            s.users -= 1
            if s.users == 0:
                with s.lock:
                    s.gen.close_writer()
                _REGISTRY.pop(s.root, None)


# --- documents ----------------------------------------------------------------------------------


class JsonEncoder:
    """A document as the JSON ``IndexWriter.add_json`` reads: every field by name, lists as several
    values, the stored source as base64 (a bytes field), and the id keys when the generation has them.

    One conversion for every write (sync, rebuild, the document worker): building a
    ``tantivy.Document`` call by call cost ~2x the JSON, and the document worker's bodies reach the
    writer as strings (a pickled ``SearchDoc`` took ~35 µs to load)."""

    def __init__(self, kinds: Mapping[str, FieldKind], *, keyed: bool, form: str) -> None:
        self.kinds = dict(kinds)
        self.keyed = keyed
        self.form = form

    def __call__(self, doc: SearchDoc) -> EncodedDoc:
        out: dict[str, Any] = {}
        if self.keyed:
            for name, key in zip(ID_KEYS, id_keys(doc.id)):
                out[name] = key
        kinds = self.kinds
        for name, value in doc.fields.items():
            kind = kinds.get(name)
            if kind is None:
                raise OntologyError(
                    f"Search document {doc.id!r} has field {name!r}, which the mapping does not define.",
                    hint="Build documents with search.mapping.build_doc.",
                )
            if value is None:
                continue
            if kind is FieldKind.SOURCE:
                raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
                out[name] = base64.b64encode(raw).decode("ascii")
            elif type(value) is str:  # most values are text already: passed as they are
                out[name] = value
            elif isinstance(value, (list, tuple)):
                out[name] = list(map(str, value))
            else:
                out[name] = str(value)
        out[ID_FIELD] = doc.id
        out[TYPE_FIELD] = doc.type
        return EncodedDoc(doc.id, json_body(doc.id, out), self.form)


def _add(writer: tantivy.IndexWriter, doc: EncodedDoc) -> None:
    try:
        writer.add_json(doc.body)
    except ValueError as exc:
        raise StoreError(f"Tantivy refused search document {doc.id!r}: {exc}.",
                         hint="Rebuild the search index (`talentgraph reindex`).") from exc


# --- search helpers -----------------------------------------------------------------------------

PARALLEL_FACETS = True
"""Count facets on a worker thread while the page is collected (``TantivyIndex._search``)."""
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _facet_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2)),
                                           thread_name_prefix="tantivy-facets")
    return _POOL


_Page = list[tuple[float, tantivy.DocAddress, tantivy.Document | None]]


def _count(res: tantivy.SearchResult) -> int:
    # The stub file omits SearchResult.count, which the extension has (search(count=True)).
    return int(res.count)  # type: ignore[attr-defined]


def _by_id(searcher: tantivy.Searcher, q: tantivy.Query, offset: int, limit: int) -> tuple[int, _Page]:
    """Browsing: every match scores the same, so id order is the whole order (no stored reads)."""
    res = searcher.search(q, limit=max(limit, 1), count=True, order_by_field=ID_FIELD,
                          offset=offset, order=tantivy.Order.Asc)
    hits = res.hits[:limit]
    return _count(res), [(0.0, addr, None) for _key, addr in hits]


def _ranked(searcher: tantivy.Searcher, q: tantivy.Query, offset: int, limit: int, *,
            keyed: bool, schema: tantivy.Schema | None = None) -> tuple[int, _Page]:
    """Top hits by score, ties broken by id, in one search, or two when a tie runs past the first.

    Tantivy breaks score ties by document address, which changes with merges, so every tie group
    that overlaps the page is re-ordered by id (read from the ``ID_KEYS`` fast fields). The first
    search fetches ``OVERFETCH`` hits past the page; when the page's last score still ties at the end
    of that fetch, one more search completes the tie as far as the page needs (``_rest_of_tie``).
    ``schema``: the generation's, when it has the ``ID_KEYS``.
    """
    need = offset + limit
    if limit == 0:
        return _count(searcher.search(q, limit=1, count=True)), []
    fetch = need + max(limit, OVERFETCH)
    res = searcher.search(q, limit=fetch, count=True)
    hits: list[tuple[float, tantivy.DocAddress]] = res.hits
    total = _count(res)
    if offset >= len(hits):
        return total, []
    end = min(need, len(hits))
    if len(hits) == fetch and fetch < total and hits[-1][0] == hits[end - 1][0]:
        hits = _rest_of_tie(searcher, q, hits, end, total, schema if keyed else None)
    # Extend [offset, end) to whole tie groups (scores descend: bisect their negations, in C).
    neg = [-score for score, _addr in hits]
    lo, hi = bisect.bisect_left(neg, neg[offset]), bisect.bisect_right(neg, neg[end - 1])
    if hi - lo == end - offset and len(set(neg[lo:hi])) == hi - lo:
        return total, [(score, addr, None) for score, addr in hits[lo:hi]]  # no ties: the engine's order is the order
    group = hits[lo:hi]
    docs: dict[int, tantivy.Document] = {}
    keys = _tie_keys(searcher, group, keyed, docs)
    # A tie may hold thousands of members (a held concept scores the same for everyone who holds it):
    # only the page's part of it is ordered, by tuples compared in C.
    ranked = heapq.nsmallest(end - lo, zip(neg[lo:hi], keys, range(len(group))))
    return total, [(group[i][0], group[i][1], docs.get(i)) for _score, _key, i in ranked[offset - lo:]]


def _rest_of_tie(searcher: tantivy.Searcher, q: tantivy.Query, hits: list[tuple[float, tantivy.DocAddress]],
                 end: int, total: int, schema: tantivy.Schema | None) -> list[tuple[float, tantivy.DocAddress]]:
    """``hits`` (a first fetch, best first, ending inside the tie at ``end - 1``) with that tie
    completed as far as a page ending at ``end`` needs.

    The page holds the ``k`` smallest ids of the whole tie; the fetch holds at least ``k`` of its
    members, so all ``k`` have ids at most the ``k``-th smallest fetched one, and one more search for
    the query restricted to ids up to it (ranges on the ``ID_KEYS``) finds every member the page can
    need — without collecting the rest of a tie that may span every match (a concept held by
    thousands scores the same for each). Tantivy returns tied hits in document order, and a rebuilt
    index holds documents in id order, so that bound is usually the page's own last id. Without
    ``schema`` (an index without the keys) every match is fetched."""
    window = min(total, MAX_RESULT_WINDOW)
    score = hits[end - 1][0]
    above = next(i for i, h in enumerate(hits) if h[0] == score)  # hits score higher than the tie
    if schema is not None:
        bound = sorted(_tie_keys(searcher, hits[above:], True, {}))[end - above - 1]
        within = tantivy.Query.const_score_query(_ids_at_most(schema, bound), 0.0)
        restricted = tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.Must, within)])
        tie = [h for h in searcher.search(restricted, limit=window, count=False).hits if h[0] == score]
        # A filter adds 0 to every score; should a scorer sum differently under it, members would go
        # missing: then the whole tie is collected, as without the keys.
        if len(tie) >= end - above:
            return hits[:above] + tie
        log.warning("tie completion by id range found %d of %d members; collecting every match",
                    len(tie), end - above)
    if window <= len(hits):
        return hits
    return hits + searcher.search(q, limit=window - len(hits), count=False, offset=len(hits)).hits


def _ids_at_most(schema: tantivy.Schema, key: tuple[int, int, int, str]) -> tantivy.Query:
    """Documents whose id is at most the one ``key`` (``_tie_keys``) stands for, and some more: those
    whose first 16 bytes are at most its first 16 bytes."""
    k0, k1 = ID_KEYS[0], ID_KEYS[1]

    def at_most(name: str, value: int, *, strictly: bool = False) -> tantivy.Query:
        return tantivy.Query.range_query(schema, name, tantivy.FieldType.Unsigned, upper_bound=value,
                                         include_upper=not strictly)

    same_head = tantivy.Query.boolean_query([
        (tantivy.Occur.Must, tantivy.Query.range_query(schema, k0, tantivy.FieldType.Unsigned, lower_bound=key[0],
                                                       upper_bound=key[0])),
        (tantivy.Occur.Must, at_most(k1, key[1])),
    ])
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, at_most(k0, key[0], strictly=True)),
                                        (tantivy.Occur.Should, same_head)])


def _tie_keys(searcher: tantivy.Searcher, group: list[tuple[float, tantivy.DocAddress]], keyed: bool,
              docs: dict[int, tantivy.Document]) -> Sequence[tuple[Any, ...]]:
    """Sort keys that order ``group`` by id: the ``ID_KEYS`` fast fields, then (only where those tie,
    or the index has none) the stored id; stored documents read on the way are kept in ``docs``. Keys
    are all of one length, so any two compare."""
    addrs = [addr for _score, addr in group]
    if keyed:
        columns = [searcher.fast_field_values(name, addrs) for name in ID_KEYS]
        if any(None in c for c in columns):  # not written by a keyed encoder: sorts first, as an empty id
            columns = [[v or 0 for v in c] for c in columns]
        prefix: list[tuple[int, ...]] = list(zip(*columns))
    else:
        prefix = [(0, 0, 0)] * len(addrs)
    if keyed and len(set(prefix)) == len(prefix):  # the usual case: every id differs in its first 24 bytes
        return prefix
    seen: dict[tuple[int, ...], int] = {}
    for p in prefix:
        seen[p] = seen.get(p, 0) + 1
    out: list[tuple[int, int, int, str]] = []
    for i, p in enumerate(prefix):
        tail = ""
        if seen[p] > 1 or not keyed:  # two ids share their first 24 bytes (or no keys): read them
            docs[i] = searcher.doc(addrs[i])
            tail = _doc_id(docs[i])
        out.append((p[0], p[1], p[2], tail))
    return out


def _doc_id(doc: tantivy.Document | None) -> str:
    value = doc.get_first(ID_FIELD) if doc is not None else None
    return str(value or "")


def _hit(searcher: tantivy.Searcher, addr: tantivy.DocAddress, score: float, doc: tantivy.Document | None) -> RawHit:
    if doc is None:
        doc = searcher.doc(addr)
    stored: dict[str, Any] = {TYPE_FIELD: doc.get_first(TYPE_FIELD)}
    src = doc.get_first(SOURCE_FIELD)
    if src is not None:
        stored[SOURCE_FIELD] = bytes(src).decode("utf-8")
    return RawHit(id=_doc_id(doc), score=float(score), stored=stored)


def _facets(searcher: tantivy.Searcher, q: tantivy.Query, names: Sequence[str], size: int) -> dict[str, list[tuple[str, int]]]:
    if not names:
        return {}
    aggs = {f"f{i}": {"terms": {"field": name, "size": size}} for i, name in enumerate(names)}
    result = searcher.aggregate(q, aggs)
    out: dict[str, list[tuple[str, int]]] = {}
    for i, name in enumerate(names):
        buckets = result.get(f"f{i}", {}).get("buckets", [])
        pairs = [(str(b["key"]), int(b["doc_count"])) for b in buckets]
        out[name] = sorted(pairs, key=lambda kv: (-kv[1], kv[0]))
    return out


__all__ = ["JsonEncoder", "TantivyIndex", "build_schema"]
