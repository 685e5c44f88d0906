"""``talentgraph vocab``: review unreviewed terms, add terms and aliases, re-normalise the graph.

``pending`` lists the values ingest kept because no vocabulary had them; ``add`` and ``alias``
write the data directory's overlay (``schema/overlay.py``) and then re-normalise the records
holding values the vocabulary now knows, so the search index catches up from the change log.

``VocabOps`` is the one implementation: the CLI runs it on the data dir when it is free, and a
running server (which owns an embedded data dir) runs it behind ``POST /admin/vocab`` — the CLI
sends the command there when a server owns the data dir, or when ``--server URL`` is given.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from talentgraph.graph.port import GraphStore

class VocabOps:
    """Pending / add / alias / renormalise over one data dir's overlay and stores.

    ``stores`` opens (or returns) the stores: ``(need_index) -> (graph, projector or None, close)``;
    ``lock`` is held around every write, so a server never re-normalises while a job or an erasure writes.
    """

    def __init__(self, overlay: Path, stores: Callable[[bool], tuple[GraphStore, Any, Callable[[], None]]],
                 lock: AbstractContextManager[Any] | None = None) -> None:
        self.overlay = overlay
        self._stores = stores
        self._lock = lock if lock is not None else threading.Lock()

    def pending(self) -> dict[str, Any]:
        from talentgraph.ingest.review import pending

        self._use_overlay()
        graph, _, close = self._stores(False)
        try:
            return {"pending": [i.to_dict() for i in pending(graph)]}
        finally:
            close()

    def add(self, vocabulary: str, term: dict[str, Any], renormalise: bool = True) -> dict[str, Any]:
        from talentgraph.schema.overlay import add_term
        from talentgraph.schema.vocabularies import package_vocabularies

        with self._lock:
            self._use_overlay()
            add_term(self.overlay, package_vocabularies(), vocabulary, term)
            return self._after_change(renormalise)

    def alias(self, vocabulary: str, term_id: str, text: str, renormalise: bool = True) -> dict[str, Any]:
        from talentgraph.schema.overlay import add_alias
        from talentgraph.schema.vocabularies import package_vocabularies

        with self._lock:
            self._use_overlay()
            add_alias(self.overlay, package_vocabularies(), vocabulary, term_id, text)
            return self._after_change(renormalise)

    def renormalise(self) -> dict[str, Any]:
        with self._lock:
            self._use_overlay()
            return self._renormalise()

    def _use_overlay(self) -> None:
        from talentgraph.schema.vocabularies import refresh, use_overlay

        use_overlay(self.overlay)
        refresh()

    def _after_change(self, renormalise: bool) -> dict[str, Any]:
        from talentgraph.errors import StoreBusyError

        if not renormalise:
            return {"renormalised": None, "indexed": None}
        try:
            return self._renormalise()
        except StoreBusyError as exc:  # another process (not a server we could ask) holds the data dir
            return {"renormalised": None, "indexed": None, "busy": exc.message}

    def _renormalise(self) -> dict[str, Any]:
        from talentgraph.ingest.review import renormalise

        graph, projector, close = self._stores(True)
        try:
            n = renormalise(graph)
            report = projector.sync()
        finally:
            close()
        return {"renormalised": n, "indexed": report.indexed}


def local_ops(settings: Any) -> VocabOps:
    """``VocabOps`` that open the data dir's stores for each call (the CLI, no server running)."""
    from talentgraph.schema.overlay import overlay_path
    from talentgraph.stores import open_graph, open_stores, private_data_dir

    private_data_dir(settings.data_dir)  # before the overlay (it names the data's vocabulary) is written

    def stores(need_index: bool) -> tuple[GraphStore, Any, Callable[[], None]]:
        if need_index:
            s = open_stores(settings)
            return s.graph, s.projector, s.close
        graph = open_graph(settings)
        return graph, None, graph.close

    return VocabOps(overlay_path(settings.data_dir), stores)


def server_ops(stores: Any, settings: Any, lock: AbstractContextManager[Any]) -> VocabOps:
    """``VocabOps`` over a running server's open stores, sharing its write lock."""
    from talentgraph.schema.overlay import overlay_path

    return VocabOps(overlay_path(settings.data_dir), lambda need_index: (stores.graph, stores.projector, lambda: None),
                    lock)


def run(ops: VocabOps, body: dict[str, Any]) -> dict[str, Any]:
    """One vocab request (the ``/admin/vocab`` body, already validated) on ``ops``."""
    action = body["action"]
    if action == "pending":
        return ops.pending()
    if action == "add":
        return ops.add(body["vocabulary"], body["term"], body.get("renormalise", True))
    if action == "alias":
        return ops.alias(body["vocabulary"], body["term_id"], body["text"], body.get("renormalise", True))
    return ops.renormalise()


# --- the command --------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Any:
    from talentgraph.cli import _settings as settings_of  # cli imports this module; read it late

    return settings_of(args)


