"""The Starlette app: ``/graphql`` (API + offline playground), ``/health``, ``/static``, ``/admin/ingest``.

``create_app`` takes open ports, so the CLI, tests and any embedding decide which backends run.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from talentgraph.api.context import ApiContext, run_sync
from talentgraph.api.schema import build_schema
from talentgraph.config import Settings
from talentgraph.errors import TalentgraphError
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY, Ontology

if TYPE_CHECKING:
    from talentgraph.search.service import SearchService

log = logging.getLogger("talentgraph.server")

STATIC_DIR = Path(__file__).parent / "static"
PLAYGROUND = STATIC_DIR / "graphiql" / "playground.html"

IngestHook = Callable[..., Any]


class GraphQLApp(GraphQL):
    """Strawberry's ASGI view with our per-request context and our offline playground page."""

    def __init__(self, graph: GraphStore, search: "SearchService | None", settings: Settings,
                 ontology: Ontology) -> None:
        super().__init__(build_schema(ontology), graphql_ide="graphiql", allow_queries_via_get=True)
        self._graph, self._search, self._settings, self._ontology = graph, search, settings, ontology
        self._playground = PLAYGROUND.read_text(encoding="utf-8")

    async def get_context(  # type: ignore[override]
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ApiContext:
        return ApiContext(self._graph, self._search, self._settings, self._ontology)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._playground)


def create_app(
    graph: GraphStore,
    search: "SearchService | None",
    settings: Settings,
    *,
    on_ingest: IngestHook | None = None,
    ontology: Ontology = ONTOLOGY,
) -> Starlette:
    graphql = GraphQLApp(graph, search, settings, ontology)

    async def health(request: Request) -> JSONResponse:
        # Cheap on purpose (load balancers poll it): backend names and the change-log position only.
        body: dict[str, Any] = {"status": "ok", "graph": graph.capabilities.name,
                                "search": _search_backend(search)}
        try:
            body["last_seq"] = await run_sync(graph.last_seq)
        except Exception:
            log.exception("Health check could not read the graph's change log")
            return JSONResponse({**body, "status": "error"}, status_code=503)
        return JSONResponse(body)

    async def ingest(request: Request) -> JSONResponse:
        return await _ingest(request, on_ingest)

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    routes = [
        Route("/", home),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/health", health),
        Route("/admin/ingest", ingest, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return Starlette(routes=routes)


def _search_backend(search: "SearchService | None") -> str | None:
    if search is None:
        return None
    index = getattr(search, "index", None)
    caps = getattr(index, "capabilities", None)
    return getattr(caps, "name", None) or type(search).__name__


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _ingest(request: Request, on_ingest: IngestHook | None) -> JSONResponse:
    """Run an ingest job inside this process: LadybugDB allows one read-write process, which is us.

    Only loopback clients may call it: the body names files on this machine.
    """
    if not _is_loopback(request):
        return _error(403, "FORBIDDEN", "Ingest is only accepted from this machine (loopback).",
                      "Run `talentgraph ingest` on the server host.")
    if on_ingest is None:
        return _error(404, "NOT_FOUND", "This server was started without an ingest runner.",
                      "Start it with `talentgraph serve`, or run `talentgraph ingest` while no server runs.")
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("job"), str) or not body["job"]:
        return _error(400, "BAD_QUERY", f"Body {body!r} is not an ingest request.",
                      'Send JSON {"job": "/path/to/job.yaml", "input_dir": "/optional/dir", "dry_run": false}.')
    input_dir = body.get("input_dir")
    if input_dir is not None and not isinstance(input_dir, str):
        return _error(400, "BAD_QUERY", f"input_dir is {input_dir!r}.", "Give a directory path or leave it out.")
    try:
        summaries = await anyio.to_thread.run_sync(
            lambda: on_ingest(body["job"], input_dir, bool(body.get("dry_run", False)))
        )
    except TalentgraphError as exc:
        return _error(400, exc.code, exc.message, exc.hint)
    except Exception:
        log.exception("Ingest of %s failed", body["job"])
        return _error(500, "INTERNAL", "Internal server error", "See the server log for the traceback.")
    return JSONResponse({"summaries": summaries})


def _error(status: int, code: str, message: str, hint: str | None) -> JSONResponse:
    return JSONResponse({"error": message, "hint": hint, "code": code}, status_code=status)


__all__ = ["create_app", "GraphQLApp"]
