"""``talentgraph ingest-docs`` and ``talentgraph docs``: documents into the graph, and the candidate review.

``DocsOps`` is the one implementation (as ``vocab_cli.VocabOps``): the CLI runs it on the data dir when
it is free, and a running server (which owns an embedded data dir) runs it behind ``POST /admin/docs``
— the CLI sends there when a server owns the data dir or ``--server URL`` is given. After every write
the search index catches up from the change log, so documents are searchable when the command returns.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from talentgraph.errors import BadQueryError

# A server reads at most this many paths per request (each may be a folder).
MAX_PATHS = 200


class DocsOps:
    """Ingest / pending / accept / reject / merge over one set of stores.

    ``stores``: ``() -> (graph, projector, close)``; ``lock`` is held around every write, so a server
    never stores documents while a register job or an erasure writes."""

    def __init__(self, stores: Callable[[], tuple[Any, Any, Callable[[], None]]],
                 lock: AbstractContextManager[Any] | None = None, roots: Sequence[Path] | None = None) -> None:
        self._stores = stores
        self._lock = lock if lock is not None else threading.Lock()
        self.roots = roots  # set on a server: every path must lie inside one of them

    def ingest(self, paths: Sequence[str], *, progress: bool = False, force: bool = False) -> dict[str, Any]:
        from talentgraph.text.jobs import ingest_documents

        if not paths:
            raise BadQueryError("No documents given.", hint="Name files or folders, e.g. ingest-docs reports/.")
        if len(paths) > MAX_PATHS:
            raise BadQueryError(f"{len(paths)} paths in one request.", hint=f"Send at most {MAX_PATHS}; "
                                "name their folder instead.")
        if self.roots is not None:
            from talentgraph.admin import confine

            paths = [str(confine(p, self.roots, "A document path")) for p in paths]
        with self._lock:
            graph, projector, close = self._stores()
            try:
                summary = ingest_documents(graph, paths, progress=progress, roots=self.roots, force=force)
                projector.sync()
            finally:
                close()
        return summary.to_dict()

    def review(self, body: dict[str, Any], by: str) -> dict[str, Any]:
        from talentgraph.text.review import perform

        if body.get("action") == "pending":
            graph, _, close = self._stores()
            try:
                return perform(graph, body, by=by)
            finally:
                close()
        with self._lock:
            graph, projector, close = self._stores()
            try:
                result = perform(graph, body, by=by)
                projector.sync()
            finally:
                close()
        return result


def local_ops(settings: Any) -> DocsOps:
    from talentgraph.stores import open_stores, private_data_dir

    private_data_dir(settings.data_dir)

    def stores() -> tuple[Any, Any, Callable[[], None]]:
        s = open_stores(settings)
        return s.graph, s.projector, s.close

    return DocsOps(stores)


def server_ops(stores: Any, lock: AbstractContextManager[Any], roots: Sequence[Path]) -> DocsOps:
    """``DocsOps`` over a running server's open stores, sharing its write lock, paths confined to ``roots``."""
    return DocsOps(lambda: (stores.graph, stores.projector, lambda: None), lock, roots)


def run(ops: DocsOps, body: dict[str, Any], by: str) -> dict[str, Any]:
    """One ``/admin/docs`` request on ``ops``."""
    if body.get("action") == "ingest":
        paths = body.get("paths")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise BadQueryError("paths is not a list of file or folder paths.",
                                hint='Send e.g. {"action": "ingest", "paths": ["/data/reports"]}.')
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise BadQueryError("force is not true or false.")
        return ops.ingest(paths, force=force)
    return ops.review(body, by)


# --- the commands -----------------------------------------------------------------------------------


def _call(args: argparse.Namespace, body: dict[str, Any], *, progress: bool = False) -> dict[str, Any]:
    from talentgraph.cli import _admin_call, _server_for
    from talentgraph.cli import _settings as settings_of

    settings = settings_of(args)
    server = _server_for(args, settings)
    if server:
        print(f"A talentgraph server is using this data dir; sending the request to {server} …", file=sys.stderr)
        return _admin_call(server, "/admin/docs", body, settings)
    ops = local_ops(settings)
    if body["action"] == "ingest":
        return ops.ingest(body["paths"], progress=progress, force=bool(body.get("force")))
    return ops.review(body, f"cli:{os.environ.get('USER', 'unknown')}")