def _call(args: argparse.Namespace, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Run ``body`` through the running server that owns the data dir, else directly on it."""
    from talentgraph.cli import _admin_call, _server_for

    settings = _settings(args)
    server = _server_for(args, settings)
    if server:
        return settings, _admin_call(server, "/admin/vocab", body, settings)
    return settings, run(local_ops(settings), body)


def _print_renormalised(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if result.get("busy"):
        print(f"Not re-normalised: {result['busy']} The overlay is written and new ingests use it; run "
              "`talentgraph vocab renormalise` when the data dir is free.")
        return
    if result.get("renormalised") is None:
        print("Not re-normalised (--no-renormalise); run `talentgraph vocab renormalise` to apply it to the graph.")
        return
    print(f"Re-normalised {result['renormalised']} record(s); search index caught up "
          f"({result['indexed']} documents).")


def cmd_pending(args: argparse.Namespace) -> int:
    _, result = _call(args, {"action": "pending"})
    items = result["pending"]
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
        return 0
    if not items:
        print("No unreviewed terms: every vocabulary value in the graph is a term.")
        return 0
    print(f"{len(items)} unreviewed value(s); add a term (vocab add) or an alias (vocab alias) for each:")
    for i in items:
        where = ", ".join(f"{e['id']} ({e['job']} row {e['row']})" for e in i["examples"])
        print(f"  {i['count']:>6}  {i['vocabulary']:<14} {i['value']!r:<24} e.g. {where}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from talentgraph.schema.overlay import overlay_path

    term = {"id": args.id, "zh": args.zh, "en": args.en, "native": args.native, "parent": args.parent,
            "synonyms": args.synonym or []}
    settings, result = _call(args, {"action": "add", "vocabulary": args.vocabulary, "term": term,
                                    "renormalise": not args.no_renormalise})
    print(f"Added {args.vocabulary} term {args.id!r} ({args.zh} / {args.en}) to {overlay_path(settings.data_dir)}.")
    _print_renormalised(args, result)
    return 0


def cmd_alias(args: argparse.Namespace) -> int:
    from talentgraph.schema.overlay import overlay_path

    settings, result = _call(args, {"action": "alias", "vocabulary": args.vocabulary, "term_id": args.term_id,
                                    "text": args.text, "renormalise": not args.no_renormalise})
    print(f"{args.text!r} now means {args.vocabulary} term {args.term_id!r} ({overlay_path(settings.data_dir)}).")
    _print_renormalised(args, result)
    return 0


def cmd_renormalise(args: argparse.Namespace) -> int:
    _, result = _call(args, {"action": "renormalise"})
    _print_renormalised(args, result)
    return 0


def add_vocab_command(sub: Any, parent: argparse.ArgumentParser) -> None:
    """Register ``vocab pending|add|alias|renormalise`` on the top-level subparsers."""
    help_ = ("Unreviewed vocabulary values: list them, add terms or aliases (data-dir overlay), re-normalise "
             "(through a running server if one owns the data dir).")
    p = sub.add_parser("vocab", parents=[parent], help=help_, description=help_)
    actions = p.add_subparsers(dest="vocab_command", required=True, metavar="ACTION")
    server_help = "Send to this running server (default: the one that owns the data dir, if any)."
    k = actions.add_parser("pending", parents=[parent], help="Values kept for review: vocabulary, count, examples.")
    k.add_argument("--json", action="store_true", help="Print as JSON.")
    k.add_argument("--server", help=server_help)
    k.set_defaults(func=cmd_pending)
    k = actions.add_parser("add", parents=[parent], help="Add a term to a vocabulary (written to the overlay).")
    k.add_argument("vocabulary", help="Vocabulary name, e.g. skills.")
    k.add_argument("id", help="New term id, e.g. cooking.wine_tasting.")
    k.add_argument("--zh", required=True, help="Chinese label.")
    k.add_argument("--en", required=True, help="English label.")
    k.add_argument("--native", help="Native label (languages).")
    k.add_argument("--parent", help="Parent term id (skills hierarchy).")
    k.add_argument("--synonym", action="append", help="Another label; repeatable.")
    k.add_argument("--no-renormalise", action="store_true", help="Only write the overlay.")
    k.add_argument("--server", help=server_help)
    k.set_defaults(func=cmd_add)
    k = actions.add_parser("alias", parents=[parent], help="Give a term another label (written to the overlay).")
    k.add_argument("vocabulary", help="Vocabulary name, e.g. languages.")
    k.add_argument("term_id", help="Existing term id, e.g. ru.")
    k.add_argument("text", help="The new label, e.g. 俄罗斯语.")
    k.add_argument("--no-renormalise", action="store_true", help="Only write the overlay.")
    k.add_argument("--server", help=server_help)
    k.set_defaults(func=cmd_alias)
    k = actions.add_parser("renormalise", parents=[parent],
                           help="Rewrite stored unreviewed values the vocabularies now know to their term ids.")
    k.add_argument("--server", help=server_help)
    k.set_defaults(func=cmd_renormalise)


__all__ = ["VocabOps", "add_vocab_command", "cmd_add", "cmd_alias", "cmd_pending",
           "cmd_renormalise", "local_ops", "run", "server_ops"]
