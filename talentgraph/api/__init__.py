"""The GraphQL API: a schema derived from the ontology (``schema.build_schema``) over the graph and search ports.

Modules: ``naming`` (derived names), ``exposure`` (which properties are shown), ``filters``
(where/orderBy/first → port filters), ``inputs``, ``objects`` (ontology-independent types),
``labels``, ``loaders`` (DataLoaders), ``context``, ``resolvers``, ``errors`` (error shape).
The Starlette app is ``talentgraph.server.create_app``.
"""

from talentgraph.api.context import ApiContext
from talentgraph.api.schema import build_schema

__all__ = ["ApiContext", "build_schema"]