def cmd_ingest_docs(args: argparse.Namespace) -> int:
    # Paths as this process sees them: a server resolves nothing relative to its own directory.
    paths = [os.path.abspath(p) for p in args.paths]
    result = _call(args, {"action": "ingest", "paths": paths, "force": args.force},
                   progress=not args.quiet and not args.json)
    if args.json:
        print(json.dumps(result["documents"], ensure_ascii=False, indent=2))
        return 0
    print(f"{result['rows_in']} document(s): {result['inserted']} new, {result['updated']} changed, "
          f"{result['unchanged']} unchanged, {result['quarantined']} failed; {result['mentions']} mentions, "
          f"{result['candidates']} candidate(s), {result['claims']} claim(s); {result['rows_per_second']:.1f} "
          "documents/s.")
    for d in result["documents"]:
        if d["status"] == "failed":
            print(f"  failed  {d['path']}: {d.get('reason')}")
    if result["candidates"]:
        print("New entities wait for review: talentgraph docs pending")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    if args.accept:
        props: dict[str, Any] = {}
        for item in args.set or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise BadQueryError(f"--set {item!r} is not PROPERTY=VALUE.", hint="e.g. --set level=branch")
            props[key] = value
        body: dict[str, Any] = {"action": "accept", "id": args.accept, "type": args.type, "props": props}
    elif args.reject:
        body = {"action": "reject", "id": args.reject}
    elif args.merge_into:
        body = {"action": "merge", "id": args.merge_into[0], "into": args.merge_into[1]}
    else:
        body = {"action": "pending", "first": args.first}
    result = _call(args, body)
    if args.json:
        print(json.dumps(result.get("pending", result), ensure_ascii=False, indent=2))
        return 0
    if "pending" in result:
        rows = result["pending"]
        if not rows:
            print("No candidates wait for review.")
            return 0
        for r in rows:
            conf = f"{r['confidence']:.2f}" if r["confidence"] is not None else "  - "
            docs = ", ".join(str(d["title"] or d["id"]) for d in r["documents"][:3])
            print(f"{r['id']}  {conf}  {r['candidate_type']:<18} {r['name']}  ({r['mentions']} mention(s): {docs})")
        print(f"{len(rows)} candidate(s): talentgraph docs --accept ID | --reject ID | --merge-into ID NODE")
        return 0
    if result["review"] == "accepted":
        print(f"Accepted {result['candidate']} as {result['type']} {result['node']}; "
              f"{result['moved'].get('MENTIONS', 0)} document mention(s) now point to it.")
    elif result["review"] == "merged":
        alias = f"; {result['alias']!r} added as an alias" if result.get("alias") else ""
        print(f"Merged {result['candidate']} into {result['node']}{alias}.")
    else:
        print(f"Rejected {result['candidate']}; it will not be proposed again.")
    return 0


def add_docs_commands(sub: Any, parent: argparse.ArgumentParser) -> None:
    server_help = "Send to this running server (default: the one that owns the data dir, if any)."
    help_ = ("Read documents (txt, Markdown, HTML, DOCX, PDF; files or folders) into Documents, mentions, "
             "candidate entities and claims (through a running server if one owns the data dir).")
    p = sub.add_parser("ingest-docs", parents=[parent], help=help_, description=help_)
    p.add_argument("paths", nargs="+", metavar="PATH", help="Files or folders (read recursively).")
    p.add_argument("--json", action="store_true",
                   help="Print per document its mentions (surface, type, node or candidate id) and claims.")
    p.add_argument("--server", help=server_help)
    p.add_argument("--quiet", action="store_true", help="No progress bar.")
    p.add_argument("--force", action="store_true",
                   help="Read unchanged documents again (after a pipeline or model upgrade).")
    p.set_defaults(func=cmd_ingest_docs)
    help_ = "Review the candidate entities documents name: list pending ones, accept, reject or merge into a node."
    p = sub.add_parser("docs", parents=[parent], help=help_, description=help_)
    p.add_argument("action", nargs="?", choices=["pending"], default="pending", help="List pending candidates.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--accept", metavar="ID", help="Create the node the candidate names.")
    mode.add_argument("--reject", metavar="ID", help="Not an entity: never proposed again.")
    mode.add_argument("--merge-into", nargs=2, metavar=("ID", "NODE"), help="The candidate is this existing node.")
    p.add_argument("--type", help="With --accept: the node type to create (default: the candidate's).")
    p.add_argument("--set", action="append", metavar="PROPERTY=VALUE",
                   help="With --accept: another property of the new node (e.g. level=branch); repeatable.")
    p.add_argument("--first", type=int, default=100, help="How many pending candidates to list (default 100).")
    p.add_argument("--json", action="store_true", help="Print as JSON.")
    p.add_argument("--server", help=server_help)
    p.set_defaults(func=cmd_docs)


__all__ = ["DocsOps", "add_docs_commands", "cmd_docs", "cmd_ingest_docs", "local_ops", "run", "server_ops"]
