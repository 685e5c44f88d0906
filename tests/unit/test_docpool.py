"""The document worker shares a sync's pieces with the main process: what it has not started comes back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from talentgraph.search import analysis, docpool
from talentgraph.search.docpool import DocBuilder, DocInput, build_here, pieces
from talentgraph.search.port import EncodedDoc, SearchDoc
from talentgraph.search.tantivy import TantivyIndex
from talentgraph.types import Node

pytestmark = pytest.mark.skipif(not DocBuilder.available(), reason="the document worker is forked")


def _venues(prefix: str, texts: list[str]) -> list[DocInput]:
    # The description is free text, cut by the segmenter: the entity names it learns change its tokens.
    return [(Node(f"ven:{prefix}{i}", "Venue", {"name": f"场所{prefix}{i}", "description": text}), None, ())
            for i, text in enumerate(texts)]


def test_pieces_split_a_chunk_and_keep_its_count() -> None:
    inputs = _venues("P", ["a", "b", "c", "d", "e"])
    assert [(len(p), k) for p, k in pieces(inputs, 7, 2)] == [(2, 2), (2, 2), (1, 3)]  # 7 records, 5 documents
    assert [(len(p), k) for p, k in pieces(inputs, 5, 5)] == [(5, 5)]
    assert [(len(p), k) for p, k in pieces([], 4, 2)] == [(0, 4)]  # a chunk of deleted records still counts


def test_what_the_worker_has_not_started_is_built_here_and_its_words_sent_again(tmp_path: Path) -> None:
    """Pieces queued behind a busy worker are taken back, last first, and built in this process; a word that only
    such a piece carried reaches the worker with the next piece it is given, so it still cuts names the same way."""
    index = TantivyIndex(tmp_path / "search")
    encode = index.encoder()
    builder = DocBuilder(encode)
    # A name jieba does not know, learned between two pieces; no other test may teach it first (the segmenter is
    # process-wide: a word known already would leave the lexicon as it was, and every piece could be taken back).
    word = "晨岚樱桃邻里坊"
    try:
        builder.submit(_venues("A", ["联洋社区文化中心"]), "a")
        assert builder._pool is not None
        # Holds the worker. The executor passes on at most two calls beyond the running one, so of the pieces
        # submitted after this the last two wait unstarted (all of them, should the worker not have started yet).
        builder._pool.submit(time.sleep, 2.0)
        for tag in "bcd":
            builder.submit(_venues(tag.upper(), ["花木图书馆"]), tag)
        assert analysis.add_words([word]) == 1
        builder.submit(_venues("E", [f"{word}活动室"]), "e")  # carries the word to the worker
        assert builder.queued() == 5
        drained = list(builder.drain())
        assert sorted(tag for _, tag in drained) == ["a", "b", "c", "d", "e"]
        # Taken back: the last piece, the only one handed over since the word was learned (the one before it would
        # be cut differently here now; see the next test).
        assert [tag for docs, tag in drained if isinstance(docs[0], SearchDoc)] == ["e"]
        assert builder.queued() == 0

        builder.submit(_venues("F", [f"{word}读书会"]), "f")
        deadline = time.monotonic() + 30
        got: list[tuple[list[EncodedDoc], object]] = []
        while not got and time.monotonic() < deadline:
            got = list(builder.finished())
            time.sleep(0.01)
        assert [tag for _, tag in got] == ["f"]
        here = build_here(_venues("F", [f"{word}读书会"]))
        assert word in here[0].fields["description"].split()  # cut as one word here: the worker must do the same
        assert got[0][0] == [encode(d) for d in here]
    finally:
        builder.close()
        index.close()


def test_a_piece_is_not_taken_back_once_this_process_learned_words_after_it(tmp_path: Path) -> None:
    """A piece is cut with the words known when it was handed over: once this process has learned more, building it
    here could cut it differently, so the worker builds it after all."""
    index = TantivyIndex(tmp_path / "search")
    builder = DocBuilder(index.encoder())
    try:
        builder.submit(_venues("G", ["联洋社区文化中心"]), "g")
        assert builder._pool is not None
        builder._pool.submit(time.sleep, 1.0)
        for tag in "hij":
            builder.submit(_venues(tag.upper(), ["暮雪花木邻里荟活动"]), tag)
        assert analysis.add_words(["暮雪花木邻里荟"]) == 1  # learned after every piece was handed over
        drained = list(builder.drain())
        assert sorted(tag for _, tag in drained) == ["g", "h", "i", "j"]
        assert all(isinstance(d, EncodedDoc) for docs, _ in drained for d in docs)  # all from the worker
    finally:
        builder.close()
        index.close()


def test_a_worker_started_early_builds_with_the_words_learned_after_its_start(tmp_path: Path) -> None:
    """``start`` forks the worker before anything is submitted (an ingest starts it before its jobs, while its
    process is small); names learned after that still reach it with the pieces, so its documents are cut as here."""
    index = TantivyIndex(tmp_path / "search")
    encode = index.encoder()
    builder = DocBuilder(encode)
    word = "霁月花木共享书房"  # a name no other test teaches
    try:
        builder.start()
        assert builder._pool is not None
        pids = set(builder._pool._processes)  # type: ignore[attr-defined]
        assert len(pids) == 1  # forked already
        assert analysis.add_words([word]) == 1
        inputs = _venues("K", [f"{word}周末开放", "花木图书馆"])
        builder.submit(inputs, "k")
        deadline = time.monotonic() + 30
        got: list[tuple[list[EncodedDoc], object]] = []
        while not got and time.monotonic() < deadline:  # from the worker (drain could take the piece back)
            got = list(builder.finished())
            time.sleep(0.01)
        assert set(builder._pool._processes) == pids  # type: ignore[attr-defined]  # no second fork
        here = build_here(inputs)
        assert word in here[0].fields["description"].split()
        assert got == [([encode(d) for d in here], "k")]  # built by the worker, the word known to it
    finally:
        builder.close()
        index.close()


def test_a_worker_forked_while_the_collector_is_held_runs_its_own(tmp_path: Path) -> None:
    """A sync holds the cyclic collector while it builds a chunk (``memory.collector_held``) and may fork the worker
    then: the worker, which builds documents for the whole sync, turns its own collector on."""
    import gc

    from talentgraph.memory import collector_held

    index = TantivyIndex(tmp_path / "search")
    builder = DocBuilder(index.encoder())
    try:
        with collector_held():
            builder.start()
            assert not gc.isenabled()
        assert builder._pool is not None
        assert builder._pool.submit(gc.isenabled).result(timeout=30) is True
    finally:
        builder.close()
        index.close()


def test_the_worker_collector_leaves_alone_what_it_inherited(tmp_path: Path) -> None:
    """The worker is forked from a process that may hold gigabytes of objects; its collector walks only the objects
    the worker makes (``memory.frozen_for_fork``), and the parent's collector is as it was."""
    import gc

    inherited = [[i] for i in range(50_000)]  # tracked objects the parent holds at the fork
    index = TantivyIndex(tmp_path / "search")
    builder = DocBuilder(index.encoder())
    try:
        builder.start()
        assert gc.get_freeze_count() == 0
        assert builder._pool is not None
        assert builder._pool.submit(gc.get_freeze_count).result(timeout=30) >= len(inherited)
    finally:
        builder.close()
        index.close()


