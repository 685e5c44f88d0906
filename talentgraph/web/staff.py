"""The staff search page at ``/``: sign in with a key, search, filter, read a person, keep a
shortlist and export it.

Thin on purpose (datasette's views over its own API): every read is a GraphQL document run on the
caller's role schema (``web/queries.py``), so the policy is enforced in one place; the access
middleware authenticates each request by its session (``web/session.py``) and writes its audit
entry, with the person ids the reads returned. Words come from ``web/i18n.py``.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from talentgraph.access.principal import Principal
from talentgraph.errors import OntologyError, TalentgraphError
from talentgraph.feed.routes import PRINCIPAL
from talentgraph.search.service import MAX_QUERY_CHARS
from talentgraph.web import STATIC_PATH, TEMPLATES, Pages
from talentgraph.web import export as exports
from talentgraph.web.i18n import FIELD_LABELS, LANG_COOKIE, LANGS, language, texts
from talentgraph.web.queries import SUBJECT, PageError, RoleQueries, person_document, search_document
from talentgraph.web.session import (
    SESSION,
    SESSION_COOKIE,
    SHORTLIST_MAX,
    SIGNIN_CSRF_COOKIE,
    PageSessions,
    Session,
    check_token,
)
from talentgraph.web.suggest import suggest

log = logging.getLogger("talentgraph.web")

PAGE_SIZE = 20
EXPORT_MAX = 1000  # rows of a result-set export: ten API pages; beyond it, narrow the search
MAX_FILTERS = 40
MAX_VALUE_CHARS = 100
MAX_ID_CHARS = 200
MAX_FORM_BYTES = 16_384  # every form here is a few fields; a bigger body is refused unread

CSP = "; ".join((
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
    "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
))
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store"}

_ERROR_TEXT = {"BAD_QUERY": "err_bad_query", "INVALID_VALUE": "err_bad_query", "UNKNOWN_SCHEMA_NAME": "err_bad_query",
               "QUERY_TOO_COMPLEX": "err_bad_query", "REQUEST_TOO_LARGE": "err_too_long", "FORBIDDEN": "err_forbidden",
               "NOT_FOUND": "err_not_found", "DEADLINE_EXCEEDED": "err_deadline", "STORE_BUSY": "err_busy",
               "STORE_ERROR": "err_no_search", "UNAUTHENTICATED": "err_session_expired", "CSRF": "err_csrf",
               "TOO_LONG": "err_too_long", "NO_PERSONS": "err_no_persons"}
_MARK = re.compile(r"(</?mark>)")


def routes(pages: Pages) -> list[BaseRoute]:
    return StaffPage(pages).routes()


class StaffPage:
    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.sessions: PageSessions = pages.app_parts["sessions"]
        self.queries = RoleQueries(pages)
        self.templates = Jinja2Templates(directory=TEMPLATES)  # autoescape on for .html

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home, methods=["GET", "HEAD"], name="staff"),
            Route("/signin", self.signin, methods=["POST"]),
            Route("/signout", self.signout, methods=["POST"]),
            Route("/suggest", self.suggestions, methods=["GET"]),
            Route("/people/{id:path}", self.person, methods=["GET"]),
            Route("/shortlist", self.shortlist, methods=["POST"]),
            Route("/export", self.export, methods=["POST"]),
        ]

    # --- rendering ------------------------------------------------------------------------------

    def render(self, request: Request, template: str, context: Mapping[str, Any], status: int = 200) -> Response:
        lang = language(request)
        principal = request.scope.get(PRINCIPAL)
        session = request.scope.get(SESSION)
        switch = "en" if lang == "zh" else "zh"
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "notice")]
        response = self.templates.TemplateResponse(request, template, {
            "t": texts(lang), "lang": lang, "static": STATIC_PATH,
            "switch_url": f"{request.url.path}?{urlencode([*params, ('lang', switch)])}",
            "principal": principal if isinstance(principal, Principal) else None,
            "csrf": session.csrf if isinstance(session, Session) else "",
            **context,
        }, status_code=status, headers=HEADERS)
        if request.query_params.get("lang") in LANGS:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/", httponly=True, samesite="strict",
                                secure=_https(request))
        return response

    def error(self, request: Request, code: str, status: int) -> Response:
        t = texts(language(request))
        return self.render(request, "staff_error.html", {"message": t[_ERROR_TEXT.get(code, "err_internal")]},
                           status)

    # --- sign-in --------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        principal = request.scope.get(PRINCIPAL)
        if not isinstance(principal, Principal):
            return self.signin_form(request)
        try:
            return await self.search_page(request, principal)
        except PageError as exc:
            return self.error(request, exc.code, exc.status)

    def signin_form(self, request: Request, *, failed: bool = False) -> Response:
        token = request.cookies.get(SIGNIN_CSRF_COOKIE) or ""
        if len(token) != 43:
            token = secrets.token_urlsafe(32)
        # A session cookie that no longer names a live session (revoked key, idle, server restarted):
        # say why the key is asked for again, and drop the cookie.
        stale = SESSION_COOKIE in request.cookies
        expired = request.query_params.get("notice") == "expired" or stale
        response = self.render(request, "staff_signin.html", {
            "signin_csrf": token, "notice": "err_bad_key" if failed else "err_session_expired" if expired else None,
        }, 401 if failed else 200)
        if stale:
            response.delete_cookie(SESSION_COOKIE, path="/")
        response.set_cookie(SIGNIN_CSRF_COOKIE, token, path="/signin", httponly=True, samesite="strict",
                            secure=_https(request))
        return response

    async def signin(self, request: Request) -> Response:
        form = await _form(request)
        if form is None or not check_token(request.cookies.get(SIGNIN_CSRF_COOKIE), form.get("csrf")):
            return self.error(request, "CSRF", 403)
        key = form.get("key")
        try:
            if not isinstance(key, str) or not key.strip():
                raise ValueError("no key")
            session, _principal = self.sessions.open(key)
        except (TalentgraphError, ValueError):
            return self.signin_form(request, failed=True)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, self.sessions.cookie_value(session), path="/", httponly=True,
                            samesite="strict", secure=_https(request))
        response.delete_cookie(SIGNIN_CSRF_COOKIE, path="/signin")
        return response

    async def signout(self, request: Request) -> Response:
        session = await self._posted(request)
        if isinstance(session, Response):
            return session
        self.sessions.close(session.sid)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def _posted(self, request: Request) -> Session | Response:
        """The session of a POST whose CSRF token matches it, or the page's refusal."""
        session = request.scope.get(SESSION)
        form = await _form(request)
        if not isinstance(session, Session) or form is None or not check_token(session.csrf, form.get("csrf")):
            return self.error(request, "CSRF", 403)
        request.state.form = form
        return session

    # --- search ---------------------------------------------------------------------------------

    async def search_page(self, request: Request, principal: Principal) -> Response:
        fields = self.queries.fields(principal.role)
        session = request.scope.get(SESSION)
        shortlist = list(session.shortlist) if isinstance(session, Session) else []
        lang = language(request)
        context: dict[str, Any] = {"q": "", "filters": [], "result": None, "facets": [], "fields": fields,
                                   "shortlist": [], "shortlist_ids": set(shortlist), "error": None,
                                   "shortlist_max": SHORTLIST_MAX, "page_size": PAGE_SIZE}
        if principal.areas:
            context["area_names"] = await self.queries.area_names(request, principal.areas)
        if not fields.person:
            context["error"] = texts(lang)["err_no_persons"]
            return self.render(request, "staff_search.html", context)
        q, filters, after = _search_params(request, fields.filterable)
        context.update(q=q, filters=filters, after=after, query_string=_query_string(q, filters, lang))
        status = 200
        if q or filters:
            try:
                data = await self.queries.run(request, search_document(fields.person), {
                    "q": q, "filters": _filter_input(filters) or None, "facets": list(fields.facets),
                    "first": PAGE_SIZE, "after": after})
                context["result"] = _result(data["search"], lang)
                context["facets"] = _facets(data["search"]["facets"], fields.facets, fields.filterable, filters, lang)
            except PageError as exc:
                context["error"] = texts(lang)[_ERROR_TEXT.get(exc.code, "err_internal")]
                status = exc.status
        if shortlist:
            rows = await self.queries.people(request, shortlist, "StaffShortlist")
            context["shortlist"] = [_card(row, lang) for row in rows]
        return self.render(request, "staff_search.html", context, status)

    async def suggestions(self, request: Request) -> Response:
        lang = language(request)
        found = suggest(request.query_params.get("q", ""), lang)
        body = "".join(f'<option value="{html.escape(s.value)}">{html.escape(s.label)}</option>' for s in found)
        return HTMLResponse(body, headers=HEADERS)

    # --- a person -------------------------------------------------------------------------------

    async def person(self, request: Request) -> Response:
        principal = request.scope[PRINCIPAL]
        node_id = request.path_params["id"]
        fields = self.queries.fields(principal.role)
        if not fields.person:
            return self.error(request, "NO_PERSONS", 403)
        if not _is_person_id(self.pages, node_id):
            return self.error(request, "NOT_FOUND", 404)
        try:
            data = await self.queries.run(request, person_document(fields.person), {"id": node_id})
        except PageError as exc:
            return self.error(request, exc.code, exc.status)
        row = data.get("person")
        if not row:
            return self.error(request, "NOT_FOUND", 404)
        lang = language(request)
        session = request.scope.get(SESSION)
        return self.render(request, "staff_person.html", {
            "card": _card(row, lang), "details": _details(row, lang),
            "relations": _relations(row), "in_shortlist": isinstance(session, Session) and node_id in session.shortlist,
            "back": _local(request.query_params.get("back")) or "/",
        })

    # --- shortlist and export -------------------------------------------------------------------

    async def shortlist(self, request: Request) -> Response:
        session = await self._posted(request)
        if isinstance(session, Response):
            return session
        form: FormData = request.state.form
        action, node_id = form.get("action"), form.get("id")
        if action == "clear":
            session.shortlist.clear()
        elif action in ("add", "remove") and isinstance(node_id, str) and _is_person_id(self.pages, node_id):
            if action == "remove":
                session.shortlist[:] = [i for i in session.shortlist if i != node_id]
            elif node_id not in session.shortlist:
                if len(session.shortlist) >= SHORTLIST_MAX:
                    return self.error(request, "BAD_QUERY", 400)
                session.shortlist.append(node_id)
        else:
            return self.error(request, "BAD_QUERY", 400)
        return RedirectResponse(_local(form.get("next")) or "/", status_code=303)

    async def export(self, request: Request) -> Response:
        session = await self._posted(request)
        if isinstance(session, Response):
            return session
        form: FormData = request.state.form
        principal = request.scope[PRINCIPAL]
        fields = self.queries.fields(principal.role)
        fmt, what = form.get("format"), form.get("what")
        lang = str(form.get("lang")) if form.get("lang") in LANGS else language(request)
        if fmt not in exports.MEDIA or what not in ("results", "shortlist") or not fields.person:
            return self.error(request, "BAD_QUERY", 400)
        try:
            if what == "shortlist":
                rows = await self.queries.people(request, list(session.shortlist), "StaffExportShortlist")
            else:
                rows = await self._all_results(request, form, fields)
        except PageError as exc:
            return self.error(request, exc.code, exc.status)
        data = exports.table(rows, fields.person, lang)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        name = f"talentgraph-{what}-{stamp}.{fmt}"
        body = exports.to_csv(data) if fmt == "csv" else exports.to_xlsx(data, texts(lang)["shortlist_title"]
                                                                          if what == "shortlist" else "results")
        return Response(body, media_type=exports.MEDIA[str(fmt)], headers={
            **HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})

    async def _all_results(self, request: Request, form: FormData, fields: Any) -> list[dict[str, Any]]:
        q = str(form.get("q") or "")
        if len(q) > MAX_QUERY_CHARS:
            raise PageError("TOO_LONG", 400)
        filters = _parse_filters([str(v) for v in form.getlist("f")], fields.filterable)
        if not q and not filters:
            raise PageError("BAD_QUERY", 400)
        rows: list[dict[str, Any]] = []
        after: str | None = None
        document = search_document(fields.person)
        page = self.pages.settings.max_page_size
        while len(rows) < EXPORT_MAX:
            data = await self.queries.run(request, document, {
                "q": q, "filters": _filter_input(filters) or None, "facets": [],
                "first": min(page, EXPORT_MAX - len(rows)), "after": after})
            found = data["search"]
            rows.extend(h["node"] for h in found["hits"] if h.get("node"))
            if not found["pageInfo"]["hasNextPage"]:
                break
            after = found["pageInfo"]["endCursor"]
        return rows


