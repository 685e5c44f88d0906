"""Bulk writes that check every item and retry only the items that failed for a transient reason.

A ``_bulk`` response is 200 even when items failed, and the clients' bulk helpers do not retry
per-item failures by default. Here each item is classified: 429 (queue full, disk-watermark block)
and 5xx are retried with exponential backoff, alone, without resending the items that landed; any
other error (400 ``strict_dynamic_mapping_exception``, ``mapper_parsing_exception`` …) is permanent
and reported by document id once every other document has been written.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from talentgraph.errors import StoreError
from talentgraph.search.base import json_body
from talentgraph.search.opensearch.transport import EngineError, EngineUnavailable, Transport

Body = dict[str, Any]
MAX_DOCS = 1000
MAX_BYTES = 5_000_000  # well under the engines' 100 MB http.max_content_length, and quick to retry
SHOWN_FAILURES = 5


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries per item, the first included
    first_delay: float = 0.2
    max_delay: float = 10.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        """Pause after the ``attempt``-th try: doubling, capped, with jitter so that several
        writers refused at once do not come back at once."""
        base = min(self.max_delay, self.first_delay * 2 ** (attempt - 1))
        return float(base * random.uniform(0.5, 1.0))


@dataclass(frozen=True)
class Action:
    """One line of a bulk request; ``source``: the document (index), as a body or as its JSON text already
    (what a document worker encoded is sent as it is, never decoded only to be encoded again)."""

    op: Literal["index", "delete"]
    id: str
    source: Body | str | None = None

    @functools.cached_property
    def text(self) -> str | None:
        """The source as JSON text (encoded once: sizing a chunk and every resend use it)."""
        if self.source is None or isinstance(self.source, str):
            return self.source
        return json_body(self.id, self.source)


@dataclass(frozen=True)
class ItemFailure:
    id: str
    status: int
    kind: str
    reason: str

    @property
    def retryable(self) -> bool:
        return retryable(self.status)


@dataclass
class BulkReport:
    total: int = 0
    indexed: int = 0
    deleted: int = 0  # delete of a document that existed
    missing: int = 0  # delete of an id that was not there
    retried: int = 0  # item re-sends
    requests: int = 0
    failures: list[ItemFailure] = field(default_factory=list)


class BulkError(StoreError):
    """Some documents were not written; the others were. ``failures`` names each one."""

    def __init__(self, message: str, *, failures: list[ItemFailure], report: BulkReport, hint: str) -> None:
        self.failures = failures
        self.report = report
        super().__init__(message, hint=hint)


def retryable(status: int) -> bool:
    return status == 429 or status >= 500


def ndjson(actions: Sequence[Action], index: str, *, require_alias: bool = False) -> bytes:
    """The bulk body, NDJSON as the engine reads it; ``require_alias`` makes a write to a vanished alias fail
    instead of silently auto-creating an index of that name with a guessed mapping."""
    out = bytearray()
    for a in actions:
        meta: Body = {"_index": index, "_id": a.id}
        if require_alias and a.op == "index":
            meta["require_alias"] = True
        out += orjson.dumps({a.op: meta})
        out += b"\n"
        if a.op == "index":
            out += (a.text or "{}").encode("utf-8")
            out += b"\n"
    return bytes(out)


def chunks(actions: Iterable[Action], max_docs: int = MAX_DOCS, max_bytes: int = MAX_BYTES) -> Iterator[list[Action]]:
    """Consecutive groups of at most ``max_docs`` actions and about ``max_bytes`` of JSON."""
    batch: list[Action] = []
    size = 0
    for a in actions:
        n = len(a.text.encode("utf-8")) if a.text is not None else 0
        if batch and (len(batch) >= max_docs or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(a)
        size += n + 64
    if batch:
        yield batch


def write(
    transport: Transport,
    index: str,
    actions: Iterable[Action],
    *,
    policy: RetryPolicy = RetryPolicy(),
    require_alias: bool = False,
    max_docs: int = MAX_DOCS,
    max_bytes: int = MAX_BYTES,
) -> BulkReport:
    """Send every action to ``index``; raises ``BulkError`` after the last chunk if any item failed."""
    report = BulkReport()
    for chunk in chunks(actions, max_docs, max_bytes):
        report.total += len(chunk)
        _send(transport, index, chunk, policy, report, require_alias)
    if report.failures:
        raise _error(index, report)
    return report


def _send(transport: Transport, index: str, chunk: list[Action], policy: RetryPolicy, report: BulkReport,
          require_alias: bool) -> None:
    pending = chunk
    for attempt in range(1, policy.attempts + 1):
        try:
            response = transport.bulk(ndjson(pending, index, require_alias=require_alias))
        except (EngineError, EngineUnavailable) as exc:
            # The whole request was refused (429 at the HTTP level, a restarting node): resend it.
            if not exc.retryable or attempt == policy.attempts:
                raise
            policy.sleep(policy.delay(attempt))
            continue
        report.requests += 1
        items = response.get("items", [])
        if len(items) != len(pending):
            raise StoreError(f"Bulk request to {index!r} sent {len(pending)} actions but got {len(items)} results.",
                             hint="The engine's answer is malformed; check the engine version and its logs.")
        again: list[tuple[Action, ItemFailure]] = []
        for action, item in zip(pending, items):
            ((_op, result),) = item.items()
            status = int(result.get("status", 0))
            error = result.get("error")
            if error is None:
                if action.op == "index":
                    report.indexed += 1
                elif result.get("result") == "deleted":
                    report.deleted += 1
                else:
                    report.missing += 1
                continue
            kind = str(error.get("type", "")) if isinstance(error, dict) else ""
            reason = str(error.get("reason", "")) if isinstance(error, dict) else str(error)
            failure = ItemFailure(action.id, status, kind, reason)
            if failure.retryable:
                again.append((action, failure))
            else:
                report.failures.append(failure)
        if not again:
            return
        if attempt == policy.attempts:
            report.failures.extend(f for _a, f in again)
            return
        report.retried += len(again)
        policy.sleep(policy.delay(attempt))
        pending = [a for a, _f in again]


def _error(index: str, report: BulkReport) -> BulkError:
    failures = report.failures
    shown = "; ".join(f"{f.id} ({f.status} {f.kind}: {f.reason})" for f in failures[:SHOWN_FAILURES])
    more = f"; and {len(failures) - SHOWN_FAILURES} more" if len(failures) > SHOWN_FAILURES else ""
    if all(f.retryable for f in failures):
        hint = (f"The engine kept refusing them after retries (overloaded, or a disk-watermark block): "
                f"free disk or wait, then write them again. The other {report.total - len(failures)} were written.")
    else:
        hint = ("The index mapping is dynamic: strict — build documents with search.mapping.build_doc for the "
                "ontology the index was built with, or rebuild the index after an ontology change. "
                f"The other {report.total - len(failures)} were written.")
    return BulkError(f"{len(failures)} of {report.total} documents were not written to {index!r}: {shown}{more}.",
                     failures=failures, report=report, hint=hint)


__all__ = ["Action", "BulkError", "BulkReport", "ItemFailure", "RetryPolicy", "chunks", "ndjson", "retryable", "write"]
