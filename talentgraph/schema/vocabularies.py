"""Controlled vocabularies: skills, languages, nationalities and the small enums the ontology names.

The terms live in ``schema/vocab/<name>.yaml`` (data, not code) so a community worker can add a
skill or a synonym without touching Python. Each term has a stable id plus Chinese, English and
native labels, free synonyms and Russian labels (``ru``); ingest maps whatever a register says
("俄语", "Russian", "rus", "по-русски") to the id, and search expands an id back to every label
(and reads the pinyin of the Chinese ones, ``search/understanding.py``).

A data directory may add terms and labels in ``vocab-overlay.yaml`` (``schema/overlay.py``), which
``load_vocabularies()`` merges over the package's once ``use_overlay`` names it (``stores.open_stores``
does); the package stays the base, the overlay only adds.

File format::

    name: languages
    description: ...
    terms:
      - {id: ru, zh: 俄语, en: Russian, native: русский, synonyms: [俄文, rus], ru: [по-русски]}
      - {id: law.litigation, zh: 诉讼, en: Litigation, parent: law}
"""

from __future__ import annotations

import difflib
import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from talentgraph.errors import OntologyError, ValidationError

_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The form labels are compared in: NFKC (full-width → ASCII), casefolded, whitespace collapsed.

    NFKC matters because registers typed on Chinese keyboards mix full-width letters ("ＲＵ") and
    ideographic spaces; collapsing runs of spaces makes "Tai  Chi" equal "Tai Chi".
    """
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@dataclass(frozen=True)
class Term:
    id: str
    zh: str
    en: str
    native: str | None = None
    synonyms: tuple[str, ...] = ()
    parent: str | None = None
    ru: tuple[str, ...] = ()  # Russian labels (staff of a community with many Russian speakers write them)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every spelling of the term: id, zh, en, native, synonyms, Russian (first occurrence kept)."""
        out = [self.id, self.zh, self.en]
        if self.native:
            out.append(self.native)
        out.extend(self.synonyms)
        out.extend(self.ru)
        return tuple(dict.fromkeys(out))

    def label(self, lang: str = "zh") -> str:
        """Display label in ``zh``, ``en`` or ``native`` (falls back to zh when there is no native name)."""
        if lang == "en":
            return self.en
        if lang == "native":
            return self.native or self.zh
        return self.zh


