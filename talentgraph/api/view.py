"""GraphQL over HTTP, per https://graphql.github.io/graphql-over-http/ — one error shape for every failure.

``GraphQLView`` serves one schema (the server makes one per role, behind authentication; the view
knows nothing of callers). Every answer, including a refused request, is a GraphQL response
``{"errors": [{"message", "extensions": {"code", "hint"?}}]}``; nothing is answered in plain text.

Media type (``Accept``): ``application/graphql-response+json`` and ``application/json`` are served,
the highest quality wins, an explicitly named type beats a wildcard, and ``*/*`` or no ``Accept``
means ``application/graphql-response+json`` (the spec's default since 2025-01-01). A client that
accepts neither gets 406.

Status codes (graphql-response+json / application/json):

- executed, ``data`` present (even null, with field errors): 200 / 200;
- request errors — parse, validation, limits on the document or its arguments, variable coercion,
  operation selection — answered without ``data``: 400 / 200 (the spec's legacy rule for
  application/json); a bug before execution: 500 / 200;
- not a well-formed request (malformed JSON, a JSON array (batching), a non-object, no ``query``,
  parameters of the wrong type): 400 BAD_REQUEST under both;
- a POST body that is not ``application/json`` in UTF-8: 415 UNSUPPORTED_MEDIA_TYPE;
- body, query text or variables over their size limit: 413 REQUEST_TOO_LARGE (checked before the
  body is read to the end or parsed);
- a mutation over GET (the spec's MUST) or a method other than GET/POST: 405 METHOD_NOT_ALLOWED
  with ``Allow``;
- an Accept header that excludes both JSON types: 406 NOT_ACCEPTABLE;
- the request deadline passed: 504 DEADLINE_EXCEEDED under both.

The deadline answer is 504 under both media types: the request was cut off, so no GraphQL result
was produced (the spec's "errors that completely prevent the generation of a well-formed GraphQL
response" get the fitting status), and gRPC's DEADLINE_EXCEEDED maps to 504 as well. 503 would
tell clients and load balancers the server is unavailable or overloaded; it is not, and
``/health`` answers 503 for exactly that.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from talentgraph.api.context import ApiContext, deadline
from talentgraph.api.errors import INTERNAL_MESSAGE, shape_error
from talentgraph.api.limits import RequestLimits
from talentgraph.errors import TalentgraphError

log = logging.getLogger("talentgraph.api")

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
_SERVED = (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON)  # on a tie, the first wins

# Status of a response without ``data``, by error code: under both media types (not a GraphQL
# request error, but the request cut off or refused), and under graphql-response+json only (any
# other code: 400, a request the client can fix; application/json: 200, the spec's legacy rule).
_STATUS_ALWAYS = {"DEADLINE_EXCEEDED": 504, "UNAUTHENTICATED": 401, "FORBIDDEN": 403}
_STATUS_GRAPHQL_RESPONSE = {"INTERNAL": 500}

ContextGetter = Callable[[Request], Awaitable[ApiContext]]


class RequestError(TalentgraphError):
    """A request refused before GraphQL sees it; it carries its HTTP status."""

    def __init__(self, status: int, code: str, message: str, *, hint: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class _Params:
    """A well-formed GraphQL-over-HTTP request."""

    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in, or None when the client accepts neither JSON type (406).

    A client that names neither type (no Accept, ``*/*``, ``application/*``) is taken to be a legacy
    client and gets ``application/json`` with its 200-for-errors status codes, as the GraphQL over
    HTTP spec recommends and graphql-http's audit checks (tests/integration/test_graphql_http_conformance.py);
    naming ``application/graphql-response+json`` gets it, with the spec's 4xx codes.
    """
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media:
            ranges.append((media.lower(), q))
    best: tuple[float, int, int] | None = None
    chosen = None
    for preference, candidate in enumerate(_SERVED):
        kind = candidate.split("/")[0]
        specificity, quality = 0, 0.0
        for media, q in ranges:
            s = 3 if media == candidate else 2 if media == f"{kind}/*" else 1 if media == "*/*" else 0
            if s > specificity:
                specificity, quality = s, q
        if specificity and quality > 0:
            # A wildcard alone does not choose the newer type: only naming it does.
            rank = (quality, specificity, preference if specificity < 3 else -preference)
            if best is None or rank > best:
                best, chosen = rank, candidate
    return chosen


def error_body(message: str, code: str, hint: str | None = None, **extensions: object) -> dict[str, Any]:
    """The GraphQL error shape for one error raised outside GraphQL (``{"errors": [...]}``)."""
    ext: dict[str, object] = {"code": code}
    if hint:
        ext["hint"] = hint
    ext.update(extensions)
    return {"errors": [{"message": message, "extensions": ext}]}


def error_response(request: Request, status: int, code: str, message: str, *, hint: str | None = None,
                   headers: Mapping[str, str] | None = None) -> Response:
    """A refused request in the GraphQL error shape, in the media type the client accepts.

    For callers in front of the view too (authentication answering 401/403 on ``/graphql``).
    """
    media = negotiate(request.headers.get("accept")) or APPLICATION_JSON
    return _json(error_body(message, code, hint), status, media, headers)


