"""One error shape for every GraphQL response (pinned by tests/integration/test_api_errors.py).

``errors[]``: ``message`` plus ``extensions.code``:
- our own errors (``TalentgraphError`` subclasses): their ``code`` and message, ``extensions.hint``,
  and any ``details`` they carry (the limit errors of ``limits.py`` add ``limit``, ``cost``,
  ``budget``, ``argument``);
- GraphQL syntax errors (and the token limit): ``GRAPHQL_PARSE_FAILED``; validation errors (unknown
  field or fragment, wrong argument type, ambiguous operation): ``GRAPHQL_VALIDATION_FAILED``;
  depth, alias, fragment-spread and cost limits: ``QUERY_TOO_COMPLEX``;
- anything else is a bug: message "Internal server error", code ``INTERNAL``; logged with its
  traceback by ``TalentgraphSchema.process_errors``, never echoed to the client.

``shape_error`` is idempotent, so the HTTP view (``view.py``) shapes every error of every result
once more: an exception strawberry catches outside its operation hooks (a crash in a validation
rule, say) never reaches ``ErrorShape``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from talentgraph.errors import TalentgraphError

log = logging.getLogger("talentgraph.api")

INTERNAL_MESSAGE = "Internal server error"


def shape_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    extensions: dict[str, Any]
    if isinstance(original, TalentgraphError):
        message = original.message
        extensions = {"code": original.code}
        if original.hint:
            extensions["hint"] = original.hint
        details = getattr(original, "details", None)
        if isinstance(details, Mapping):
            extensions.update(details)
    elif original is None and isinstance((error.extensions or {}).get("code"), str):
        return error  # shaped already
    elif isinstance(original, GraphQLError) or original is None:
        message = error.message
        parse = isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError)
        extensions = {"code": "GRAPHQL_PARSE_FAILED" if parse else "GRAPHQL_VALIDATION_FAILED"}
    else:
        message = INTERNAL_MESSAGE
        extensions = {"code": "INTERNAL"}
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, extensions=extensions)


class ErrorShape(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [shape_error(e) for e in errors]


class TalentgraphSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            original = error.original_error
            if isinstance(original, TalentgraphError):
                log.info("GraphQL %s at %s: %s", original.code, error.path, original)
            elif original is None or isinstance(original, GraphQLError):
                log.debug("GraphQL request rejected: %s", error.message)
            else:
                log.error("Unexpected error at %s", error.path, exc_info=original)