@dataclass
class Vocabulary:
    name: str
    terms: dict[str, Term]
    description: str = ""
    _index: dict[str, Term] = field(default_factory=dict, init=False, repr=False)
    _children: dict[str, list[Term]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for term in self.terms.values():
            if term.parent is not None and term.parent not in self.terms:
                raise OntologyError(
                    f"Vocabulary {self.name!r}: term {term.id!r} has parent {term.parent!r}, which is not a term.",
                    hint=f"Add a term with id {term.parent!r} or fix the parent in vocab/{self.name}.yaml.",
                )
            self._children.setdefault(term.parent or "", []).append(term)
            for label in term.labels:
                key = normalise(label)
                other = self._index.get(key)
                if other is not None and other.id != term.id:
                    # A shared label would make ingest depend on file order; refuse instead.
                    raise OntologyError(
                        f"Vocabulary {self.name!r}: label {label!r} belongs to both {other.id!r} and {term.id!r}.",
                        hint=f"Keep the label on one term only in vocab/{self.name}.yaml.",
                    )
                self._index[key] = term
        for term in self.terms.values():
            self._check_acyclic(term)

    def _check_acyclic(self, term: Term) -> None:
        seen = {term.id}
        parent = term.parent
        while parent is not None:
            if parent in seen:
                raise OntologyError(
                    f"Vocabulary {self.name!r}: parent chain of {term.id!r} loops through {parent!r}.",
                    hint=f"Fix the parent fields in vocab/{self.name}.yaml.",
                )
            seen.add(parent)
            parent = self.terms[parent].parent

    # --- lookups -------------------------------------------------------------------------------

    def __contains__(self, term_id: object) -> bool:
        return term_id in self.terms

    def __len__(self) -> int:
        return len(self.terms)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms.values())

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.terms)

    def lookup(self, text: str) -> Term | None:
        """The term whose id or any label equals ``text`` after normalisation, else None."""
        if not isinstance(text, str):
            return None
        return self._index.get(normalise(text))

    def term(self, term_id: str) -> Term:
        """The term with exactly this id; OntologyError otherwise (for code, not user input)."""
        try:
            return self.terms[term_id]
        except KeyError:
            raise OntologyError(
                f"Vocabulary {self.name!r} has no term {term_id!r}.",
                hint=f"Known ids start: {', '.join(list(self.terms)[:12])}.",
            ) from None

    def require(self, value: str, field: str) -> Term:
        """Map user input to a term, or raise ValidationError with the closest labels as a hint."""
        term = self.lookup(value) if isinstance(value, str) else None
        if term is not None:
            return term
        close = self.suggest(value) if isinstance(value, str) else []
        hint = (
            "Did you mean " + ", ".join(f"{t.id} ({t.zh} / {t.en})" for _, t in close) + "?"
            if close
            else f"See vocab/{self.name}.yaml for the {len(self.terms)} accepted terms and their labels."
        )
        raise ValidationError(field, value, f"an id or label from the {self.name!r} vocabulary", hint=hint)

    def suggest(self, text: str, limit: int = 4) -> list[tuple[str, Term]]:
        """Closest (label, term) pairs to ``text``, best first, one per term."""
        key = normalise(text)
        if not key:
            return []
        best: dict[str, tuple[float, str, Term]] = {}
        for label, term in self.all_labels():
            norm = normalise(label)
            score = difflib.SequenceMatcher(None, key, norm).ratio()
            short, long_ = sorted((key, norm), key=len)
            # Containment catches "俄语翻译" → "俄语" and "piano lessons" → "piano", which ratio
            # scoring alone misses; the length guard keeps "ru" from matching every "ru…" word.
            if len(short) >= 2 and short in long_ and len(short) * 3 >= len(long_):
                score += 0.4
            if score >= 0.6 and score > best.get(term.id, (0.0, "", term))[0]:
                best[term.id] = (score, label, term)
        ranked = sorted(best.values(), key=lambda x: -x[0])
        return [(label, term) for _, label, term in ranked[:limit]]

    def children(self, term_id: str) -> list[Term]:
        self.term(term_id)
        return list(self._children.get(term_id, []))

    def descendants(self, term_id: str) -> list[Term]:
        out: list[Term] = []
        stack = list(reversed(self.children(term_id)))
        while stack:
            t = stack.pop()
            out.append(t)
            stack.extend(reversed(self._children.get(t.id, [])))
        return out

    def ancestors(self, term_id: str) -> list[Term]:
        """Parent, grandparent, … (nearest first)."""
        out: list[Term] = []
        parent = self.term(term_id).parent
        while parent is not None:
            out.append(self.terms[parent])
            parent = self.terms[parent].parent
        return out

    def roots(self) -> list[Term]:
        return list(self._children.get("", []))

    def expand(self, term_id: str) -> list[str]:
        """The id and all descendant ids: a search for ``law`` should also find ``law.contract``."""
        return [term_id, *(t.id for t in self.descendants(term_id))]

    def all_labels(self) -> Iterator[tuple[str, Term]]:
        for term in self.terms.values():
            for label in term.labels:
                yield label, term


# --- loading ------------------------------------------------------------------------------------

_TERM_KEYS = {"id", "zh", "en", "native", "synonyms", "parent", "ru"}


