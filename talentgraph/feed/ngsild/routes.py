"""The NGSI-LD HTTP binding (CIM 009 clause 6), read operations only.

``GET /ngsi-ld/v1/entities``            Query Entities (6.4.3.2)
``GET /ngsi-ld/v1/entities/{entityId}`` Retrieve Entity (6.5.3.1)
``GET /ngsi-ld/v1/types``               Retrieve available entity types (6.25.3.1)
``GET /ngsi-ld/v1/types/{type}``        Retrieve entity type information (6.26.3.1)
``GET /ngsi-ld/v1/context.jsonld``      the JSON-LD @context our payloads use (``context.py``)

Content negotiation (6.3.6): ``application/json`` (the context linked by a ``Link`` header) or
``application/ld+json`` (``@context`` in the body); anything else is 406. A request may name its
context with a ``Link`` header: this service fetches nothing, so only its own context or the ETSI core
context is accepted there (any other is 503 LdContextNotAvailable, as CIM 009 says for a context
that cannot be retrieved). Each failure is a ProblemDetails (``errors.py``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from talentgraph.access.records import readable_types
from talentgraph.api.context import run_sync
from talentgraph.errors import BadQueryError, DeadlineError, StoreBusyError, StoreError, TalentgraphError
from talentgraph.feed.ngsild.context import CONTEXT_PATH, JSONLD_CONTEXT_REL, NGSI_LD, context_document, names
from talentgraph.feed.ngsild.entities import render
from talentgraph.feed.ngsild.errors import NgsiLdError, bad_request, not_found, problem_response, unsupported
from talentgraph.feed.ngsild.geo import parse_geo
from talentgraph.feed.ngsild.ids import MAX_ID_LENGTH, is_uri
from talentgraph.feed.ngsild.lookup import EntityQuery, Found, Lookup
from talentgraph.feed.ngsild.pattern import compile_pattern
from talentgraph.feed.ngsild.query import parse_q
from talentgraph.feed.ngsild.typelist import type_info, type_list
from talentgraph.feed.routes import ACCESS, OPERATION, Platform, caller
from talentgraph.schema.ontology import Ontology

log = logging.getLogger("talentgraph.feed.ngsild")

BASE = "/ngsi-ld/v1"
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
MAX_PARAM_LENGTH = 8192
MAX_LIST_ITEMS = 1000
JSON, JSON_LD = "application/json", "application/ld+json"
RESULTS_COUNT = "NGSILD-Results-Count"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_:/#.\-]*$")  # a term or an IRI; nothing that could break out of one
_QUERY_PARAMS = frozenset({"type", "id", "idPattern", "q", "attrs", "georel", "geometry", "coordinates",
                           "geoproperty", "limit", "offset", "count", "options", "format", "local"})
_ENTITY_PARAMS = frozenset({"attrs", "options", "format"})
_TYPE_PARAMS = frozenset({"details"})


@dataclass
class Returned:
    """What the audit entry records of a response: the persons in it (``server.AccessMiddleware._record``)."""

    operation: str
    person_ids: list[str] = field(default_factory=list)


# --- request parsing ------------------------------------------------------------------------------


def _params(request: Request, allowed: frozenset[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            raise bad_request(name, value, f"one of the parameters {', '.join(sorted(allowed)) or '(none)'} "
                              "(this service implements the read subset of NGSI-LD)")
        if name in out:
            raise bad_request(name, value, f"{name} given once (join several values with commas)")
        if len(value) > MAX_PARAM_LENGTH:
            raise bad_request(name, value, f"at most {MAX_PARAM_LENGTH} characters")
        out[name] = value
    return out


def _names(param: str, value: str, ontology: Ontology, *, is_type: bool) -> tuple[str, ...]:
    if is_type and any(c in value for c in ";()"):
        raise unsupported(param, value, "the entity type selection language (; and parentheses)",
                          "give types as a comma list (entities here have one type each)")
    items = [v.strip() for v in re.split(r"[,|]" if is_type else r",", value)]
    if len(items) > MAX_LIST_ITEMS:
        raise bad_request(param, value, f"at most {MAX_LIST_ITEMS} names")
    n = names(ontology)
    out = []
    for item in items:
        if not item or len(item) > 256 or not _NAME.match(item):
            raise bad_request(param, item, "a comma list of names (letters, digits, _ ; or IRIs)")
        out.append(n.expand_type(item) if is_type else n.expand_attr(item))
    return tuple(out)


def _int(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw):
        raise bad_request(name, raw, "a whole number, 0 or more")
    return int(raw)


def _bool(params: dict[str, str], name: str) -> bool:
    raw = params.get(name, "false")
    if raw not in ("true", "false"):
        raise bad_request(name, raw, "true or false")
    return raw == "true"


def _key_values(params: dict[str, str]) -> bool:
    options = [o.strip() for o in params.get("options", "").split(",") if o.strip()]
    for o in options:
        if o not in ("keyValues", "normalized"):
            if o in ("sysAttrs", "concise", "entityMap", "splitEntities"):
                raise unsupported("options", o, f"the option {o}", "use keyValues or normalized")
            raise bad_request("options", o, "keyValues or normalized")
    fmt = params.get("format")
    if fmt is not None and fmt not in ("keyValues", "simplified", "normalized"):
        if fmt == "concise":
            raise unsupported("format", fmt, "the concise format", "use simplified (keyValues) or normalized")
        raise bad_request("format", fmt, "simplified (keyValues) or normalized")
    if "keyValues" in options and ("normalized" in options or fmt == "normalized"):
        raise bad_request("options", params.get("options"), "either keyValues or normalized, not both")
    return "keyValues" in options or fmt in ("keyValues", "simplified")


def _media_type(request: Request) -> str:
    """The representation to answer with (CIM 009 6.3.6): the acceptable type with the highest q."""
    header = request.headers.get("accept", "").strip()
    if not header:
        return JSON
    best: tuple[float, int, str] | None = None
    for order, part in enumerate(header.split(",")):
        media, *rest = [x.strip() for x in part.split(";")]
        quality = 1.0
        for r in rest:
            if r.startswith("q="):
                try:
                    quality = float(r[2:])
                except ValueError:
                    quality = 0.0
        media = media.lower()
        offered = {JSON: JSON, JSON_LD: JSON_LD, "application/*": JSON, "*/*": JSON}.get(media)
        if offered is None or quality <= 0:
            continue
        rank = (quality, -order, offered)
        if best is None or rank[:2] > best[:2]:
            best = rank
    if best is None:
        raise NgsiLdError(406, f"Accept: {header[:200]!r} names no representation this service offers; "
                          f"ask for {JSON} or {JSON_LD}.")
    return best[2]


def _check_request_context(request: Request) -> None:
    if "ngsild-tenant" in request.headers:
        raise NgsiLdError("NoMultiTenantSupport", "This service has one tenant; send no NGSILD-Tenant header.")
    link = request.headers.get("link")
    if not link or JSONLD_CONTEXT_REL not in link:
        return
    m = re.match(r"\s*<([^>]*)>", link)
    url = m.group(1) if m else ""
    if url.startswith(NGSI_LD) or url.split("?")[0].endswith(CONTEXT_PATH):
        return  # the core context or ours: terms we know without fetching anything
    raise NgsiLdError("LdContextNotAvailable", f"Link: the @context {url[:200]!r} is not one this service knows, and it "
                      f"fetches no contexts (it runs offline); link {CONTEXT_PATH} or the ETSI core context, "
                      "or use full IRIs.")


def _context_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + CONTEXT_PATH


def _respond(request: Request, body: Any, media: str, headers: dict[str, str] | None = None) -> JSONResponse:
    ctx = _context_url(request)
    out_headers = dict(headers or {})
    if media == JSON_LD:
        if isinstance(body, list):
            body = [{**item, "@context": ctx} for item in body]
        else:
            body = {**body, "@context": ctx}
    else:
        out_headers["Link"] = f'<{ctx}>; rel="{JSONLD_CONTEXT_REL}"; type="{JSON_LD}"'
    return JSONResponse(body, headers=out_headers, media_type=media)


def _entity_query(params: dict[str, str], ontology: Ontology) -> EntityQuery:
    has_filter = any(k in params for k in ("type", "id", "idPattern", "q", "georel", "attrs")) \
        or params.get("local") == "true"
    if not has_filter:
        raise NgsiLdError("BadRequestData", "Query Entities needs at least one of type, id, idPattern, q, georel or "
                          "attrs (CIM 009 5.7.2), e.g. ?type=Venue.")
    _bool(params, "local")
    ids = tuple(i.strip() for i in params["id"].split(",")) if "id" in params else None
    if ids is not None:
        if len(ids) > MAX_LIST_ITEMS:
            raise bad_request("id", params["id"], f"at most {MAX_LIST_ITEMS} ids")
        for i in ids:
            if not is_uri(i):
                raise bad_request("id", i, f"entity ids as URIs (urn:ngsi-ld:<Type>:<key>, at most {MAX_ID_LENGTH} characters)")
    count = _bool(params, "count")
    limit = _int(params, "limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise NgsiLdError("TooManyResults", f"limit: {limit} is more than this service's page size of {MAX_LIMIT}; "
                          f"ask for {MAX_LIMIT} or fewer and page with offset.")
    if limit == 0 and not count:
        raise bad_request("limit", 0, "a page size from 1 to 1000 (0 only together with count=true)")
    return EntityQuery(
        types=_names("type", params["type"], ontology, is_type=True) if "type" in params else None,
        ids=ids,
        id_pattern=compile_pattern(params["idPattern"]) if "idPattern" in params else None,
        q=parse_q(params["q"]) if "q" in params else None,
        geo=parse_geo(params.get("georel"), params.get("geometry"), params.get("coordinates"),
                      params.get("geoproperty")),
        attrs=_names("attrs", params["attrs"], ontology, is_type=False) if "attrs" in params else None,
        limit=limit,
        offset=_int(params, "offset", 0),
        count=count,
    )


# --- the endpoints --------------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[Response]]


def _endpoint(handler: Handler) -> Handler:
    """Every NGSI-LD route: GET only, and every failure answered as a ProblemDetails."""

    async def run(request: Request) -> Response:
        try:
            if request.method not in ("GET", "HEAD"):
                raise NgsiLdError(405, f"{request.method} is not offered: this service implements the read "
                                  "operations of NGSI-LD (GET).", headers={"Allow": "GET, HEAD"})
            return await handler(request)
        except NgsiLdError as exc:
            return problem_response(exc)
        except BadQueryError as exc:  # a value the store refused (e.g. a date it cannot read)
            return problem_response(NgsiLdError("BadRequestData", exc.message))
        except (StoreBusyError, StoreError, DeadlineError) as exc:
            log.warning("NGSI-LD %s failed in the store: %s", request.url.path, exc)
            return problem_response(NgsiLdError("InternalError", f"The graph store could not answer: {exc.message}",
                                                headers={"Retry-After": "1"}))
        except TalentgraphError as exc:
            return problem_response(NgsiLdError("BadRequestData", exc.message))
        except Exception:
            log.exception("NGSI-LD %s failed", request.url.path)
            return problem_response(NgsiLdError("InternalError", "The request failed inside the service; "
                                                "it has been logged."))
    return run


def routes(platform: Platform) -> list[BaseRoute]:
    ontology = platform.ontology
    graph = platform.graph
    names(ontology)  # the attribute-name clash check fails at start-up, not on the first request
    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]

    def audit(request: Request, found: Found) -> None:
        persons = [node.id for nt, node, _ in found.nodes if nt.name == "Person"]
        request.scope[ACCESS] = Returned(str(request.scope.get(OPERATION, "")), persons)

    async def query_entities(request: Request) -> Response:
        _, view = caller(request, "ngsi-ld query entities")
        _check_request_context(request)
        media = _media_type(request)
        params = _params(request, _QUERY_PARAMS)
        key_values = _key_values(params)
        eq = _entity_query(params, ontology)

        def work() -> tuple[Found, list[dict[str, Any]]]:
            lookup = Lookup(graph, ontology, view)
            found = lookup.query(eq)
            edges = lookup.edges(found.nodes)
            audit(request, found)
            return found, [render(ontology, nt, node, props, edges[node.id], attrs=eq.attrs, key_values=key_values)
                           for nt, node, props in found.nodes]
        found, body = await run_sync(work)
        headers = {RESULTS_COUNT: str(found.total)} if eq.count else {}
        return _respond(request, body, media, headers)

    async def retrieve_entity(request: Request) -> Response:
        _, view = caller(request, "ngsi-ld retrieve entity")
        _check_request_context(request)
        media = _media_type(request)
        params = _params(request, _ENTITY_PARAMS)
        key_values = _key_values(params)
        entity_id = request.path_params["entity_id"]
        if not is_uri(entity_id):
            raise bad_request("entityId", entity_id, f"an entity id as a URI (urn:ngsi-ld:<Type>:<key>, at most "
                              f"{MAX_ID_LENGTH} characters)")
        attrs = _names("attrs", params["attrs"], ontology, is_type=False) if "attrs" in params else None

        def work() -> dict[str, Any] | None:
            lookup = Lookup(graph, ontology, view)
            hit = lookup.one(entity_id)
            if hit is None:
                return None
            audit(request, Found([hit]))
            return render(ontology, *hit, lookup.edges([hit])[hit[1].id], attrs=attrs, key_values=key_values)
        entity = await run_sync(work)
        if entity is None:
            raise not_found(entity_id)
        return _respond(request, entity, media)

    async def list_types(request: Request) -> Response:
        _, view = caller(request, "ngsi-ld types")
        _check_request_context(request)
        media = _media_type(request)
        details = _bool(_params(request, _TYPE_PARAMS), "details")
        return _respond(request, await run_sync(type_list, graph, view, details), media)

    async def entity_type(request: Request) -> Response:
        _, view = caller(request, "ngsi-ld type info")
        _check_request_context(request)
        media = _media_type(request)
        _params(request, frozenset())
        name = request.path_params["type_name"]
        if len(name) > 256 or not _NAME.match(name):
            raise bad_request("type", name, "an entity type name or IRI")
        wanted = names(ontology).expand_type(name)
        node_type = next((t for t in readable_types(view) if t.name == wanted), None)
        info = None if node_type is None else await run_sync(type_info, graph, view, node_type)
        if info is None:
            raise NgsiLdError("ResourceNotFound", f"No entity type {name[:120]!r} is readable here (no such type, "
                              "no entity of it, or the caller's role may not read it).")
        return _respond(request, info, media)

    async def context(request: Request) -> Response:
        # Served without a key (server.UNGUARDED): term definitions only, the same for every role, and
        # JSON-LD processors follow the Link header without credentials.
        return JSONResponse(context_document(ontology), media_type=JSON_LD)

    return [
        Route(f"{BASE}/entities", _endpoint(query_entities), methods=methods),
        Route(f"{BASE}/entities/{{entity_id:path}}", _endpoint(retrieve_entity), methods=methods),
        Route(f"{BASE}/types", _endpoint(list_types), methods=methods),
        Route(f"{BASE}/types/{{type_name:path}}", _endpoint(entity_type), methods=methods),
        Route(CONTEXT_PATH, _endpoint(context), methods=methods),
    ]
