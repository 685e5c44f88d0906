"""``talentgraph vocab``: review unreviewed terms, add terms and aliases, re-normalise the graph.

``pending`` lists the values ingest kept because no vocabulary had them; ``add`` and ``alias``
write the data directory's overlay (``schema/overlay.py``) and then re-normalise the records
holding values the vocabulary now knows, so the search index catches up from the change log.
While a server owns an embedded data dir the overlay is still written (the server reads it within
``OVERLAY_RECHECK`` seconds) and re-normalising waits for ``vocab renormalise`` on a free data dir.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from talentgraph.errors import StoreBusyError


def _settings(args: argparse.Namespace) -> Any:
    from talentgraph.cli import _settings as settings_of  # cli imports this module; read it late

    return settings_of(args)


def _overlay(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from talentgraph.schema.overlay import overlay_path
    from talentgraph.schema.vocabularies import use_overlay

    settings = _settings(args)
    path: Path = overlay_path(settings.data_dir)
    use_overlay(path)
    return settings, path


def cmd_pending(args: argparse.Namespace) -> int:
    from talentgraph.ingest.review import pending
    from talentgraph.stores import open_graph

    settings, _ = _overlay(args)
    graph = open_graph(settings)
    try:
        items = pending(graph)
    finally:
        graph.close()
    if args.json:
        print(json.dumps([i.to_dict() for i in items], ensure_ascii=False, indent=2))
        return 0
    if not items:
        print("No unreviewed terms: every vocabulary value in the graph is a term.")
        return 0
    print(f"{len(items)} unreviewed value(s); add a term (vocab add) or an alias (vocab alias) for each:")
    for i in items:
        where = ", ".join(f"{e['id']} ({e['job']} row {e['row']})" for e in i.examples)
        print(f"  {i.count:>6}  {i.vocabulary:<14} {i.value!r:<24} e.g. {where}")
    return 0


def _after_overlay_change(args: argparse.Namespace, settings: Any) -> None:
    from talentgraph.schema.vocabularies import refresh

    refresh()
    if args.no_renormalise:
        print("Not re-normalised (--no-renormalise); run `talentgraph vocab renormalise` to apply it to the graph.")
        return
    try:
        _renormalise(settings)
    except StoreBusyError:
        print("The data dir is in use by a server: the overlay is written and new ingests use it; "
              "run `talentgraph vocab renormalise` when the data dir is free to rewrite stored records.")


def _renormalise(settings: Any) -> None:
    from talentgraph.ingest.review import renormalise
    from talentgraph.stores import open_stores

    stores = open_stores(settings)
    try:
        n = renormalise(stores.graph)
        report = stores.projector.sync()
    finally:
        stores.close()
    print(f"Re-normalised {n} record(s); search index caught up ({report.indexed} documents).")


def cmd_add(args: argparse.Namespace) -> int:
    from talentgraph.schema.overlay import add_term
    from talentgraph.schema.vocabularies import package_vocabularies
    from talentgraph.stores import private_data_dir

    settings, path = _overlay(args)
    private_data_dir(settings.data_dir)
    term = {"id": args.id, "zh": args.zh, "en": args.en, "native": args.native, "parent": args.parent,
            "synonyms": args.synonym or []}
    add_term(path, package_vocabularies(), args.vocabulary, term)
    print(f"Added {args.vocabulary} term {args.id!r} ({args.zh} / {args.en}) to {path}.")
    _after_overlay_change(args, settings)
    return 0


def cmd_alias(args: argparse.Namespace) -> int:
    from talentgraph.schema.overlay import add_alias
    from talentgraph.schema.vocabularies import package_vocabularies
    from talentgraph.stores import private_data_dir

    settings, path = _overlay(args)
    private_data_dir(settings.data_dir)
    add_alias(path, package_vocabularies(), args.vocabulary, args.term_id, args.text)
    print(f"{args.text!r} now means {args.vocabulary} term {args.term_id!r} ({path}).")
    _after_overlay_change(args, settings)
    return 0


def cmd_renormalise(args: argparse.Namespace) -> int:
    settings, _ = _overlay(args)
    _renormalise(settings)
    return 0


def add_vocab_command(sub: Any, parent: argparse.ArgumentParser) -> None:
    """Register ``vocab pending|add|alias|renormalise`` on the top-level subparsers."""
    help_ = "Unreviewed vocabulary values: list them, add terms or aliases (data-dir overlay), re-normalise."
    p = sub.add_parser("vocab", parents=[parent], help=help_, description=help_)
    actions = p.add_subparsers(dest="vocab_command", required=True, metavar="ACTION")
    k = actions.add_parser("pending", parents=[parent], help="Values kept for review: vocabulary, count, examples.")
    k.add_argument("--json", action="store_true", help="Print as JSON.")
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
    k.set_defaults(func=cmd_add)
    k = actions.add_parser("alias", parents=[parent], help="Give a term another label (written to the overlay).")
    k.add_argument("vocabulary", help="Vocabulary name, e.g. languages.")
    k.add_argument("term_id", help="Existing term id, e.g. ru.")
    k.add_argument("text", help="The new label, e.g. 俄罗斯语.")
    k.add_argument("--no-renormalise", action="store_true", help="Only write the overlay.")
    k.set_defaults(func=cmd_alias)
    k = actions.add_parser("renormalise", parents=[parent],
                           help="Rewrite stored unreviewed values the vocabularies now know to their term ids.")
    k.set_defaults(func=cmd_renormalise)


__all__ = ["add_vocab_command", "cmd_add", "cmd_alias", "cmd_pending", "cmd_renormalise"]
