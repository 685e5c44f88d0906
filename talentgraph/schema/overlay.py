"""The vocabulary overlay: terms and aliases added in the data directory, merged over the package's.

A register brings words the shipped vocabularies lack (红酒品鉴, a dialect's name for a language).
Ingest keeps them as unreviewed terms (``validation.py``); a community worker then adds a term or
an alias with ``talentgraph vocab add`` / ``vocab alias``, which write this file — never the
installed package, which an upgrade would replace and which may not be writable at all.

``<data-dir>/vocab-overlay.yaml`` (mode 0600)::

    skills:
      terms:
        - {id: wine_tasting, zh: 红酒品鉴, en: Wine tasting, parent: cooking}
      aliases:
        cooking: [烘焙课]          # extra synonyms of any term, the package's or the overlay's

Precedence: the package vocabularies are the base and the overlay only *adds*. An overlay term
may not reuse a package id (that would silently redefine what stored ids mean: use an alias), and
a label already belonging to another term is refused when the overlay is loaded, naming this file
— so a package upgrade that later ships the same label makes the conflict visible, not the file
order. Duplicate keys are refused (``UniqueKeyLoader``), as in job files.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from talentgraph.errors import IngestError, OntologyError
from talentgraph.ingest.yamlfile import load_yaml
from talentgraph.schema.vocabularies import Term, Vocabulary, parse_terms

OVERLAY_FILE = "vocab-overlay.yaml"
_ENTRY_KEYS = {"terms", "aliases"}


def overlay_path(data_dir: Path) -> Path:
    return data_dir / OVERLAY_FILE


def read_overlay(path: Path) -> dict[str, dict[str, Any]]:
    """The overlay's entries by vocabulary name ({} when the file does not exist)."""
    if not path.exists():
        return {}
    try:
        data = load_yaml(path, "Vocabulary overlay")
    except IngestError as exc:
        raise OntologyError(exc.message, hint=exc.hint) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise OntologyError(f"{path.name}: not a vocabulary overlay.",
                            hint="Expected a mapping of vocabulary name → {terms: [...], aliases: {...}}.")
    for name, entry in data.items():
        if not isinstance(entry, dict) or set(entry) - _ENTRY_KEYS:
            raise OntologyError(f"{path.name}: entry {name!r} is {entry!r}.",
                                hint="Each vocabulary has 'terms' (a list) and/or 'aliases' (term id → labels).")
    return {str(k): v for k, v in data.items()}


def merge(base: dict[str, Vocabulary], overlay: dict[str, dict[str, Any]], source: str) -> dict[str, Vocabulary]:
    """``base`` with the overlay's terms and aliases added; OntologyError naming ``source`` on a conflict."""
    out = dict(base)
    for name, entry in overlay.items():
        vocab = base.get(name)
        if vocab is None:
            raise OntologyError(f"{source}: {name!r} is not a vocabulary.",
                                hint=f"Known vocabularies: {', '.join(sorted(base))}.")
        items = entry.get("terms") or []
        if not isinstance(items, list):
            raise OntologyError(f"{source}: {name}.terms is {items!r}.", hint="Write terms: [{id: …, zh: …, en: …}].")
        added = parse_terms(items, f"{source} ({name})")
        clash = sorted(set(added) & set(vocab.terms))
        if clash:
            raise OntologyError(f"{source}: {name} term {clash[0]!r} is already in the package vocabulary.",
                                hint="Add a label to it with `talentgraph vocab alias` instead of redefining it.")
        terms: dict[str, Term] = {**vocab.terms, **added}
        aliases = entry.get("aliases") or {}
        if not isinstance(aliases, dict):
            raise OntologyError(f"{source}: {name}.aliases is {aliases!r}.", hint="Write aliases: {term_id: [label]}.")
        for term_id, labels in aliases.items():
            if term_id not in terms:
                raise OntologyError(f"{source}: alias for {name} term {term_id!r}, which does not exist.",
                                    hint=f"Add the term first: talentgraph vocab add {name} {term_id} --zh … --en ….")
            if not isinstance(labels, list) or not all(isinstance(s, str) and s.strip() for s in labels):
                raise OntologyError(f"{source}: {name}.aliases.{term_id} is {labels!r}.",
                                    hint="Write a list of quoted strings.")
            t = terms[term_id]
            terms[term_id] = replace(t, synonyms=tuple(dict.fromkeys((*t.synonyms, *labels))))
        # Vocabulary() re-checks parents, cycles and labels shared by two terms over the merged set.
        try:
            out[name] = Vocabulary(name=name, terms=terms, description=vocab.description)
        except OntologyError as exc:
            raise OntologyError(f"{source}: {exc.message}",
                                hint=f"Fix or remove the entry in {source}; the package vocabulary wins.") from None
    return out


def _write(path: Path, overlay: dict[str, dict[str, Any]], base: dict[str, Vocabulary]) -> None:
    merge(base, overlay, path.name)  # refuse before writing: a bad overlay would stop every later load
    text = ("# Vocabulary overlay written by `talentgraph vocab add/alias`; merged over the package's\n"
            "# vocabularies (it may only add terms and labels). See README, 'Unreviewed terms'.\n")
    text += yaml.safe_dump(overlay, allow_unicode=True, sort_keys=True, default_flow_style=None, width=120)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed over, 0600 from the start: a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(prefix=".vocab-overlay-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_term(path: Path, base: dict[str, Vocabulary], vocab: str, term: dict[str, Any]) -> None:
    """Add a term (``{id, zh, en, native?, parent?, synonyms?}``) to the overlay file at ``path``."""
    overlay = read_overlay(path)
    entry = overlay.setdefault(vocab, {})
    terms = list(entry.get("terms") or [])
    if any(isinstance(t, dict) and t.get("id") == term["id"] for t in terms):
        raise OntologyError(f"{path.name}: {vocab} already has an overlay term {term['id']!r}.",
                            hint="Use `talentgraph vocab alias` to give it another label.")
    terms.append({k: v for k, v in term.items() if v not in (None, "", [], ())})
    entry["terms"] = terms
    _write(path, overlay, base)


def add_alias(path: Path, base: dict[str, Vocabulary], vocab: str, term_id: str, label: str) -> None:
    """Give term ``term_id`` of ``vocab`` one more label in the overlay file at ``path``."""
    overlay = read_overlay(path)
    entry = overlay.setdefault(vocab, {})
    aliases = dict(entry.get("aliases") or {})
    labels = list(aliases.get(term_id) or [])
    if label not in labels:
        labels.append(label)
    aliases[term_id] = labels
    entry["aliases"] = aliases
    _write(path, overlay, base)


__all__ = ["OVERLAY_FILE", "add_alias", "add_term", "merge", "overlay_path", "read_overlay"]
