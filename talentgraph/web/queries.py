"""The staff page's reads, run through the caller's own GraphQL schema in-process.

No second data path: every search and person read is a GraphQL document executed on the role's
schema (``RoleRouter.app_for(role).schema``), with a context made like the API's own, so masking,
area scope, suppression and the audit's list of returned persons all come from ``access/`` exactly
as for an API client. The documents are built here by pure functions from the fields the role's
``Person`` type has: a field the role may not read is never asked for (it does not exist there).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from graphql import GraphQLObjectType, GraphQLSchema
from starlette.requests import Request

from talentgraph.access.policy import POLICY
from talentgraph.access.principal import Principal
from talentgraph.api.context import ApiContext, deadline
from talentgraph.errors import TalentgraphError
from talentgraph.feed.routes import ACCESS, PRINCIPAL
from talentgraph.web import Pages

log = logging.getLogger("talentgraph.web")

SUBJECT = "Person"
# Facets the page offers, in this order; each shown only when the role may count it and offered as
# a checkbox only when the role may also filter on it (read grant): the policy decides, not the page.
PAGE_FACETS = ("languages", "skills", "nationality", "residential_area", "volunteer", "party_member")
LABELLED = ("languages", "skills", "nationality", "gender", "education", "politicalStatus")
SCALARS = ("name", "latinName", "otherNames", "gender", "birthYear", "nationality", "occupation", "education",
           "politicalStatus", "phone", "volunteer", "bio", "languageLevels")
RELATIONS = ("memberOf", "worksAt", "participatesIn", "leads")
ALIASES_PER_QUERY = 25  # the API allows 30 aliases per document


class PageError(Exception):
    """A read the page answers with a message in its own language: ``code`` is the API's error code."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__(code)
        self.code, self.status = code, status


_STATUS = {"BAD_QUERY": 400, "INVALID_VALUE": 400, "REQUEST_TOO_LARGE": 400, "QUERY_TOO_COMPLEX": 400,
           "UNKNOWN_SCHEMA_NAME": 400, "FORBIDDEN": 403, "NOT_FOUND": 404, "DEADLINE_EXCEEDED": 504,
           "STORE_BUSY": 503, "UNAUTHENTICATED": 401}


@dataclass(frozen=True)
class RoleFields:
    """What the role's schema offers the page."""

    person: frozenset[str]  # Person's GraphQL field names; empty: the role sees no person rows
    facets: tuple[str, ...]  # PAGE_FACETS the role may count
    filterable: frozenset[str]  # those it may also filter on


def role_fields(schema: GraphQLSchema, role: str) -> RoleFields:
    person = schema.type_map.get(SUBJECT)
    fields = frozenset(person.fields) if isinstance(person, GraphQLObjectType) else frozenset()
    read, count = POLICY.view(role).field_grants
    facets = tuple(f for f in PAGE_FACETS if (SUBJECT, f) in count)
    return RoleFields(fields, facets, frozenset(f for f in facets if (SUBJECT, f) in read))


# --- documents (pure) ---------------------------------------------------------------------------


def row_selection(fields: Iterable[str]) -> str:
    """A person's fields for a result card and an export row: what the role's type has of them."""
    have = set(fields)
    parts = ["id"] + [f for f in SCALARS if f in have]
    parts += [f"{f}Labels {{ id zh en }}" for f in LABELLED if f"{f}Labels" in have]
    if "livesIn" in have:
        parts.append("livesIn(first: 5) { nodes { id name level } }")
    return " ".join(parts)


def person_selection(fields: Iterable[str]) -> str:
    have = set(fields)
    parts = [row_selection(have)]
    parts += [f"{f} {{ nodes {{ id type title }} }}" for f in RELATIONS if f in have]
    return " ".join(parts)


def search_document(fields: Iterable[str]) -> str:
    return ("query StaffSearch($q: String!, $filters: [SearchFilter!], $facets: [String!], $first: Int!, "
            "$after: String) { search(query: $q, types: [Person], filters: $filters, facets: $facets, "
            "first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } "
            "hits { id score explanations highlights { field fragments } "
            f"node {{ ... on Person {{ {row_selection(fields)} }} }} }} "
            "facets { field values { value labelZh labelEn count display } } } }")


def person_document(fields: Iterable[str]) -> str:
    return f"query StaffPerson($id: ID!) {{ person(id: $id) {{ {person_selection(fields)} }} }}"


