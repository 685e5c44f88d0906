"""``GET /feed``: the change feed as NDJSON, for bulk catch-up and long pulls.

One JSON object per line: the events of ``feed/changes.py`` in commit order (``op`` upsert or
delete), then one ``{"op": "checkpoint", ...}`` line with the cursor to continue from. Without
``after`` the stream is the snapshot: every current record the caller's role may read, once.

- ``after``: a cursor from an event or a checkpoint;
- ``types``: comma-separated node or relationship types;
- ``limit``: at most this many events (default: everything up to the end of the log);
- ``wait``: seconds to wait for a change when there is none after the cursor (long pull, at most
  ``feed_max_wait``); the stream answers as soon as one is committed.

Errors found before the first line (a bad cursor, a type the role may not read, a cursor older than
the retention: 410 ``RESYNC_REQUIRED``) get the one error shape and a status; an error after the
stream has begun ends it with an ``{"op": "error", ...}`` line, the cursor of the last good event
having been sent with it.
"""

from __future__ import annotations

import json
import logging
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import AsyncIterator, Callable, Iterable
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from talentgraph.access.policy import RoleView
from talentgraph.access.scope import RequestAccess
from talentgraph.admin import error_body, error_response
from talentgraph.api.context import run_sync
from talentgraph.errors import BadQueryError, TalentgraphError
from talentgraph.feed.changes import BULK_FIRST, ChangeFeed, Cursor, Event, FeedPage, returned_ids
from talentgraph.feed.routes import ACCESS, Platform, caller

log = logging.getLogger("talentgraph.feed")

NDJSON = "application/x-ndjson"
POLL_SECONDS = 0.2
# Reads a stream's next page while the page before it is sent: the send waits for the client to take most of
# it (a bulk page is megabytes), time the next page's read would otherwise wait for. Shared by the streams
# of a process; beyond this many at once a read ahead waits for a thread, as reads without one would.
_AHEAD = ThreadPoolExecutor(max_workers=4, thread_name_prefix="feed-ahead")
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder for every line


def _value_encoder() -> Callable[[Any], str]:
    """``_JSON.encode`` for a dict or None. ``JSONEncoder.encode`` builds the C encoder afresh for every value,
    half its cost on an event's small ``data``; this one is built once, with ``_JSON``'s settings (no circular
    reference check: ``data`` is read from a store)."""
    if c_make_encoder is None:
        return _JSON.encode
    chunks = c_make_encoder(None, _JSON.default, encode_basestring, None, _JSON.key_separator,
                            _JSON.item_separator, _JSON.sort_keys, _JSON.skipkeys, _JSON.allow_nan)
    join = "".join

    def encode(value: Any) -> str:
        return join(chunks(value, 0))

    return encode


_encode = _value_encoder()


def _str(value: str | None) -> str:
    """A JSON string (or null), as ``_JSON`` writes it."""
    return "null" if value is None else encode_basestring(value)

_PARAMS = frozenset({"after", "types", "limit", "wait"})


def routes(platform: Platform) -> list[BaseRoute]:
    async def feed(request: Request) -> Response:
        try:
            return await _feed(platform, request)
        except TalentgraphError as exc:
            if exc.code == "RESYNC_REQUIRED":
                return error_body(410, exc.code, exc.message, exc.hint)
            return error_response(exc)

    return [Route("/feed", feed, methods=["GET"])]