def _kill_worker(builder: DocBuilder) -> None:
    import os
    import signal

    assert builder._pool is not None
    pids = list(builder._pool._processes)  # the one worker
    assert len(pids) == 1
    os.kill(pids[0], signal.SIGKILL)  # as the kernel's out-of-memory killer would
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the executor notices the death in its manager thread
        try:
            builder._pool.submit(int).result(timeout=5)
        except Exception:  # noqa: BLE001 - BrokenProcessPool, from submit or the future
            return
        time.sleep(0.05)
    raise AssertionError("the executor did not notice its worker die")


def test_a_worker_that_dies_holding_pieces_leaves_them_to_this_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker only saves time: killed with pieces in hand, they and every later piece are built here, in
    submission order, as this process builds them, and the log says why."""
    index = TantivyIndex(tmp_path / "search")
    encode = index.encoder()
    builder = DocBuilder(encode)
    try:
        builder.submit(_venues("K", ["联洋社区文化中心", "花木图书馆"]), "k")
        assert builder._pool is not None
        builder._pool.submit(time.sleep, 2.0)  # holds the worker: the next piece waits in its hands
        builder.submit(_venues("L", ["大拇指广场"]), "l")
        _kill_worker(builder)
        builder.submit(_venues("M", ["中文角"]), "m")  # after the death: built here too
        got = list(builder.finished())
        assert [tag for _, tag in got] == ["k", "l", "m"]
        assert builder.lost and builder.queued() == 0
        assert "search document worker process ended abruptly" in caplog.text
        texts = {"K": ["联洋社区文化中心", "花木图书馆"], "L": ["大拇指广场"], "M": ["中文角"]}
        for (docs, tag), prefix in zip(got, "KLM", strict=True):
            built = [d if isinstance(d, EncodedDoc) else encode(d) for d in docs]
            assert built == [encode(d) for d in build_here(_venues(prefix, texts[prefix]))], tag
        builder.submit(_venues("N", ["东方路"]), "n")
        assert [tag for _, tag in builder.drain()] == ["n"]
    finally:
        builder.close()
        index.close()


def test_a_worker_that_died_before_the_first_piece_leaves_the_sync_to_this_process(tmp_path: Path) -> None:
    """Forked early (before an ingest's jobs) and killed while idle: the sync still completes, built here."""
    index = TantivyIndex(tmp_path / "search")
    builder = DocBuilder(index.encoder())
    try:
        builder.start()
        _kill_worker(builder)
        builder.submit(_venues("Q", ["联洋"]), "q")
        assert [(len(docs), tag) for docs, tag in builder.drain()] == [(1, "q")]
        assert builder.lost
    finally:
        builder.close()
        index.close()