def parse_vocabulary(data: Any, source: str) -> Vocabulary:
    """Build a Vocabulary from parsed YAML, naming the file and term on every structural error."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("terms"), list):
        raise OntologyError(
            f"{source}: not a vocabulary file.",
            hint="Expected a mapping with 'name' (string) and 'terms' (list of {id, zh, en, ...}).",
        )
    terms = parse_terms(data["terms"], source)
    return Vocabulary(name=data["name"], terms=terms, description=str(data.get("description") or ""))


def parse_terms(items: list[Any], source: str) -> dict[str, Term]:
    """Terms by id from a YAML list, checked one by one (parents and shared labels: ``Vocabulary``)."""
    terms: dict[str, Term] = {}
    for i, raw in enumerate(items, start=1):
        where = f"{source}: term #{i}"
        if not isinstance(raw, dict):
            raise OntologyError(f"{where} is {raw!r}, not a mapping.",
                                hint="Write terms as {id: ..., zh: ..., en: ...}.")
        unknown = set(raw) - _TERM_KEYS
        if unknown:
            raise OntologyError(f"{where} has unknown keys {sorted(unknown)}.", hint=f"Allowed: {sorted(_TERM_KEYS)}.")
        for key in ("id", "zh", "en"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise OntologyError(f"{where} ({raw.get('id')!r}) lacks a non-empty {key!r}.",
                                    hint="Every term needs id, zh and en strings.")
        syn = raw.get("synonyms") or []
        if isinstance(syn, str):
            syn = [syn]
        # Strings only: unquoted YAML like `no` or `4:30` silently becomes False or 270.
        if not isinstance(syn, list) or not all(isinstance(s, str) for s in syn):
            raise OntologyError(
                f"{where} ({raw['id']!r}) has synonyms {syn!r}.",
                hint="Use a list of strings; quote values YAML reads as booleans or numbers (no, on, 4:30).",
            )
        ru = raw.get("ru") or []
        if isinstance(ru, str):
            ru = [ru]
        if not isinstance(ru, list) or not all(isinstance(s, str) for s in ru):
            raise OntologyError(f"{where} ({raw['id']!r}) has ru {ru!r}.", hint="Use a list of Russian labels.")
        for key in ("native", "parent"):
            if raw.get(key) is not None and not isinstance(raw[key], str):
                raise OntologyError(f"{where} ({raw['id']!r}) has {key} {raw[key]!r}.", hint="Use a quoted string.")
        term = Term(
            id=raw["id"],
            zh=raw["zh"],
            en=raw["en"],
            native=raw.get("native") or None,
            synonyms=tuple(syn),
            parent=raw.get("parent") or None,
            ru=tuple(ru),
        )
        if term.id in terms:
            raise OntologyError(f"{where}: duplicate id {term.id!r}.", hint="Ids must be unique within a file.")
        terms[term.id] = term
    return terms


# libyaml's safe loader where PyYAML has it: the same documents, ~10x faster (0.5 s of every start).
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def package_vocabularies() -> dict[str, Vocabulary]:
    """Every vocabulary in the package's ``schema/vocab/*.yaml``, keyed by name (read once)."""
    out: dict[str, Vocabulary] = {}
    folder = resources.files("talentgraph.schema").joinpath("vocab")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        source = f"vocab/{entry.name}"
        vocab = parse_vocabulary(yaml.load(entry.read_text(encoding="utf-8"), Loader=_SAFE_LOADER), source)
        if vocab.name != entry.name.removesuffix(".yaml"):
            raise OntologyError(f"{source} declares name {vocab.name!r}.",
                                hint="A vocabulary's name must match its file name.")
        out[vocab.name] = vocab
    return out


# The data directory's overlay (``schema/overlay.py``) is merged over the package's vocabularies.
# Another process (``talentgraph vocab add`` beside a running server) may rewrite it, so its stat
# is looked at again at most every OVERLAY_RECHECK seconds; a change gives a new merged dict and a
# new ``generation()``, which is what memos of lookups (``validation.py``) key on.
OVERLAY_RECHECK = 1.0


class _Loaded:
    path: Path | None = None
    stamp: tuple[int, int, int] | None = None
    checked: float = float("-inf")
    merged: dict[str, Vocabulary] | None = None
    generation: int = 0


_LOADED = _Loaded()


def use_overlay(path: Path | None) -> None:
    """Merge the overlay file at ``path`` (``overlay.overlay_path(data_dir)``) from now on; None: none."""
    _LOADED.path = path
    refresh()


def current_overlay() -> Path | None:
    """The overlay file ``use_overlay`` named (None: the package vocabularies alone)."""
    return _LOADED.path


def refresh() -> None:
    """Forget the merged vocabularies, so the next load reads the overlay again (after writing it)."""
    _LOADED.stamp = None
    _LOADED.checked = float("-inf")
    _LOADED.merged = None
    _LOADED.generation += 1


def generation() -> int:
    """Changes whenever ``load_vocabularies()`` starts returning different vocabularies."""
    load_vocabularies()
    return _LOADED.generation


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def load_vocabularies() -> dict[str, Vocabulary]:
    """The package vocabularies with the data directory's overlay merged in (see ``use_overlay``).

    Returns the same dict object until the overlay changes.
    """
    path = _LOADED.path
    if path is None:
        return package_vocabularies()
    now = time.monotonic()
    if _LOADED.merged is not None and now - _LOADED.checked < OVERLAY_RECHECK:
        return _LOADED.merged
    _LOADED.checked = now
    stamp = _stamp(path)
    if _LOADED.merged is None or stamp != _LOADED.stamp:
        from talentgraph.schema.overlay import merge, read_overlay  # overlay builds on this module

        base = package_vocabularies()
        merged = merge(base, read_overlay(path), path.name) if stamp is not None else base
        if merged is not _LOADED.merged:
            _LOADED.generation += 1
        _LOADED.merged, _LOADED.stamp = merged, stamp
    return _LOADED.merged


def vocabulary(name: str) -> Vocabulary:
    vocabs = load_vocabularies()
    try:
        return vocabs[name]
    except KeyError:
        raise OntologyError(
            f"Unknown vocabulary {name!r}.", hint=f"Known vocabularies: {', '.join(sorted(vocabs))}."
        ) from None