def people_document(count: int, fields: Iterable[str], operation: str) -> str:
    """One document reading ``count`` persons by id, as aliases p0…: the API has no id-list filter."""
    variables = ", ".join(f"$i{i}: ID!" for i in range(count))
    body = " ".join(f"p{i}: person(id: $i{i}) {{ {row_selection(fields)} }}" for i in range(count))
    return f"query {operation}({variables}) {{ {body} }}"


# --- execution ----------------------------------------------------------------------------------


class RoleQueries:
    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self._fields: dict[str, RoleFields] = {}

    def _schema(self, role: str) -> Any:
        return self.pages.app_parts["router"].app_for(role).schema

    def fields(self, role: str) -> RoleFields:
        found = self._fields.get(role)
        if found is None:
            found = self._fields[role] = role_fields(self._schema(role)._schema, role)
        return found

    def _context(self, request: Request) -> ApiContext:
        """One context per page request, so the audit entry lists every person any of its reads returned."""
        ctx = getattr(request.state, "api_context", None)
        if isinstance(ctx, ApiContext):
            return ctx
        principal = request.scope.get(PRINCIPAL)
        assert isinstance(principal, Principal), "the access middleware authenticates every page read"
        p = self.pages
        ctx = ApiContext(p.graph, p.search, p.settings, principal, p.ontology, audit=p.app_parts.get("audit"))
        request.scope[ACCESS] = ctx.access
        request.state.api_context = ctx
        return ctx

    async def run(self, request: Request, document: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        ctx = self._context(request)
        seconds = self.pages.settings.request_deadline
        try:
            with deadline(seconds), anyio.fail_after(seconds):
                result = await self._schema(ctx.principal.role).execute(
                    document, variable_values=dict(variables), context_value=ctx)
        except TimeoutError:
            raise PageError("DEADLINE_EXCEEDED", 504) from None
        # The audit entry names the request's operations; the AuditTrail extension keeps only the last.
        done: list[str] = request.state.operations if hasattr(request.state, "operations") else []
        request.state.operations = done
        if ctx.access.operation and ctx.access.operation not in done:
            done.append(ctx.access.operation)
            ctx.access.operation = "+".join(done)
        if result.errors:
            raise _page_error(result.errors)
        data: dict[str, Any] = result.data or {}
        return data

    async def area_names(self, request: Request, ids: Sequence[str]) -> list[str]:
        """The names of the key's areas, for the page's role note (ids where the role sees none)."""
        chunk = list(ids[:ALIASES_PER_QUERY])
        if not chunk:
            return []
        variables = ", ".join(f"$i{i}: ID!" for i in range(len(chunk)))
        body = " ".join(f"a{i}: area(id: $i{i}) {{ name }}" for i in range(len(chunk)))
        data = await self.run(request, f"query StaffAreas({variables}) {{ {body} }}",
                              {f"i{i}": v for i, v in enumerate(chunk)})
        return [str((data.get(f"a{i}") or {}).get("name") or v) for i, v in enumerate(chunk)]

    async def people(self, request: Request, ids: Sequence[str], operation: str) -> list[dict[str, Any]]:
        """Persons by id, in order; those the role may not see (or that are gone) are left out."""
        fields = self.fields(_role(request)).person
        out: list[dict[str, Any]] = []
        for start in range(0, len(ids), ALIASES_PER_QUERY):
            chunk = list(ids[start:start + ALIASES_PER_QUERY])
            data = await self.run(request, people_document(len(chunk), fields, operation),
                                  {f"i{i}": v for i, v in enumerate(chunk)})
            out.extend(row for i in range(len(chunk)) if (row := data.get(f"p{i}")))
        return out


def _role(request: Request) -> str:
    principal = request.scope.get(PRINCIPAL)
    assert isinstance(principal, Principal)
    return principal.role


def _page_error(errors: Sequence[Any]) -> PageError:
    first = errors[0]
    original = getattr(first, "original_error", None)
    if isinstance(original, TalentgraphError):
        code = original.code
    else:
        code = str((getattr(first, "extensions", None) or {}).get("code") or "INTERNAL")
    if code not in _STATUS:
        # A document the page built that the schema refused is a bug here, not the user's doing.
        log.error("Staff page query failed: %s", "; ".join(str(e) for e in errors))
        return PageError("INTERNAL", 500)
    return PageError(code, _STATUS[code])


__all__ = ["PAGE_FACETS", "PageError", "RoleFields", "RoleQueries", "person_document", "people_document",
           "role_fields", "row_selection", "search_document"]
