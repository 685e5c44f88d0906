"""Pages for people: the staff search page at ``/`` and the analyst's graph view at ``/explore/{id}``.

Each module listed in ``_MODULES`` has ``routes(pages: Pages) -> list[BaseRoute]``. Templates live in
``web/templates``; static files (vendored, nothing from a CDN: the intranet is offline) in ``web/static``,
served at ``/web-static``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from talentgraph.config import Settings
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import Ontology

if TYPE_CHECKING:
    from talentgraph.search.service import SearchService

WEB_DIR = Path(__file__).parent
TEMPLATES = WEB_DIR / "templates"
STATIC = WEB_DIR / "static"
STATIC_PATH = "/web-static"

_MODULES: tuple[str, ...] = ("staff", "explore")


@dataclass(frozen=True)
class Pages:
    """What the pages read from, and the app's own pieces they reuse (its GraphQL schemas, key store)."""

    graph: GraphStore
    search: "SearchService | None"
    settings: Settings
    ontology: Ontology
    app_parts: dict[str, Any]  # filled by server.create_app: "router" (RoleRouter), "gate", "audit", "sessions"


def web_routes(pages: Pages) -> list[BaseRoute]:
    out: list[BaseRoute] = []
    for name in _MODULES:
        out.extend(importlib.import_module(f"talentgraph.web.{name}").routes(pages))
    out.append(Mount(STATIC_PATH, StaticFiles(directory=STATIC), name="web-static"))
    return out
