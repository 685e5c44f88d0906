"""The graph's names as the text pipeline sees them: surface form → the nodes that carry it.

Built from the graph (``Gazetteer.from_store``: every node of every type a document can mention, read
page by page through ``GraphStore.scan_nodes``) or from entries (``from_entries``, for tests and tools).
Which types and which properties are read comes from the ontology alone:

- types: the far ends of ``MENTIONS`` except ``Candidate`` (candidates are matched by their key, not by
  name: they are not register data);
- the title property of each type (``NodeType.title``) gives ``how="title"`` entries; every other property
  searched as a name (``searchable == SearchKind.NAME``: a person's ``latin_name`` and ``other_names``, an
  enterprise's ``latin_name``, the English ``name_en`` of an area, venue, group, party organisation or project)
  gives ``how="alias"`` entries: an English document links by the English name the register holds.

Persons are included: reports name residents, secretaries and volunteers. Their names are ambiguous (张伟
is many people); the gazetteer keeps every node a surface names and leaves choosing to ``linking``.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from talentgraph.graph.port import NodeScan
from talentgraph.schema.ontology import ONTOLOGY, NodeType, PropType, SearchKind

How = Literal["title", "alias"]
CANDIDATE_TYPE = "Candidate"
MIN_SURFACE_CHARS = 2  # a one-character "name" would match inside every sentence
MAX_SURFACE_CHARS = 80  # longer values are descriptions, not names
PAGE = 5_000


@dataclass(frozen=True)
class Entry:
    node_id: str
    type: str  # ontology node type name
    how: How


class NodeSource(Protocol):
    """What the gazetteer needs of a graph store (``GraphStore`` has it)."""

    def scan_nodes(self, type_name: str, after: str | None, limit: int, *,
                   fields: Sequence[str] | None = None) -> NodeScan: ...


def entity_types() -> tuple[str, ...]:
    """Node types a document can mention and that registers hold (MENTIONS far ends but Candidate)."""
    return tuple(t for t in ONTOLOGY.rel("MENTIONS").to_types if t != CANDIDATE_TYPE)


def alias_properties(nt: NodeType) -> tuple[str, ...]:
    """The type's other name properties: searched as names, string-valued, not the title."""
    return tuple(p.name for p in nt.properties
                 if p.searchable == SearchKind.NAME and p.name != nt.title
                 and p.type in (PropType.STRING, PropType.STRING_LIST))


# A party organisation's formal name and the short form running text uses (中共联洋社区委员会 ↔ 联洋社区党委):
# (formal prefix, formal ending, short ending), longest endings first. A Chinese naming convention, not data.
_PARTY_FORMS: tuple[tuple[str, str, str], ...] = (
    ("中共", "总支部委员会", "党总支"), ("中共", "支部委员会", "党支部"), ("中共", "工作委员会", "党工委"),
    ("中共", "委员会", "党委"),
)
_PARTY_PREFIXES = ("中国共产党", "中共")


def customary_forms(name: str) -> list[str]:
    """Other forms a name is written in: a party organisation's formal name (中共X委员会, 中国共产党X支部委员会)
    gives its short form (X党委, X党支部) and a short form its formal name; other names give nothing."""
    for prefix in _PARTY_PREFIXES:
        if name.startswith(prefix):
            core = name[len(prefix):]
            for _, formal, short in _PARTY_FORMS:
                if core.endswith(formal) and len(core) > len(formal):
                    return [core[: -len(formal)] + short]
            return []
    for _, formal, short in _PARTY_FORMS:
        if name.endswith(short) and len(name) > len(short) + 1:
            return [f"中共{name[: -len(short)]}{formal}"]
    return []


def clean_surface(value: str) -> str:
    """A property value as a surface form: NFC, inner whitespace collapsed, trimmed."""
    return " ".join(unicodedata.normalize("NFC", value).split())


class Gazetteer:
    """Surface form → entries; one surface may name several nodes (of one or several types)."""

    def __init__(self) -> None:
        self._by_surface: dict[str, list[Entry]] = {}
        self._titles: dict[str, str] = {}  # node id → its title

    # --- building -------------------------------------------------------------------------------

    def add(self, surface: str, node_id: str, type_name: str, how: How = "title") -> bool:
        """Add one surface of a node; False when it is no usable name or already there."""
        s = clean_surface(surface)
        if not (MIN_SURFACE_CHARS <= len(s) <= MAX_SURFACE_CHARS):
            return False
        ONTOLOGY.node(type_name)  # unknown type names fail here, not at match time
        entries = self._by_surface.setdefault(s, [])
        for i, e in enumerate(entries):
            if e.node_id == node_id:
                if how == "title" and e.how == "alias":  # a title beats the same string as an alias
                    entries[i] = Entry(node_id, type_name, "title")
                    return True
                return False
        entries.append(Entry(node_id, type_name, how))
        if how == "title":
            self._titles.setdefault(node_id, s)
            for other in customary_forms(s):
                self.add(other, node_id, type_name, "alias")
        return True

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[str, str, str] | tuple[str, str, str, How]]) -> "Gazetteer":
        """From (surface, node_id, type) or (surface, node_id, type, how) tuples."""
        g = cls()
        for row in entries:
            how: How = row[3] if len(row) == 4 else "title"
            g.add(row[0], row[1], row[2], how)
        return g

    @classmethod
    def from_store(cls, store: NodeSource, *, types: Sequence[str] | None = None, page: int = PAGE) -> "Gazetteer":
        """Every name of every node of ``types`` (default: ``entity_types()``) in the graph."""
        g = cls()
        for type_name in types or entity_types():
            nt = ONTOLOGY.node(type_name)
            aliases = alias_properties(nt)
            after: str | None = None
            while True:
                scan = store.scan_nodes(type_name, after, page, fields=[nt.title, *aliases])
                for _pos, node in scan.items:
                    title = node.props.get(nt.title)
                    if isinstance(title, str):
                        g.add(title, node.id, type_name, "title")
                    for prop in aliases:
                        for value in _strings(node.props.get(prop)):
                            g.add(value, node.id, type_name, "alias")
                if scan.next is None or not scan.items:
                    break
                after = scan.next
        return g

    # --- reading --------------------------------------------------------------------------------

    def lookup(self, surface: str) -> list[Entry]:
        """The nodes ``surface`` names exactly (after whitespace clean-up); [] when none."""
        return list(self._by_surface.get(clean_surface(surface), ()))

    def title_of(self, node_id: str) -> str | None:
        return self._titles.get(node_id)

    def surfaces(self) -> Iterator[str]:
        return iter(self._by_surface)

    def items(self) -> Iterator[tuple[str, list[Entry]]]:
        for s, entries in self._by_surface.items():
            yield s, list(entries)

    def __len__(self) -> int:
        return len(self._by_surface)

    def __contains__(self, surface: object) -> bool:
        return isinstance(surface, str) and clean_surface(surface) in self._by_surface

    def digest(self) -> str:
        """A short hash of the entries: equal digests recognise and link alike."""
        h = hashlib.sha256()
        for s in sorted(self._by_surface):
            for e in sorted(self._by_surface[s], key=lambda e: e.node_id):
                h.update(f"{s}\x1f{e.node_id}\x1f{e.type}\x1f{e.how}\x1e".encode())
        return h.hexdigest()[:12]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []
