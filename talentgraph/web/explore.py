"""The analyst's graph view at ``/explore/{id}``: an entity's neighbourhood drawn with cytoscape.js.

The page is a shell: it holds no record data, only the id from its own URL. Its script
(``web/static/explore.js``) asks ``/graphql`` for everything it draws (the ``neighbourhood``,
``path`` and ``node`` root fields), with the caller's own credential, so every node and field on
screen has passed the role policy of the caller's GraphQL schema — there is no second data path.
Each view links to the same query in the playground (``/graphql#query=…``).
"""

from __future__ import annotations

import base64
import hashlib

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from talentgraph.errors import OntologyError
from talentgraph.web import STATIC_PATH, TEMPLATES, Pages

# cytoscape.js adds one <style> element to the document (``.__________cytoscape_container
# { position: relative; }``). Allowing exactly that text by its hash keeps every other inline style
# and every inline script refused.
_CYTOSCAPE_STYLE = ".__________cytoscape_container { position: relative; }"
_CYTOSCAPE_STYLE_HASH = base64.b64encode(hashlib.sha256(_CYTOSCAPE_STYLE.encode()).digest()).decode()

CSP = "; ".join((
    "default-src 'none'",
    "script-src 'self'",  # no inline script: the page's code is web-static/explore.js
    f"style-src 'self' 'sha256-{_CYTOSCAPE_STYLE_HASH}'",
    "img-src 'self' data:",  # cytoscape draws on canvas; data: covers its exported images
    "connect-src 'self'",  # the only thing the script talks to is this server's /graphql
    "form-action 'none'",  # the forms are handled by the script; nothing is ever submitted
    "frame-ancestors 'none'",
    "base-uri 'none'",
))

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

MAX_ID_LENGTH = 200


def routes(pages: Pages) -> list[BaseRoute]:
    templates = Jinja2Templates(directory=TEMPLATES)  # autoescape on for .html

    async def explore(request: Request) -> Response:
        node_id = request.path_params["id"]
        try:
            # Only the id's shape is checked: whether such a record exists (and whether the caller
            # may see it) is the GraphQL API's answer, so the page reveals nothing about records.
            pages.ontology.type_of_id(node_id)
            if len(node_id) > MAX_ID_LENGTH:
                raise OntologyError(f"Id is longer than {MAX_ID_LENGTH} characters.",
                                    hint="Ids look like 'per:000123'.")
        except OntologyError as exc:
            return PlainTextResponse(f"{exc.message}\n{exc.hint or ''}\n", status_code=404,
                                     headers=SECURITY_HEADERS)
        types = [{"name": t.name, "zh": t.label_zh} for t in pages.ontology.node_types]
        return templates.TemplateResponse(request, "explore.html", {
            "node_id": node_id, "static": STATIC_PATH, "types": types,
        }, headers=SECURITY_HEADERS)

    return [Route("/explore/{id}", explore, methods=["GET"], name="explore")]
