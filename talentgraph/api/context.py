"""Per-request context: the ports, settings, ontology and one fresh set of DataLoaders."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread

from talentgraph.access.policy import POLICY, RoleView
from talentgraph.access.principal import Principal
from talentgraph.access.scope import RequestAccess
from talentgraph.api.loaders import Loaders
from talentgraph.config import Settings
from talentgraph.errors import DeadlineError
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY, Ontology

if TYPE_CHECKING:
    from talentgraph.search.service import SearchService

T = TypeVar("T")


@dataclass(frozen=True)
class Deadline:
    at: float  # time.monotonic() value
    seconds: float  # the budget it was set with, for the message


_DEADLINE: ContextVar[Deadline | None] = ContextVar("talentgraph_request_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """The request's deadline for every ``run_sync`` in this context and the tasks it starts.

    ``view.GraphQLView`` sets it around execution, together with ``anyio.fail_after`` of the same
    length: the cancel scope stops the request's own task; this variable stops the work queued
    outside it (DataLoader batches run in tasks of their own, which copy the context).
    """
    d = Deadline(time.monotonic() + seconds, seconds)
    token = _DEADLINE.set(d)
    try:
        yield d
    finally:
        _DEADLINE.reset(token)


def check_deadline() -> None:
    """Raise ``DeadlineError`` when this context's deadline has passed."""
    d = _DEADLINE.get()
    if d is not None and time.monotonic() >= d.at:
        raise DeadlineError(
            f"The request ran past its {d.seconds:g} s deadline and was stopped.",
            hint="Ask for less at once: smaller `first` on nested fields, fewer relationships, narrower filters.",
        )


async def run_sync(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking port call in a worker thread so one slow query never stalls the event loop.

    Checks the request's deadline first, so a request past it starts no further store call. A
    call already running finishes (the stores cannot be interrupted safely); the worker thread is
    not abandoned, so a cancelled request holds its thread until then and no more.
    The stores serialise their own access (LadybugDB adapter holds a lock), so no limiter here.
    """
    check_deadline()
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


@dataclass
class ApiContext:
    graph: GraphStore
    search: "SearchService | None"
    settings: Settings
    # Who is asking; every resolver reads what it may show from ``access`` (the role policy).
    principal: Principal
    ontology: Ontology = ONTOLOGY
    audit: Any = None  # access.audit.AuditLog, read by the admin-only auditLog field
    loaders: Loaders = field(init=False)
    access: RequestAccess = field(init=False)

    def __post_init__(self) -> None:
        # A new loader set per request: caching across requests would serve stale nodes after an ingest.
        self.loaders = Loaders(self.graph, run_sync)
        self.access = RequestAccess(self.principal, POLICY.view(self.principal.role), self.graph, run_sync)

    @property
    def view(self) -> RoleView:
        return self.access.view

    @property
    def max_page_size(self) -> int:
        return self.settings.max_page_size
