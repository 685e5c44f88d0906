"""The platform's HTTP routes, gathered for ``server.create_app``.

Each module listed in ``_MODULES`` has ``routes(platform) -> list[BaseRoute]``; every route sits
behind the access middleware (authenticated, audited) and asks ``access/records.py`` what of a record
the caller's role may see.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.routing import BaseRoute

from talentgraph.access.policy import POLICY, RoleView
from talentgraph.access.principal import Principal
from talentgraph.config import Settings
from talentgraph.errors import ForbiddenError
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import Ontology

if TYPE_CHECKING:
    from talentgraph.feed.subscriptions import SubscriptionStore
    from talentgraph.search.service import SearchService

_MODULES: tuple[str, ...] = ("stream", "geojson", "subscription_routes", "ngsild.routes")

PRINCIPAL = "talentgraph.principal"  # set by server.AccessMiddleware
OPERATION = "talentgraph.operation"  # what the audit entry names the request
ACCESS = "talentgraph.access"  # the request's RequestAccess: which persons it returned, for the audit entry


@dataclass(frozen=True)
class Platform:
    """What the platform routes read from: the open stores and the settings."""

    graph: GraphStore
    search: "SearchService | None"
    settings: Settings
    ontology: Ontology
    subscriptions: "SubscriptionStore | None" = None  # NGSI-LD subscriptions (feed/subscriptions.py)


def caller(request: Request, operation: str | None = None) -> tuple[Principal, RoleView]:
    """The authenticated caller and their role's view of the policy (the middleware always sets it)."""
    principal = request.scope.get(PRINCIPAL)
    if not isinstance(principal, Principal):
        raise ForbiddenError("No caller was authenticated for this request.")
    if operation:
        request.scope[OPERATION] = operation
    return principal, POLICY.view(principal.role)


def platform_routes(platform: Platform) -> list[BaseRoute]:
    out: list[BaseRoute] = []
    for name in _MODULES:
        out.extend(importlib.import_module(f"talentgraph.feed.{name}").routes(platform))
    return out
