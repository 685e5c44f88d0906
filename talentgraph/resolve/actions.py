"""The steward's operations as one request shape, shared by the CLI and ``/admin/resolve``.

A request is a JSON object: ``{"action": "run", "threshold": 0.95, "review_floor": 0.5}``,
``{"action": "pending"}``, ``{"action": "accept"|"reject", "a": id, "b": id, "note": "…"}`` or
``{"action": "split", "cluster": id}``. Every write is followed by a search sync, so the canonical
view in search follows the graph before the answer is sent.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from talentgraph.errors import BadQueryError
from talentgraph.graph.port import GraphStore
from talentgraph.resolve.run import Resolver

ACTIONS = ("run", "pending", "accept", "reject", "split")
MAX_ID = 200


class Syncs(Protocol):
    def sync(self) -> Any: ...


def _id(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID:
        raise BadQueryError(f"{name} is {'missing' if value is None else 'not a record id'}.",
                            hint=f'Send e.g. {{"{name}": "per:LY000123"}}.')
    return value.strip()


def _probability(body: dict[str, Any], name: str, default: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadQueryError(f"{name} {value!r} is not a number.", hint=f"Send a probability such as {default}.")
    return float(value)


def perform(graph: GraphStore, projector: Syncs | None, data_dir: Path, body: dict[str, Any], *,
            by: str, progress: bool = False) -> dict[str, Any]:
    """Run one request; ``progress``: bars on stderr for a run of the model (the CLI, the demo)."""
    action = body.get("action", "run")
    if action not in ACTIONS:
        raise BadQueryError(f"action {action!r} is not one of {', '.join(ACTIONS)}.",
                            hint='Send e.g. {"action": "run", "threshold": 0.95}.')
    resolver = Resolver(graph, data_dir)
    if action == "pending":
        return {"pending": [asdict(p) for p in resolver.pending()]}
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > 1000:
        raise BadQueryError("note is not a short text.", hint="Send at most 1000 characters.")
    if action == "run":
        report = resolver.run(threshold=_probability(body, "threshold", 0.95),
                              review_floor=_probability(body, "review_floor", 0.5), progress=progress)
    elif action == "split":
        report = resolver.split(_id(body, "cluster"), by=by)
    else:
        report = resolver.decide(_id(body, "a"), _id(body, "b"), "accept" if action == "accept" else "reject",
                                 by=by, note=note)
    if projector is not None:
        projector.sync()
    return {"report": report.as_dict()}