# --- request parsing ----------------------------------------------------------------------------


async def _form(request: Request) -> FormData | None:
    """A URL-encoded form of at most ``MAX_FORM_BYTES`` (every form on the page is; nothing is uploaded),
    or None. Parsed here rather than by python-multipart: one format, read with a hard size cap."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return None
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        pairs: list[tuple[str, str | UploadFile]] = list(parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=200))
    except (UnicodeDecodeError, ValueError):  # a malformed body is refused like a missing token
        return None
    return FormData(pairs)


def _search_params(request: Request, filterable: frozenset[str]) -> tuple[str, list[tuple[str, str]], str | None]:
    q = request.query_params.get("q", "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise PageError("TOO_LONG", 400)
    filters = _parse_filters(request.query_params.getlist("f"), filterable)
    after = request.query_params.get("after") or None
    return q, filters, after


def _parse_filters(raw: Sequence[str], filterable: frozenset[str]) -> list[tuple[str, str]]:
    """``facet:value`` pairs; anything else (unknown facet, one the role may not filter, too long)
    is a bad request, answered with a message rather than silently dropped."""
    if len(raw) > MAX_FILTERS:
        raise PageError("BAD_QUERY", 400)
    out: list[tuple[str, str]] = []
    for item in raw:
        name, sep, value = item.partition(":")
        if not sep or name not in filterable or not value or len(value) > MAX_VALUE_CHARS:
            raise PageError("BAD_QUERY", 400)
        if (name, value) not in out:
            out.append((name, value))
    return out


def _filter_input(filters: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    by_field: dict[str, list[str]] = {}
    for name, value in filters:
        by_field.setdefault(name, []).append(value)
    return [{"field": k, "values": v} for k, v in by_field.items()]


def _query_string(q: str, filters: Sequence[tuple[str, str]], lang: str) -> str:
    return urlencode([("q", q), *(("f", f"{n}:{v}") for n, v in filters)])


def _is_person_id(pages: Pages, node_id: str) -> bool:
    if len(node_id) > MAX_ID_CHARS:
        return False
    try:
        return pages.ontology.type_of_id(node_id).name == SUBJECT
    except OntologyError:
        return False


def _local(target: object) -> str | None:
    """A redirect target on this site only (no scheme, no host, no //evil.example)."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//") or "\\" in target \
            or len(target) > 2000:
        return None
    return target


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


# --- view models --------------------------------------------------------------------------------


def _labels(values: Any, lang: str) -> list[str]:
    return [str(v.get(lang) or v.get("zh") or v.get("id")) for v in values or ()]


def _card(row: Mapping[str, Any], lang: str) -> dict[str, Any]:
    return {
        "id": row["id"], "name": row.get("name") or row["id"], "latin": row.get("latinName"),
        "other_names": row.get("otherNames") or [],
        "languages": _labels(row.get("languagesLabels"), lang), "skills": _labels(row.get("skillsLabels"), lang),
        "nationality": _labels(row.get("nationalityLabels"), lang),
        "area": [str(n.get("name") or n["id"]) for n in (row.get("livesIn") or {}).get("nodes") or ()],
        "occupation": row.get("occupation"), "phone": row.get("phone"), "volunteer": row.get("volunteer"),
    }


def _fragment(text: str) -> Markup:
    """A search highlight as markup: only <mark> survives; everything else is escaped again here,
    whatever the search backend did (unescape first, so its own escaping is not doubled)."""
    parts = _MARK.split(text)
    return Markup("".join(p if p in ("<mark>", "</mark>") else html.escape(html.unescape(p)) for p in parts))


def _result(search: Mapping[str, Any], lang: str) -> dict[str, Any]:
    hits = []
    for hit in search["hits"]:
        node = hit.get("node")
        if not node:
            continue
        card = _card(node, lang)
        card["why"] = list(hit["explanations"])
        card["highlights"] = [(h["field"], [_fragment(f) for f in h["fragments"]]) for h in hit["highlights"]]
        hits.append(card)
    info = search["pageInfo"]
    return {"total": search["totalCount"], "hits": hits,
            "next": info["endCursor"] if info["hasNextPage"] else None}


def _facets(found: Sequence[Mapping[str, Any]], order: Sequence[str], filterable: frozenset[str],
            chosen: Sequence[tuple[str, str]], lang: str) -> list[dict[str, Any]]:
    t = texts(lang)
    by_field = {f["field"]: f for f in found}
    out = []
    for name in order:
        facet = by_field.get(name)
        if facet is None:
            continue
        values = []
        for i, v in enumerate(facet["values"]):
            label = (v.get("labelZh") if lang == "zh" else v.get("labelEn")) or v.get("labelZh") or v["value"]
            if name in ("volunteer", "party_member"):
                label = t["yes"] if v["value"] == "true" else t["no"] if v["value"] == "false" else label
            values.append({"value": v["value"], "label": label, "display": v["display"],
                           "checked": (name, v["value"]) in chosen, "id": f"f-{name}-{i}"})
        out.append({"name": name, "title": t[f"facet_{name}"], "values": values, "filterable": name in filterable})
    return out


def _details(row: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """The person's fields the role read, as (label, text), in the export's column order."""
    labels = FIELD_LABELS[lang]
    out = []
    for field, key in exports.COLUMNS:
        if field == "id" or field not in row:
            continue
        text = exports.cell(row, field, lang)
        if text:
            out.append((labels.get(key, key), text))
    if row.get("bio"):
        out.append((labels["bio"], str(row["bio"])))
    return out


def _relations(row: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    out = []
    for field, key in (("memberOf", "member_of"), ("worksAt", "works_at"), ("participatesIn", "participates_in"),
                       ("leads", "leads")):
        nodes = (row.get(field) or {}).get("nodes") or []
        if nodes:
            out.append((key, [str(n.get("title") or n["id"]) for n in nodes]))
    return out


__all__ = ["StaffPage", "routes"]