def _bad_request(message: str, hint: str | None = None) -> RequestError:
    return RequestError(400, "BAD_REQUEST", message, hint=hint)


def _json(body: Mapping[str, Any], status: int, media: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json_bytes(body), status_code=status,
                    headers={**(headers or {}), "content-type": f"{media}; charset=utf-8"})


def json_bytes(body: Mapping[str, Any]) -> bytes:
    """The body as compact UTF-8 JSON. orjson writes a search's response (twenty hits, their highlights and three
    facets of Chinese labels) in a tenth of the time ``json.dumps`` took, a tenth of that request; what it refuses
    (text that is not valid Unicode, an integer past 64 bits, a float that is not finite) goes to ``json.dumps``,
    which writes it as before (non-finite floats as JSON has no word for them: null)."""
    try:
        return orjson.dumps(body)
    except (TypeError, ValueError):
        return json.dumps(_finite(body), separators=(",", ":")).encode("utf-8")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class GraphQLView(GraphQL[ApiContext, None]):
    """Strawberry's ASGI view with our HTTP handling: limits, content negotiation, status codes,
    one error shape, the request deadline, and the offline playground page."""

    def __init__(self, schema: BaseSchema, context_getter: ContextGetter, *, playground_html: str,
                 limits: RequestLimits = RequestLimits()) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self._context_getter = context_getter
        self._playground_html = playground_html
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # no subscriptions: refuse the handshake (403)
            await WebSocket(scope, receive, send).close(code=1008)
            return
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> ApiContext:
        assert isinstance(request, Request)
        return await self._context_getter(request)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(self._playground_html)

    # --- one request --------------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        method = request.method
        accept = request.headers.get("accept")
        if method == "GET" and "query" not in request.query_params and "text/html" in (accept or "").lower():
            return await self.render_graphql_ide(request)
        media = negotiate(accept)
        try:
            if media is None:
                raise RequestError(406, "NOT_ACCEPTABLE", f"This endpoint answers in {' or '.join(_SERVED)}, "
                                   f"which the Accept header {accept!r} excludes.",
                                   hint=f"Send Accept: {GRAPHQL_RESPONSE_JSON}, {APPLICATION_JSON}.")
            if method not in ("GET", "POST"):
                raise RequestError(405, "METHOD_NOT_ALLOWED", f"GraphQL is served over GET and POST, not {method}.",
                                   hint="POST a JSON body, or GET with ?query=…", headers={"Allow": "GET, POST"})
            params = await (self._get_params(request) if method == "GET" else self._post_params(request))
        except RequestError as exc:
            log.debug("GraphQL request refused (%s): %s", exc.code, exc.message)
            return _json(error_body(exc.message, exc.code, exc.hint), exc.status, media or APPLICATION_JSON,
                         exc.headers)
        return await self._execute(request, params, media)

    async def _execute(self, request: Request, params: _Params, media: str) -> Response:
        # Over POST every operation type reaches validation, which names what the schema lacks.
        allowed = {OperationType.QUERY} if request.method == "GET" else set(OperationType)
        seconds = self.limits.deadline_seconds
        try:
            with deadline(seconds), anyio.fail_after(seconds):
                context = await self._context_getter(request)
                result = await self.schema.execute(
                    params.query, variable_values=params.variables, context_value=context,
                    operation_name=params.operation_name, allowed_operation_types=allowed,
                    operation_extensions=params.extensions)
        except TimeoutError:
            return _json(error_body(
                f"The request ran past its {seconds:g} s deadline and was stopped.", "DEADLINE_EXCEEDED",
                "Ask for less at once: smaller `first` on nested fields, fewer relationships, narrower filters; "
                "or page through the results."), 504, media)
        except InvalidOperationTypeError as exc:  # only GET restricts the operation type
            kind = exc.operation_type.value.capitalize()
            return _json(error_body(f"{kind} operations cannot be sent with GET.", "METHOD_NOT_ALLOWED",
                                    "Send them with POST."), 405, media, {"Allow": "POST"})
        except CannotGetOperationTypeError as exc:
            result = ExecutionResult(data=None, errors=[GraphQLError(exc.as_http_error_reason())])
        except TalentgraphError as exc:  # from the context getter
            result = ExecutionResult(data=None, errors=[GraphQLError(exc.message, original_error=exc)])
        except Exception as exc:  # a bug outside strawberry's own error handling
            log.exception("GraphQL request failed before execution")
            result = ExecutionResult(data=None, errors=[GraphQLError(INTERNAL_MESSAGE, original_error=exc)])
        return self._result_response(result, media)

    def _result_response(self, result: ExecutionResult, media: str) -> Response:
        errors = [shape_error(e) for e in result.errors or ()]
        formatted = [e.formatted for e in errors]
        # A request error (parse, validation, limits, variables, operation) is raised before
        # execution: no data, and no error has a path. A field error always has one.
        request_error = result.data is None and bool(errors) and all(e.path is None for e in errors)
        body: dict[str, Any] = {} if request_error else {"data": result.data}
        if formatted:
            body["errors"] = formatted
        if result.extensions:
            body["extensions"] = result.extensions
        status = 200
        if request_error:
            codes = [str((e.extensions or {}).get("code")) for e in errors]
            if any(c in _STATUS_ALWAYS for c in codes):
                status = max(_STATUS_ALWAYS.get(c, 0) for c in codes)
            elif media == GRAPHQL_RESPONSE_JSON:
                status = max(_STATUS_GRAPHQL_RESPONSE.get(c, 400) for c in codes)
        return _json(body, status, media)

    # --- parameters ---------------------------------------------------------------------------------

    async def _get_params(self, request: Request) -> _Params:
        qp = request.query_params
        variables_text = qp.get("variables") or None
        extensions_text = qp.get("extensions") or None
        if variables_text is not None and len(variables_text.encode()) > self.limits.max_variables_bytes:
            raise self._too_large("'variables' object", len(variables_text.encode()), self.limits.max_variables_bytes)
        return self._params({
            "query": qp.get("query"),
            "operationName": qp.get("operationName") or None,  # empty means absent (spec)
            "variables": None if variables_text is None else self._decode(variables_text, "variables"),
            "extensions": None if extensions_text is None else self._decode(extensions_text, "extensions"),
        }, variables_checked=True)

    async def _post_params(self, request: Request) -> _Params:
        content_type = request.headers.get("content-type", "")
        media, *params = (p.strip().lower() for p in content_type.split(";"))
        charset = next((p.partition("=")[2].strip('"') for p in params if p.startswith("charset=")), "utf-8")
        if media != APPLICATION_JSON or charset.replace("-", "") != "utf8":
            raise RequestError(415, "UNSUPPORTED_MEDIA_TYPE",
                               f"A GraphQL POST body must be application/json in UTF-8, not {content_type!r}.",
                               hint='Send Content-Type: application/json and a body like {"query": "{ … }"}.')
        body = await self._read_body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError(400, "BAD_REQUEST", "The request body is not valid UTF-8.",
                               hint="Encode the JSON body in UTF-8.") from None
        return self._params(self._decode(text, "body"), variables_checked=False)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.limits.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                raise RequestError(400, "BAD_REQUEST", f"Content-Length {declared!r} is not a number.")
            if int(declared) > limit:
                raise self._too_large("body", int(declared), limit)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise self._too_large("body", size, limit)
            chunks.append(chunk)
        return b"".join(chunks)

    def _decode(self, text: str, what: str) -> Any:
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise RequestError(400, "BAD_REQUEST", f"The request {what} is not valid JSON.",
                               hint='Send a JSON object like {"query": "{ … }", "variables": {…}}.') from None

    def _params(self, data: Any, *, variables_checked: bool) -> _Params:
        if isinstance(data, list):
            raise RequestError(400, "BAD_REQUEST", "Batched requests (a JSON array) are not supported.",
                               hint="Send one operation per request; a document may hold several fields.")
        if not isinstance(data, dict):
            raise _bad_request(f"The request body must be a JSON object, not {type(data).__name__}.",
                               'Send {"query": "{ … }", "variables": {…}, "operationName": "…"}.')
        query = data.get("query")
        if query is None:
            raise _bad_request("The request has no query.", 'Send {"query": "{ … }"} (POST) or ?query=… (GET).')
        if not isinstance(query, str):
            raise _bad_request(f"query must be a string, not {type(query).__name__}.")
        if len(query) > (limit := self.limits.max_query_chars):
            raise RequestError(413, "REQUEST_TOO_LARGE",
                               f"The query has {len(query):,} characters; the limit is {limit:,}.",
                               hint="Send the query without long comments or padding; fetch large sets with "
                                    "variables and paging.")
        operation_name = data.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            raise _bad_request(f"operationName must be a string, not {type(operation_name).__name__}.")
        for key in ("variables", "extensions"):
            if data.get(key) is not None and not isinstance(data[key], dict):
                raise _bad_request(f"{key} must be a JSON object, not {type(data[key]).__name__}.",
                                   f'Send "{key}": {{"name": value}}, or leave it out.')
        variables = data.get("variables")
        if variables is not None and not variables_checked:
            try:
                size = len(json.dumps(variables, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "replace"))
            except RecursionError:
                raise _bad_request("The request's variables nest too deeply.",
                                   "Filters need a few levels of objects and lists, not hundreds.") from None
            if size > self.limits.max_variables_bytes:
                raise self._too_large("'variables' object", size, self.limits.max_variables_bytes)
        return _Params(query, operation_name or None, variables, data.get("extensions"))

    @staticmethod
    def _too_large(what: str, size: int, limit: int) -> RequestError:
        return RequestError(413, "REQUEST_TOO_LARGE", f"The request {what} is {size:,} bytes; the limit is {limit:,}.",
                            hint="Send less at once: shorter lists in variables (an `in` filter takes up to 1,000 "
                                 "values), or several requests.")


__all__ = ["APPLICATION_JSON", "GRAPHQL_RESPONSE_JSON", "GraphQLView", "RequestError", "error_body",
           "error_response", "negotiate"]
