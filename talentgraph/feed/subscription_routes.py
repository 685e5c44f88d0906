"""``/ngsi-ld/v1/subscriptions``: create, list, read and delete NGSI-LD subscriptions (CIM 009 clause 6.10-6.11).

Any role that reads entities may subscribe; a subscription is its owner's (admins see all), and its
notifications carry what the owner's role may read (``feed/notifier.py``). Errors are ProblemDetails
(``feed/ngsild/errors.py``), as on the rest of the NGSI-LD API.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from talentgraph.api.context import run_sync
from talentgraph.errors import TalentgraphError
from talentgraph.feed.changes import CLOCK_MARGIN, Cursor
from talentgraph.feed.ngsild.errors import NgsiLdError, bad_request, problem_response
from talentgraph.feed.routes import Platform, caller
from talentgraph.feed.subscriptions import MAX_BODY, Subscription, SubscriptionStore, parse_subscription

BASE = "/ngsi-ld/v1/subscriptions"
_BODY_TYPES = ("application/json", "application/ld+json")
MAX_LIMIT = 1000


def routes(platform: Platform) -> list[BaseRoute]:
    store = platform.subscriptions

    async def collection(request: Request) -> Response:
        try:
            if store is None:
                raise NgsiLdError("OperationNotSupported", "This server keeps no subscriptions.")
            if request.method == "POST":
                return await _create(platform, store, request)
            if request.method == "GET":
                return await _list(platform, store, request)
            raise NgsiLdError(405, f"{request.method} is not allowed on {BASE}; use GET or POST.",
                              headers={"Allow": "GET, POST"})
        except NgsiLdError as exc:
            return problem_response(exc)
        except TalentgraphError as exc:
            return problem_response(NgsiLdError("InternalError" if exc.code.startswith("STORE") else "BadRequestData",
                                                exc.message))

    async def item(request: Request) -> Response:
        try:
            if store is None:
                raise NgsiLdError("OperationNotSupported", "This server keeps no subscriptions.")
            sub_id = request.path_params["sub_id"]
            principal, _ = caller(request, f"subscription {request.method.lower()}")
            if request.method == "GET":
                sub = store.get(sub_id, principal)
                return JSONResponse(await _shown(platform, sub))
            if request.method == "DELETE":
                store.remove(sub_id, principal)
                return Response(status_code=204)
            raise NgsiLdError(405, f"{request.method} is not allowed on a subscription; use GET or DELETE.",
                              headers={"Allow": "GET, DELETE"})
        except NgsiLdError as exc:
            return problem_response(exc)

    return [Route(BASE, collection, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route(BASE + "/{sub_id:path}", item, methods=["GET", "DELETE", "PUT", "PATCH", "POST"])]


async def _create(platform: Platform, store: SubscriptionStore, request: Request) -> Response:
    principal, view = caller(request, "subscription create")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _BODY_TYPES:
        raise NgsiLdError(415 if media else "BadRequestData",
                          f"Content-Type {media or '(none)'} is not accepted; send application/json or "
                          "application/ld+json.")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise bad_request("body", f"{len(raw)} bytes", f"at most {MAX_BODY} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise NgsiLdError("InvalidRequest", "The body is not JSON.") from None
    if media == "application/ld+json" and isinstance(body, dict) and "@context" not in body:
        raise bad_request("@context", None, "an @context member in an application/ld+json body")
    head = await run_sync(platform.graph.last_seq)
    # Notifications start with the changes committed after this moment.
    start = Cursor(head, (dt.datetime.now(dt.UTC) - CLOCK_MARGIN).isoformat().replace("+00:00", "Z"))
    sub = parse_subscription(body, owner=principal, view=view, ontology=platform.ontology,
                             allowed_endpoints=platform.settings.notify_prefixes, cursor=start.encode())
    store.add(sub)
    return Response(status_code=201, headers={"Location": f"{BASE}/{sub.id}"})


async def _list(platform: Platform, store: SubscriptionStore, request: Request) -> Response:
    principal, _ = caller(request, "subscription list")
    limit = _int(request, "limit", 20, 0, MAX_LIMIT)
    offset = _int(request, "offset", 0, 0, None)
    subs = sorted(store.visible_to(principal), key=lambda s: s.created_at)
    page = subs[offset: offset + limit]
    headers = {"NGSILD-Results-Count": str(len(subs))} if request.query_params.get("count") == "true" else None
    return JSONResponse([await _shown(platform, s) for s in page], headers=headers)


def _int(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(name, raw, "a whole number") from None
    if value < low or (high is not None and value > high):
        if name == "limit" and high is not None and value > high:
            raise NgsiLdError("TooManyResults", f"limit is {value}; at most {high} subscriptions per page.")
        raise bad_request(name, raw, f"a number from {low}" + (f" to {high}" if high is not None else ""))
    return value


async def _shown(platform: Platform, sub: Subscription) -> dict[str, Any]:
    head = await run_sync(platform.graph.last_seq)
    seq = Cursor.decode(sub.cursor).seq if sub.cursor else 0
    oldest = None
    if seq < head:
        pending = await run_sync(lambda: platform.graph.changes(seq, limit=1))
        oldest = pending[0].ts if pending else None
    return sub.to_ngsi(head, oldest)
