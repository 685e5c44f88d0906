"""The Starlette app: ``/graphql`` (API + offline playground), ``/health``, ``/static``, ``/admin/*``, and the
pages for people (``web/``: the staff search page at ``/``, signed in with a session cookie).

``create_app`` takes open ports, so the CLI, tests and any embedding decide which backends run.
Every request but ``/health``, static assets and the playground page passes the access middleware:
Host check, authentication (``access.gate``), then the role's own GraphQL schema, and one audit
entry per request after the response (``access.audit``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talentgraph.access.gate import CHALLENGE, Gate
from talentgraph.access.policy import POLICY
from talentgraph.access.principal import Principal
from talentgraph.admin import AdminOps, admin_routes, error_body
from talentgraph.api.context import ApiContext, run_sync
from talentgraph.api.limits import QueryLimits, RequestLimits
from talentgraph.api.schema import build_schema
from talentgraph.api.view import GraphQLView, error_response
from talentgraph.config import Settings
from talentgraph.errors import TalentgraphError, UnauthenticatedError
from talentgraph.feed.notifier import Notifier
from talentgraph.feed.ngsild.context import CONTEXT_PATH
from talentgraph.feed.routes import ACCESS, OPERATION, PRINCIPAL, Platform, platform_routes
from talentgraph.feed.subscriptions import SubscriptionStore
from talentgraph.web import Pages, web_routes
from talentgraph.web.session import SESSION, PageSessions
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY, Ontology

if TYPE_CHECKING:
    from talentgraph.access.audit import AuditLog
    from talentgraph.search.service import SearchService

log = logging.getLogger("talentgraph.server")

STATIC_DIR = Path(__file__).parent / "static"
PLAYGROUND = STATIC_DIR / "graphiql" / "playground.html"
# The NGSI-LD @context holds term definitions only, and JSON-LD processors follow it without a key.
# /explore/ pages hold no record data: their script reads /graphql with the key typed into the page.
UNGUARDED = ("/health", "/static/", "/web-static/", "/explore/", CONTEXT_PATH)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class GraphQLApp(GraphQLView):
    """One role's schema behind our HTTP handling (``api/view.py``), with the per-request context."""

    def __init__(self, schema: Any, graph: GraphStore, search: "SearchService | None", settings: Settings,
                 ontology: Ontology, playground: str, audit: "AuditLog | None" = None) -> None:
        async def context(request: Request) -> ApiContext:
            principal = request.scope.get(PRINCIPAL)
            if not isinstance(principal, Principal):
                raise UnauthenticatedError("No caller was authenticated for this request.")
            ctx = ApiContext(graph, search, settings, principal, ontology, audit=audit)
            request.scope[ACCESS] = ctx.access  # the audit reads which persons were returned
            return ctx

        super().__init__(schema, context, playground_html=playground, limits=request_limits(settings))


def request_limits(settings: Settings) -> RequestLimits:
    return RequestLimits(max_body_bytes=settings.max_body_bytes, deadline_seconds=settings.request_deadline)


def query_limits(settings: Settings) -> QueryLimits:
    return QueryLimits(max_cost=settings.max_query_cost)


class RoleRouter:
    """Sends each GraphQL request to the schema of its caller's role (built on first use, then kept)."""

    def __init__(self, graph: GraphStore, search: "SearchService | None", settings: Settings,
                 ontology: Ontology, audit: "AuditLog | None" = None) -> None:
        self._args = (graph, search, settings, ontology)
        self._audit = audit
        self._playground = PLAYGROUND.read_text(encoding="utf-8")
        self._apps: dict[str, GraphQLApp] = {}
        # One build at a time: the start-up prebuild (a thread) and a role's first request may race.
        self._building = threading.Lock()

    def app_for(self, role: str) -> GraphQLApp:
        app = self._apps.get(role)
        if app is None:
            with self._building:
                app = self._apps.get(role)
                if app is None:
                    graph, search, settings, ontology = self._args
                    app = GraphQLApp(build_schema(ontology, role=role, limits=query_limits(settings)), graph, search,
                                     settings, ontology, self._playground, self._audit)
                    self._apps[role] = app
        return app

    def prebuild(self) -> None:
        """Every role's schema (~0.5–0.8 s each), so that no role's first request waits for its own."""
        started = time.perf_counter()
        for role in POLICY.roles:
            self.app_for(role)
        log.info("GraphQL schemas of %d roles built in %.1f s", len(POLICY.roles), time.perf_counter() - started)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get(PRINCIPAL)
        if not isinstance(principal, Principal):
            # Only the playground page itself is served without a caller: it holds no data.
            await HTMLResponse(self._playground)(scope, receive, send)
            return
        await self.app_for(principal.role)(scope, receive, send)


def _logged(task: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            task()
        except Exception:  # a thread's error would go to stderr unlogged; the role's first request retries
            log.exception("Building the GraphQL schemas at start failed")
    return run


def _is_playground_page(scope: Scope) -> bool:
    if scope["method"] != "GET" or scope["path"] != "/graphql" or scope.get("query_string"):
        return False
    headers = dict(scope.get("headers") or [])
    return b"text/html" in headers.get(b"accept", b"") and b"authorization" not in headers


class AccessMiddleware:
    """Host check, authentication and the audit record around every guarded request."""

    def __init__(self, app: ASGIApp, gate: Gate, audit: "AuditLog | None", allowed_hosts: Sequence[str],
                 pages: PageSessions | None = None) -> None:
        self.app, self.gate, self.audit, self.pages = app, gate, audit, pages
        self.allowed_hosts = tuple(h.lower() for h in allowed_hosts)

    def _host_ok(self, scope: Scope) -> bool:
        if "*" in self.allowed_hosts:
            return True
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1").strip().lower()
        name = host[1:].split("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0] if ":" in host else host
        return name in self.allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if not self._host_ok(scope):
            # DNS rebinding: a page on another origin reaching this server by a name it does not answer to.
            await error_body(421, "MISDIRECTED", "This server does not answer to that Host name.",
                             "Use the address the server was configured with (setting allowed_hosts).")(
                scope, receive, send)
            return
        if path.startswith(UNGUARDED) or _is_playground_page(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        client = scope.get("client")
        if self.pages is not None and self.pages.covers(path) and b"authorization" not in headers:
            # The staff page's own paths: the sign-in session is the credential, re-checked against
            # the key store on every request; the request is then audited like any other below.
            found = self.pages.find_in(scope)
            if found is None:
                if self.pages.public(scope):  # the sign-in form and its POST: they show no data
                    await self.app(scope, receive, send)
                    return
                self._record(scope, None, 401, started, outcome="unauthenticated", detail="SESSION")
                await self.pages.refuse(scope)(scope, receive, send)
                return
            scope[SESSION], principal = found
            await self._serve(scope, receive, send, principal, started)
            return
        try:
            authorization = headers.get(b"authorization", b"").decode("latin-1") or None
            host = client[0] if client else None
            if self.gate.blocks(authorization):
                principal = await anyio.to_thread.run_sync(self.gate.authenticate, authorization, host)
            else:  # a key or open mode: checked here, no thread hop
                principal = self.gate.authenticate(authorization, host)
        except TalentgraphError as exc:
            self._record(scope, None, 401, started, outcome="unauthenticated", detail=exc.code)
            # On /graphql in the media type the client accepts (GraphQL over HTTP); elsewhere plain JSON.
            refused = error_response(Request(scope), 401, "UNAUTHENTICATED", exc.message, hint=exc.hint,
                                     headers={"WWW-Authenticate": CHALLENGE})
            await refused(scope, receive, send)
            return
        await self._serve(scope, receive, send, principal, started)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, principal: Principal, started: float) -> None:
        scope[PRINCIPAL] = principal
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self._record(scope, principal, status, started)

    def _record(self, scope: Scope, principal: Principal | None, status: int, started: float, *,
                outcome: str | None = None, detail: str | None = None) -> None:
        if self.audit is None:
            return
        access = scope.get(ACCESS)
        persons = sorted(access.person_ids) if access is not None else []
        subject = scope.get("talentgraph.subject")
        if subject:
            persons.append(str(subject))
        operation = (getattr(access, "operation", None) if access is not None else None) or scope.get(OPERATION) \
            or f"{scope['method']} {scope['path']}"
        try:
            self.audit.append(
                principal=principal.name if principal else "-", role=principal.role if principal else "-",
                via=principal.via if principal else "-", operation=str(operation),
                document_hash=getattr(access, "document_hash", None), person_ids=persons,
                count=getattr(access, "aggregates", None) or None,
                outcome=outcome or ("denied" if status in (401, 403) else "error" if status >= 400
                                    else getattr(access, "outcome", None) or "ok"),
                status=status, duration_ms=(time.perf_counter() - started) * 1000, path=scope["path"], detail=detail,
            )
        except Exception:
            # A request that cannot be recorded has already been answered; say so loudly.
            log.exception("Could not write the audit entry for %s %s", scope["method"], scope["path"])


def create_app(
    graph: GraphStore,
    search: "SearchService | None",
    settings: Settings,
    *,
    gate: Gate,
    audit: "AuditLog | None" = None,
    admin: AdminOps | None = None,
    ontology: Ontology = ONTOLOGY,
    prebuild: bool = False,
) -> Starlette:
    router = RoleRouter(graph, search, settings, ontology, audit)
    subscriptions = SubscriptionStore(settings.data_dir)
    notifier = Notifier(graph, ontology, subscriptions, retention=settings.feed_retention, keys=gate.keys,
                        base_url=f"http://{settings.host}:{settings.port}")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if prebuild:
            # A server builds every role's schema as it starts rather than on each role's first request,
            # beside serving rather than before it: the port opens ~2.5 s sooner, and a request whose
            # schema is not built yet builds it (or waits for the one being built).
            threading.Thread(target=_logged(router.prebuild), name="schema-prebuild", daemon=True).start()
        # NGSI-LD notifications are sent from the serving process, for as long as it serves.
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(notifier.run)
            yield
            tasks.cancel_scope.cancel()

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

    sessions = PageSessions(settings.data_dir, gate.keys)
    routes = [
        Route("/graphql", router),  # the view answers other methods itself (405 with Allow, in the error shape)
        Route("/health", health),
        *admin_routes(admin or AdminOps()),
        *platform_routes(Platform(graph, search, settings, ontology, subscriptions)),
        *web_routes(Pages(graph, search, settings, ontology, {"router": router, "gate": gate, "audit": audit,
                                                                     "sessions": sessions})),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.notifier = notifier
    app.state.router = router
    app.add_middleware(AccessMiddleware, gate=gate, audit=audit, allowed_hosts=allowed_hosts(settings), pages=sessions)
    return app


def allowed_hosts(settings: Settings) -> list[str]:
    configured = [h.strip() for h in settings.allowed_hosts.split(",") if h.strip()]
    return configured or [*LOOPBACK_HOSTS, settings.host]


def _search_backend(search: "SearchService | None") -> str | None:
    if search is None:
        return None
    index = getattr(search, "index", None)
    caps = getattr(index, "capabilities", None)
    return getattr(caps, "name", None) or type(search).__name__


__all__ = ["AccessMiddleware", "GraphQLApp", "RoleRouter", "allowed_hosts", "create_app"]
