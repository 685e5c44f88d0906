"""``/admin/*``: what the CLI does through a running server (it owns the embedded data directory).

Admin-only, JSON only (``application/json`` bodies; a form or text/plain POST — what a cross-origin
page can send without a preflight — is refused), paths confined to configured directories, and no
file content ever echoed back. The operations themselves are passed in (``AdminOps``) by whoever
owns the stores (the CLI), so this module holds only the HTTP side.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentgraph.access.policy import POLICY
from talentgraph.access.principal import Principal
from talentgraph.api.view import error_body as shape
from talentgraph.errors import BadQueryError, ForbiddenError, NotFoundError, TalentgraphError, TooLargeError

log = logging.getLogger("talentgraph.admin")

MAX_ADMIN_BODY = 64 * 1024

Op = Callable[..., Any]


@dataclass
class AdminOps:
    """The admin operations a server can run; any left None answers 404 with a hint."""

    ingest: Op | None = None  # (job: Path, input_dir: Path | None, dry_run: bool, roots, *, force: bool) -> list[dict]
    keys: Any = None  # access.keys.KeyStore
    audit: Any = None  # access.audit.AuditLog
    export_person: Op | None = None  # (person_id) -> dict
    erase_person: Op | None = None  # (person_id, dry_run) -> dict
    resolve: Op | None = None  # (request body, caller name) -> dict (talentgraph.resolve.actions.perform)
    stats: Op | None = None  # () -> dict (counts per node type, change-log and index positions)
    reindex: Op | None = None  # () -> dict (documents, seconds): the search index rebuilt from the graph and swapped in
    vocab: Any = None  # vocab_cli.VocabOps (pending, add, alias, renormalise)
    docs: Any = None  # docs_cli.DocsOps (ingest documents; candidate review)
    roots: Sequence[Path] = field(default=())  # where job and source files may live


def error_body(status: int, code: str, message: str, hint: str | None = None,
               headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape (``api.view.error_body``), also outside GraphQL."""
    return JSONResponse(shape(message, code, hint), status_code=status, headers=headers)


def error_response(exc: TalentgraphError) -> JSONResponse:
    status = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "REQUEST_TOO_LARGE": 413,
              "DEADLINE_EXCEEDED": 504, "STORE_BUSY": 503, "STORE_ERROR": 503}.get(exc.code, 400)
    return error_body(status, exc.code, exc.message, exc.hint)


def principal_of(request: Request) -> Principal:
    principal = request.scope.get("talentgraph.principal")
    if not isinstance(principal, Principal):  # the access middleware always sets it; never trust its absence
        raise ForbiddenError("No caller was authenticated for this request.")
    return principal


async def json_body(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise BadQueryError(f"Content-Type {ctype or '(none)'} is not accepted here.",
                            hint="Send a JSON object with Content-Type: application/json.")
    body = await request.body()
    if len(body) > MAX_ADMIN_BODY:
        raise TooLargeError(f"The request body has {len(body)} bytes.", hint=f"Send at most {MAX_ADMIN_BODY} bytes.")
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadQueryError("The request body is not valid JSON.", hint="Send a JSON object.") from None
    if not isinstance(data, dict):
        raise BadQueryError("The request body is not a JSON object.", hint='Send e.g. {"job": "jobs/residents.yaml"}.')
    return data


def confine(path_text: Any, roots: Sequence[Path], what: str) -> Path:
    """The real path of ``path_text`` if it lies inside one of ``roots``; never says what is outside."""
    if not isinstance(path_text, str) or not path_text or "\x00" in path_text or len(path_text) > 4096:
        raise BadQueryError(f"{what} is not a path.", hint="Give a file path as a string.")
    real = Path(os.path.realpath(path_text))
    for root in roots:
        base = Path(os.path.realpath(root))
        if real == base or base in real.parents:
            return real
    raise ForbiddenError(f"{what} is outside the directories this server reads jobs from.",
                         hint="Put the files under one of the ingest roots (setting ingest_roots, "
                         "TALENTGRAPH_INGEST_ROOTS): " + ", ".join(str(r) for r in roots) + ".")


def _route(operation: str, handler: Callable[[Request, Principal, AdminOps], Awaitable[Any]],
           ops: AdminOps) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            principal = principal_of(request)
            POLICY.require(principal, operation)
            request.scope["talentgraph.operation"] = f"admin.{request.url.path.rsplit('/', 1)[-1]}"
            result = await handler(request, principal, ops)
        except TalentgraphError as exc:
            return error_response(exc)
        except Exception:
            log.exception("Admin request %s failed", request.url.path)
            return error_body(500, "INTERNAL", "Internal server error", "See the server log.")
        return JSONResponse(result)
    return endpoint


def _need(op: Any, name: str) -> Any:
    if op is None:
        raise NotFoundError(f"This server was started without {name}.",
                               hint="Start it with `talentgraph serve`, or run the command while no server runs.")
    return op


async def _ingest(request: Request, principal: Principal, ops: AdminOps) -> Any:
    run = _need(ops.ingest, "an ingest runner")
    body = await json_body(request)
    job = confine(body.get("job"), ops.roots, "The job file")
    input_dir = confine(body["input_dir"], ops.roots, "input_dir") if body.get("input_dir") else None
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadQueryError("dry_run is not true or false.")
    force = body.get("force", False)  # snapshot jobs: end more than max_delete_share
    if not isinstance(force, bool):
        raise BadQueryError("force is not true or false.")
    summaries = await anyio.to_thread.run_sync(lambda: run(job, input_dir, dry_run, ops.roots, force=force))
    return {"summaries": summaries}


async def _keys(request: Request, principal: Principal, ops: AdminOps) -> Any:
    from datetime import date

    store = _need(ops.keys, "a key store")
    body = await json_body(request)
    action = body.get("action")
    if action == "list":
        return {"keys": [k.to_dict() for k in await anyio.to_thread.run_sync(store.list)]}
    if action == "revoke":
        name = body.get("name")
        if not isinstance(name, str):
            raise BadQueryError("name is missing.", hint='Send {"action": "revoke", "name": "…"}.')
        return {"key": (await anyio.to_thread.run_sync(store.revoke, name)).to_dict()}
    if action == "create":
        name, role, areas, expires = body.get("name"), body.get("role"), body.get("areas") or [], body.get("expires")
        if not isinstance(name, str) or not isinstance(role, str) or not isinstance(areas, list) or \
                not all(isinstance(a, str) for a in areas) or not (expires is None or isinstance(expires, str)):
            raise BadQueryError("create needs name and role (strings), areas (list of ids), expires (YYYY-MM-DD).")
        try:
            when = date.fromisoformat(expires) if expires else None
        except ValueError:
            raise BadQueryError(f"expires {expires!r} is not a date.", hint="Write YYYY-MM-DD.") from None
        raw, info = await anyio.to_thread.run_sync(lambda: store.create(name, role, areas, when))
        return {"key": raw, **info.to_dict()}
    raise BadQueryError(f"action {action!r} is not one of create, list, revoke.")


async def _audit(request: Request, principal: Principal, ops: AdminOps) -> Any:
    log_ = _need(ops.audit, "an audit log")
    body = await json_body(request)
    if body.get("verify"):
        return (await anyio.to_thread.run_sync(log_.verify)).to_dict()
    kwargs = {k: body.get(k) for k in ("person", "principal", "since", "until", "limit") if body.get(k) is not None}
    entries = await anyio.to_thread.run_sync(lambda: log_.read(**kwargs))
    return {"entries": [e.to_dict() for e in entries]}


async def _person(request: Request, principal: Principal, ops: AdminOps) -> Any:
    body = await json_body(request)
    person_id = body.get("id")
    if not isinstance(person_id, str):
        raise BadQueryError("id is missing.", hint='Send {"id": "per:000123"}.')
    request.scope["talentgraph.subject"] = person_id
    if request.url.path.endswith("/export"):
        run = _need(ops.export_person, "data-subject export")
        return await anyio.to_thread.run_sync(run, person_id)
    run = _need(ops.erase_person, "data-subject erasure")
    dry_run = bool(body.get("dry_run", False))
    return await anyio.to_thread.run_sync(run, person_id, dry_run)


async def _resolve(request: Request, principal: Principal, ops: AdminOps) -> Any:
    run = _need(ops.resolve, "entity resolution")
    body = await json_body(request)
    return await anyio.to_thread.run_sync(lambda: run(body, principal.name))


async def _stats(request: Request, principal: Principal, ops: AdminOps) -> Any:
    run = _need(ops.stats, "stats")
    await json_body(request)  # JSON only, like every admin route; no arguments
    return await anyio.to_thread.run_sync(run)


async def _reindex(request: Request, principal: Principal, ops: AdminOps) -> Any:
    run = _need(ops.reindex, "a search index rebuild")
    body = await json_body(request)
    if body:
        raise BadQueryError(f"A rebuild takes no arguments; got {', '.join(sorted(map(str, body)))}.",
                            hint="Send an empty JSON object: {}.")
    return await anyio.to_thread.run_sync(run)


def _text(body: dict[str, Any], name: str, example: str, *, optional: bool = False) -> Any:
    value = body.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise BadQueryError(f"{name} is {'missing' if value is None else 'not a non-empty string'}.",
                            hint=f'Send e.g. {{"{name}": "{example}"}}.')
    return value


async def _vocab(request: Request, principal: Principal, ops: AdminOps) -> Any:
    vocab = _need(ops.vocab, "vocabulary review")
    body = await json_body(request)
    action = body.get("action")
    if action not in ("pending", "add", "alias", "renormalise"):
        raise BadQueryError(f"action {action!r} is not one of pending, add, alias, renormalise.",
                            hint='Send e.g. {"action": "pending"}.')
    request.scope["talentgraph.operation"] = f"admin.vocab.{action}"
    renormalise = body.get("renormalise", True)
    if not isinstance(renormalise, bool):
        raise BadQueryError("renormalise is not true or false.")
    if action == "pending":
        return await anyio.to_thread.run_sync(vocab.pending)
    if action == "renormalise":
        return await anyio.to_thread.run_sync(vocab.renormalise)
    vocabulary = _text(body, "vocabulary", "skills")
    if action == "alias":
        term_id, text = _text(body, "term_id", "ru"), _text(body, "text", "俄罗斯语")
        return await anyio.to_thread.run_sync(lambda: vocab.alias(vocabulary, term_id, text, renormalise))
    term = body.get("term")
    if not isinstance(term, dict) or set(term) - {"id", "zh", "en", "native", "parent", "synonyms"}:
        raise BadQueryError("term is not an object of id, zh, en, native, parent, synonyms.",
                            hint='Send e.g. {"term": {"id": "cooking.wine_tasting", "zh": "红酒品鉴", '
                            '"en": "Wine tasting"}}.')
    clean = {"id": _text(term, "id", "cooking.wine_tasting"), "zh": _text(term, "zh", "红酒品鉴"),
             "en": _text(term, "en", "Wine tasting"), "native": _text(term, "native", "Русский", optional=True),
             "parent": _text(term, "parent", "cooking", optional=True)}
    synonyms = term.get("synonyms") or []
    if not isinstance(synonyms, list) or not all(isinstance(x, str) and x.strip() for x in synonyms):
        raise BadQueryError("term.synonyms is not a list of strings.")
    clean["synonyms"] = synonyms
    return await anyio.to_thread.run_sync(lambda: vocab.add(vocabulary, clean, renormalise))


async def _docs(request: Request, principal: Principal, ops: AdminOps) -> Any:
    from talentgraph.docs_cli import run

    docs = _need(ops.docs, "document ingest")
    body = await json_body(request)
    action = body.get("action")
    if action not in ("ingest", "pending", "accept", "reject", "merge"):
        raise BadQueryError(f"action {action!r} is not one of ingest, pending, accept, reject, merge.",
                            hint='Send e.g. {"action": "pending"}.')
    request.scope["talentgraph.operation"] = f"admin.docs.{action}"
    return await anyio.to_thread.run_sync(lambda: run(docs, body, principal.name))


def admin_routes(ops: AdminOps) -> list[Route]:
    return [
        Route("/admin/ingest", _route("ingest", _ingest, ops), methods=["POST"]),
        Route("/admin/keys", _route("keys", _keys, ops), methods=["POST"]),
        Route("/admin/audit", _route("audit", _audit, ops), methods=["POST"]),
        Route("/admin/person/export", _route("subject_rights", _person, ops), methods=["POST"]),
        Route("/admin/person/erase", _route("subject_rights", _person, ops), methods=["POST"]),
        Route("/admin/resolve", _route("resolve", _resolve, ops), methods=["POST"]),
        # Stats are counts over every type and area, and the vocab review lists values with the records
        # holding them and rewrites records: operating the data, as ingest does (admin only today).
        Route("/admin/stats", _route("ingest", _stats, ops), methods=["POST"]),
        Route("/admin/reindex", _route("ingest", _reindex, ops), methods=["POST"]),
        Route("/admin/vocab", _route("ingest", _vocab, ops), methods=["POST"]),
        # Documents are data like a register's rows; the review writes nodes: operating the data (admin).
        Route("/admin/docs", _route("ingest", _docs, ops), methods=["POST"]),
    ]


__all__ = ["AdminOps", "admin_routes", "confine", "error_body", "error_response", "json_body"]