def _int_param(request: Request, name: str, low: int, high: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadQueryError(f"{name}: {raw[:40]!r} is not a whole number.",
                            hint=f"Give {name} as a number from {low}" + (f" to {high}." if high else " up.")) from None
    if value < low or (high is not None and value > high):
        raise BadQueryError(f"{name} is {value}.", hint=f"Give {name} from {low}" + (f" to {high}." if high else " up."))
    return value


def _wait_param(request: Request, longest: float) -> float:
    raw = request.query_params.get("wait")
    if raw is None:
        return 0.0
    try:
        wait = float(raw)
    except ValueError:
        raise BadQueryError(f"wait: {raw[:40]!r} is not a number of seconds.",
                            hint=f"Give 0 to {longest:g} seconds.") from None
    if not math.isfinite(wait) or wait < 0 or wait > longest:
        raise BadQueryError(f"wait is {raw[:40]}.", hint=f"Give 0 to {longest:g} seconds (setting feed_max_wait).")
    return wait


async def _feed(platform: Platform, request: Request) -> Response:
    principal, view = caller(request, "feed")
    unknown = sorted(set(request.query_params) - _PARAMS)
    if unknown:
        raise BadQueryError(f"/feed has no parameter {unknown[0][:40]!r}.", hint="Parameters: after, types, limit, wait.")
    after_raw = request.query_params.get("after")
    cursor = Cursor.decode(after_raw) if after_raw else None
    types_raw = request.query_params.get("types")
    types = [t.strip() for t in types_raw.split(",") if t.strip()] if types_raw else None
    limit = _int_param(request, "limit", 1, None)
    wait = _wait_param(request, platform.settings.feed_max_wait)
    feed = ChangeFeed(platform.graph, platform.ontology, platform.settings.feed_retention)
    access = RequestAccess(principal, view, platform.graph, run_sync)
    access.operation = "feed"
    request.scope[ACCESS] = access
    # The first page is read before answering, so a bad cursor or type gets a status, not a broken stream.
    first = await run_sync(feed.page, view, cursor, types=types, first=_page_size(limit, 0), bulk=True)
    if not first.events and not first.has_more and wait > 0:
        first = await _long_pull(platform, feed, view, first, types, limit, wait)
    snapshot = cursor is None or cursor.scan is not None  # a snapshot, or one continued from its checkpoint
    return StreamingResponse(_lines(feed, view, access, first, snapshot, types, limit), media_type=NDJSON,
                             headers={"Cache-Control": "no-store"})


def _page_size(limit: int | None, sent: int) -> int:
    return BULK_FIRST if limit is None else max(1, min(BULK_FIRST, limit - sent))


async def _long_pull(platform: Platform, feed: ChangeFeed, view: RoleView, page: FeedPage, types: list[str] | None,
                     limit: int | None, wait: float) -> FeedPage:
    """Wait (polling the log's head, which is cheap) until an event for the caller commits or ``wait`` passes."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        await anyio.sleep(POLL_SECONDS)
        head = await anyio.to_thread.run_sync(platform.graph.last_seq)
        if head > page.cursor.seq:
            page = await anyio.to_thread.run_sync(lambda: feed.page(view, page.cursor, types=types,
                                                                    first=_page_size(limit, 0), bulk=True))
            if page.events or page.has_more:
                return page
    return page


async def _lines(feed: ChangeFeed, view: RoleView, access: RequestAccess, page: FeedPage, snapshot: bool,
                 types: list[str] | None, limit: int | None) -> AsyncIterator[bytes]:
    sent = 0
    while True:
        after = sent + len(page.events)
        ahead: Future[FeedPage] | None = None
        if page.has_more and (limit is None or after < limit):  # read on while this page is sent (``_AHEAD``)
            ahead = _AHEAD.submit(feed.page, view, page.cursor, types=types, first=_page_size(limit, after),
                                  bulk=True)
        if page.events:
            access.returned_ids(returned_ids(page.events, feed.ontology))
            try:
                yield _page_bytes(page)
            except BaseException:  # the client went away: the page read ahead is not wanted
                if ahead is not None:
                    ahead.cancel()
                raise
            sent = after
        if ahead is None:
            break
        try:
            page = await anyio.to_thread.run_sync(ahead.result)
        except Exception as exc:  # the stream has begun: say so in it, with the last good cursor already sent
            log.exception("The change feed stopped after %d events", sent)
            message = exc.message if isinstance(exc, TalentgraphError) else "The change log could not be read."
            yield _line({"op": "error", "message": message, "cursor": page.cursor.encode(), "events": sent})
            return
    yield _line({"op": "checkpoint", "cursor": page.cursor.encode(), "seq": page.seq, "headSeq": page.head_seq,
                 "snapshot": snapshot, "complete": not page.has_more, "events": sent})


def _event_lines(events: Iterable[Event]) -> str:
    """``_JSON.encode(e.as_json())`` and a newline per event, formatted rather than built as a dict and encoded:
    the same text (every field but ``data`` is an int, a string or None, encoded as the encoder does; ``data``
    goes through the encoder), at a fraction of the cost per event of a bulk catch-up. The fields up to the
    id, the same for a page's events of one type, are formatted once. ``tests/unit`` compares them."""
    heads: dict[tuple[int, str, str, str], str] = {}
    esc, encode = encode_basestring, _encode
    lines: list[str] = []
    append = lines.append
    for e in events:
        head = heads.get((e.seq, e.op, e.kind, e.type))
        if head is None:
            head = heads[(e.seq, e.op, e.kind, e.type)] = (
                f'{{"seq":{int(e.seq)},"op":{_str(e.op)},"kind":{_str(e.kind)},"type":{_str(e.type)},"id":')
        data = e.data
        body = "null" if data is None else "{}" if not data else encode(data)
        ends = f',"from":{_str(e.from_id)},"to":{_str(e.to_id)}' if e.kind == "rel" else ""
        append(f'{head}{"null" if e.id is None else esc(e.id)},"at":{"null" if e.at is None else esc(e.at)},'
               f'"version":{int(e.version)}{ends},"data":{body},'
               f'"cursor":{"null" if e.cursor is None else esc(e.cursor)}}}\n')
    return "".join(lines)


def _event_line(e: Event) -> str:
    """One event's line (``_event_lines``)."""
    return _event_lines((e,))


def _page_bytes(page: FeedPage) -> bytes:
    """A page's events as NDJSON lines."""
    return _event_lines(page.events).encode()


def _line(obj: dict[str, Any]) -> bytes:
    return (_JSON.encode(obj) + "\n").encode()
