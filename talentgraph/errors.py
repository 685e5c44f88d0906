"""One root exception; every message names the object, the value and the fix.

Third-party errors (LadybugDB, Tantivy, Neo4j, OpenSearch) are wrapped at the adapter boundary into
these classes so callers never import a driver's exception types. Each class carries a stable
``code`` that the GraphQL layer exposes as ``errors[].extensions.code``.
"""

from __future__ import annotations


class TalentgraphError(Exception):
    """Root of every error talentgraph raises on purpose."""

    code = "INTERNAL"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}" if hint else message)


class ConfigError(TalentgraphError):
    """A setting is missing or has a value of the wrong kind."""

    code = "BAD_CONFIG"


class OntologyError(TalentgraphError):
    """A type, property or relationship name that the ontology does not define."""

    code = "UNKNOWN_SCHEMA_NAME"


class ValidationError(TalentgraphError):
    """A value does not satisfy its property's type, vocabulary or validator."""

    code = "INVALID_VALUE"

    def __init__(self, field: str, value: object, expected: str, *, hint: str | None = None) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: {value!r} is not valid; expected {expected}.", hint=hint)


class NotFoundError(TalentgraphError):
    code = "NOT_FOUND"


class BadQueryError(TalentgraphError):
    """A caller's query (filter, cursor, page size, search syntax) cannot be run as given."""

    code = "BAD_QUERY"


class StoreBusyError(TalentgraphError):
    """The embedded database is held by another process (LadybugDB allows one writer)."""

    code = "STORE_BUSY"


class StoreError(TalentgraphError):
    """A backend (graph or search engine) failed; the original error is chained."""

    code = "STORE_ERROR"


class IngestError(TalentgraphError):
    """A job or mapping file cannot be run at all (individual bad rows are quarantined instead)."""

    code = "BAD_JOB"


class UnauthenticatedError(TalentgraphError):
    """No credentials, or credentials that do not verify (unknown, revoked or expired key; bad token)."""

    code = "UNAUTHENTICATED"


class ForbiddenError(TalentgraphError):
    """The caller is known but their role may not do this (see ``schema/policy.yaml``)."""

    code = "FORBIDDEN"


class TooComplexError(BadQueryError):
    """A GraphQL document over a structural limit: depth, aliases, fragment spreads or cost budget."""

    code = "QUERY_TOO_COMPLEX"


class TooLargeError(BadQueryError):
    """A request over a size limit: body, variables, a filter list or a search offset."""

    code = "REQUEST_TOO_LARGE"


class DeadlineError(TalentgraphError):
    """The request ran past its deadline and was stopped."""

    code = "DEADLINE_EXCEEDED"


class ResyncRequiredError(TalentgraphError):
    """A change-feed cursor the log can no longer continue: older than retention, or from another log."""

    code = "RESYNC_REQUIRED"
