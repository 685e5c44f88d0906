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
from collections.abc import AsyncIterator
from json.encoder import encode_basestring
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
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder for every line
_encode = _JSON.encode


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
        if page.events:
            access.returned_ids(returned_ids(page.events, feed.ontology))
            yield _page_bytes(page)
            sent += len(page.events)
        if not page.has_more or (limit is not None and sent >= limit):
            break
        try:
            page = await anyio.to_thread.run_sync(lambda: feed.page(view, page.cursor, types=types,
                                                                    first=_page_size(limit, sent), bulk=True))
        except Exception as exc:  # the stream has begun: say so in it, with the last good cursor already sent
            log.exception("The change feed stopped after %d events", sent)
            message = exc.message if isinstance(exc, TalentgraphError) else "The change log could not be read."
            yield _line({"op": "error", "message": message, "cursor": page.cursor.encode(), "events": sent})
            return
    yield _line({"op": "checkpoint", "cursor": page.cursor.encode(), "seq": page.seq, "headSeq": page.head_seq,
                 "snapshot": snapshot, "complete": not page.has_more, "events": sent})


def _event_line(e: Event) -> str:
    """``_JSON.encode(e.as_json())`` and a newline, formatted rather than built as a dict and encoded: the same
    text (every field but ``data`` is an int, a string or None, encoded as the encoder does; ``data`` goes
    through the encoder), at a third of the cost per event of a bulk catch-up. ``tests/unit`` compares them."""
    ends = f',"from":{_str(e.from_id)},"to":{_str(e.to_id)}' if e.kind == "rel" else ""
    return (f'{{"seq":{int(e.seq)},"op":{_str(e.op)},"kind":{_str(e.kind)},"type":{_str(e.type)},'
            f'"id":{_str(e.id)},"at":{_str(e.at)},"version":{int(e.version)}{ends},"data":{_encode(e.data)},'
            f'"cursor":{_str(e.cursor)}}}\n')


def _page_bytes(page: FeedPage) -> bytes:
    """A page's events as NDJSON lines."""
    return "".join(map(_event_line, page.events)).encode()


def _line(obj: dict[str, Any]) -> bytes:
    return (_JSON.encode(obj) + "\n").encode()
