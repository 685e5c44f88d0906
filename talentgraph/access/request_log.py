"""The server's request log without what people asked for.

uvicorn's access log line carries the request target as sent, query string and all: a staff search
(``/?q=张伟``), every keystroke of its suggestions (``/suggest?q=张``), a GraphQL GET with its query and
variables, an NGSI-LD ``q=`` filter. Those name residents, and a server log is copied, shipped and kept
where the access record (``access/audit.py``: who read whom, hash-chained, admin-only) is not. So the line
keeps the path and the name of each parameter, and elides every value (``/suggest?q=…``); a parameter
name that is not a plain identifier is elided too (``/?张伟`` is a name, not a parameter).
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
ELIDED = "…"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,40}")


def redacted_target(target: str) -> str:
    """``target`` (path and query string as sent) with every query value, and any odd name, elided."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    parts = []
    for part in query.split("&"):
        if not part:
            continue
        name = part.partition("=")[0]
        parts.append(f"{name}={ELIDED}" if _PLAIN_NAME.fullmatch(name) else ELIDED)
    return f"{path}?{'&'.join(parts)}"


class ElideQueryValues(logging.Filter):
    """Rewrites uvicorn's access record (``'%s - "%s %s HTTP/%s" %d'``: client, method, target, version,
    status) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], redacted_target(args[2]), *args[3:])
        return True


def install(logger_name: str = ACCESS_LOGGER) -> None:
    """Filter the access logger (once). Logger filters survive uvicorn's ``dictConfig`` of its loggers, which
    replaces their handlers and level only."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, ElideQueryValues) for f in logger.filters):
        logger.addFilter(ElideQueryValues())


__all__ = ["ACCESS_LOGGER", "ELIDED", "ElideQueryValues", "install", "redacted_target"]
