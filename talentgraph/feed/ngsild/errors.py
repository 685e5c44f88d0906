"""NGSI-LD errors as ProblemDetails (RFC 9457, ETSI GS CIM 009 clause 5.5.2 and 6.3.2).

Every failure of an NGSI-LD route is raised as ``NgsiLdError`` and rendered here, once. The body is
``{"type", "title", "status", "detail"}``; ``type`` is one of the error type URIs CIM 009 defines
(``https://uri.etsi.org/ngsi-ld/errors/<Name>``). CIM 009 (clause 6.3.4) sends ProblemDetails with
``Content-Type: application/json`` rather than ``application/problem+json``, so that is what we send
(NGSI-LD client libraries look for JSON, not for the problem media type).

Where CIM 009 defines no error type (content negotiation: 406; a method the read-only API does not
offer: 405) the type is RFC 9457's ``about:blank``: the HTTP status says all there is, and no URI
under uri.etsi.org is invented.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from talentgraph.errors import TalentgraphError

ERRORS_BASE = "https://uri.etsi.org/ngsi-ld/errors/"

# Error type → HTTP status, CIM 009 table 6.3.2-1 (the ones a read API can raise).
STATUS: dict[str, int] = {
    "InvalidRequest": 400,
    "BadRequestData": 400,
    "ResourceNotFound": 404,
    "AlreadyExists": 409,
    "TooComplexQuery": 403,
    "TooManyResults": 403,
    "LdContextNotAvailable": 503,
    "OperationNotSupported": 422,
    "InternalError": 500,
    "NoMultiTenantSupport": 501,
}
_PLAIN: dict[int, str] = {403: "Forbidden", 405: "Method Not Allowed", 406: "Not Acceptable",
                         415: "Unsupported Media Type"}


class NgsiLdError(TalentgraphError):
    """A request the NGSI-LD API answers with a ProblemDetails body.

    ``kind`` is a CIM 009 error type name (``BadRequestData``) or an HTTP status for the cases CIM 009
    leaves to HTTP (405, 406).
    """

    code = "NGSI_LD"

    def __init__(self, kind: str | int, detail: str, *, headers: dict[str, str] | None = None) -> None:
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}
        super().__init__(detail)

    @property
    def status(self) -> int:
        return self.kind if isinstance(self.kind, int) else STATUS[self.kind]

    def body(self) -> dict[str, Any]:
        if isinstance(self.kind, int):
            return {"type": "about:blank", "title": _PLAIN[self.kind], "status": self.kind, "detail": self.detail}
        return {"type": ERRORS_BASE + self.kind, "title": _title(self.kind), "status": self.status,
                "detail": self.detail}


def bad_request(param: str, value: object, expected: str) -> NgsiLdError:
    """BadRequestData naming the parameter, the value as given (shortened) and what was expected."""
    return NgsiLdError("BadRequestData", f"{param}: {_shown(value)} is not valid; expected {expected}.")


def unsupported(param: str, value: object, what: str, instead: str) -> NgsiLdError:
    """BadRequestData for syntax CIM 009 defines but this service does not implement (say which part)."""
    return NgsiLdError("BadRequestData",
                       f"{param}: {_shown(value)} uses {what}, which this service does not support; {instead}.")


def not_found(entity_id: str) -> NgsiLdError:
    return NgsiLdError("ResourceNotFound", f"No entity {_shown(entity_id)} is readable here "
                       "(it does not exist, or the caller's role may not read it).")


def problem_response(exc: NgsiLdError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers, media_type="application/json")


def _title(kind: str) -> str:
    # "BadRequestData" → "Bad request data": the type name as words.
    words = "".join(" " + c.lower() if c.isupper() else c for c in kind).strip()
    return words[:1].upper() + words[1:]


def _shown(value: object, limit: int = 120) -> str:
    """A caller's value quoted for a message, cut so a 100 kB parameter never comes back whole."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"… ({len(str(value))} characters)"
