"""Tells the access record which GraphQL operation a request ran: its name and a hash of the document.

The hash, not the text: a document can carry a person's name or phone in a filter, and the audit
keeps the fact, not the data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from graphql import OperationDefinitionNode

from strawberry.extensions import SchemaExtension


def document_hash(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class AuditTrail(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        access = getattr(ec.context, "access", None)
        if access is not None:
            access.document_hash = document_hash(ec.query or "")
        yield
        if access is not None:
            access.operation = ec.operation_name or _first_operation_name(ec) or "(anonymous)"
            # A legacy client gets 200 for a refused document: the record must still say it was refused.
            errors = getattr(ec.result, "errors", None)
            if errors:
                data = getattr(ec.result, "data", None)
                access.outcome = "partial" if data else "rejected"


def _first_operation_name(ec: Any) -> str | None:
    document = getattr(ec, "graphql_document", None)
    for definition in getattr(document, "definitions", None) or ():
        if isinstance(definition, OperationDefinitionNode):
            return definition.name.value if definition.name else None
    return None


__all__ = ["AuditTrail", "document_hash"]
