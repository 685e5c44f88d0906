"""Reference lookups: find a relationship end by what a register says about it ("联洋新苑 12号").

Registers rarely carry our ids. A mapping can say ``to: {type: Area, lookup: {name: "{楼栋}",
where: {level: building}, within: {name: "{小区}"}}}`` and ``Lookups.resolve`` finds the one node
that fits, or raises ``LookupFailed`` with a reason naming the value and the candidates, which the
job writes to the quarantine file.

Candidates are read through the ``GraphStore`` port only: one ``list_nodes`` scan per node type per
job, made at the first row that needs it or, in a pipeline, once the job before has written
(``Lookups.prepare``; earlier jobs of the same pipeline have written by then either way),
kept in memory and indexed by ``normalise``-d value; ``within`` reads the linking relationship with
``edges``, cached per node. Property names come from the mapping, which took them from the ontology.

A dry run writes nothing, so the later jobs of a dry-run pipeline would look for places the earlier
jobs only pretended to write; ``DryRunWrites`` collects those records and ``Lookups`` reads them over
the graph, so the dry run predicts what a real run does.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from talentgraph.errors import TalentgraphError
from talentgraph.graph.port import GraphStore
from talentgraph.ingest.mapping import LookupSpec
from talentgraph.ingest.sources import Row
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.types import Node, NodeRecord, RelRecord

PAGE = 2000  # nodes per list_nodes call while scanning a type
MAX_LISTED = 8  # candidates named in one reason; a quarantine cell must stay readable

# A building number written with any of its usual suffixes: 12号 = 12栋 = 12幢 = 12号楼 = 12.
# Longest first, so 号楼 is not read as 号 followed by a stray 楼.
_BUILDING_SUFFIX = re.compile(r"(\d+)(?:号楼|号|栋|幢)$")


def normalise(text: str) -> str:
    """The form names are compared in: NFKC (full-width → half-width), case-folded, without
    whitespace, and a trailing building number's suffix dropped (``"１２ 幢"`` → ``"12"``).

    Registers are typed by hand on Chinese keyboards: the same building appears as 12号, 12栋 and
    １２幢, and a name may carry an ideographic space; none of that makes it another place.
    """
    folded = "".join(unicodedata.normalize("NFKC", text).casefold().split())
    return _BUILDING_SUFFIX.sub(r"\1", folded)


def _norm(value: Any) -> Any:
    return normalise(value) if isinstance(value, str) else value


@dataclass
class DryRunWrites:
    """Records earlier jobs of a dry-run pipeline would have written (the later value of an id wins)."""

    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    rels: dict[str, RelRecord] = field(default_factory=dict)
    # id → the node's shown values and claims after the earlier jobs (graph.claims.Merged), so a later job
    # is reported as the store would report it: "updated" when it adds a claim, not "unchanged".
    states: dict[str, Any] = field(default_factory=dict)

    def add(self, nodes: Iterable[NodeRecord], rels: Iterable[RelRecord]) -> None:
        for n in nodes:
            old = self.nodes.get(n.id)
            # A job writes only the properties it maps, so a second register adds to the first.
            self.nodes[n.id] = n if old is None else NodeRecord(n.type, n.id, {**old.props, **n.props})
        self.rels.update((r.key, r) for r in rels)


class EndResolver(Protocol):
    """What finds a relationship end by lookup: ``Lookups``, or the ends resolved for a row elsewhere."""

    def resolve(self, spec: LookupSpec, row: Row, field: str) -> str | None: ...


class LookupFailed(TalentgraphError):
    """No node, or more than one, fits a lookup; the message is the quarantine reason."""

    code = "LOOKUP_FAILED"


@dataclass
class _TypeIndex:
    """Every node of one type, and per property a normalised value → ids index built on demand."""

    nodes: dict[str, Node]
    by_prop: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    def ids_with(self, prop: str, key: str) -> set[str]:
        index = self.by_prop.get(prop)
        if index is None:
            index = self.by_prop[prop] = defaultdict(set)
            for node in self.nodes.values():
                value = node.props.get(prop)
                if isinstance(value, str) and value.strip():
                    index[normalise(value)].add(node.id)
        return index.get(key, set())


class Lookups:
    """Resolves a job's lookup ends; one per job run, so each type is scanned once per job."""

    def __init__(
        self, graph: GraphStore, ontology: Ontology = ONTOLOGY, *, pending: DryRunWrites | None = None
    ) -> None:
        self.graph = graph
        self.ontology = ontology
        self.pending = pending
        self._types: dict[str, _TypeIndex] = {}
        self._links: dict[tuple[str, str], dict[str, list[Node]]] = {}  # (via, "out"|"in") → id → far nodes
        self._suggested: dict[tuple[int, tuple[str, ...], str | None], str] = {}
        self.scans = 0  # list_nodes scans made (tests check a type is read once)

    # -- reading the graph --

    def _index(self, type_name: str) -> _TypeIndex:
        index = self._types.get(type_name)
        if index is None:
            nodes: dict[str, Node] = {}
            after: str | None = None
            while True:
                page = self.graph.list_nodes(type_name, first=PAGE, after=after)
                nodes.update((n.id, n) for n in page.items)
                if not page.has_next_page:
                    break
                after = page.end_cursor
            self.scans += 1
            for rec in (self.pending.nodes.values() if self.pending is not None else ()):
                if rec.type == type_name:
                    old = nodes.get(rec.id)
                    nodes[rec.id] = Node(rec.id, rec.type, {**(old.props if old else {}), **rec.props})
            index = self._types[type_name] = _TypeIndex(nodes)
        return index

    def prepare(self, specs: Iterable[LookupSpec]) -> None:
        """Read now what resolving ``specs`` reads: every node of their types and, for a lookup ``within``
        another, the ``via`` links of those nodes (out of them, for candidates; into the ``within`` type's
        nodes, for the suggestions a failed row gets).

        A pipeline reads the next job's lookups this way before the store settles the job before it
        (``GraphStore.settle``: LadybugDB checkpoints on a thread, and a read waits for a checkpoint), so the
        next job's rows are built while the checkpoint runs rather than after it. Only for a job that writes
        nothing its lookups read (``workers.lookups_read_own_writes``): for it the graph a row's lookup reads
        is the same from before the job's first write to its end, so reading it early answers as reading it
        at the first row would."""
        for spec in specs:
            at: LookupSpec | None = spec
            while at is not None:
                index = self._index(at.type)
                if at.within is not None and at.via is not None:
                    self._linked(index.nodes, at.via, "out")
                    self._linked(self._index(at.within.type).nodes, at.via, "in")
                at = at.within

    def _node(self, node_id: str) -> Node | None:
        return self._index(self.ontology.type_of_id(node_id).name).nodes.get(node_id)

    def _linked(self, ids: Iterable[str], via: str, direction: str) -> dict[str, list[Node]]:
        """Far ends of ``via`` from each id (cached: the same buildings come up row after row)."""
        cache = self._links.setdefault((via, direction), {})
        todo = sorted({i for i in ids if i not in cache})
        if todo:
            found = self.graph.edges(todo, via, "out" if direction == "out" else "in")
            for i in todo:
                cache[i] = [e.node for e in found.get(i, [])]
            for rel in (self.pending.rels.values() if self.pending is not None else ()):
                near, far = (rel.from_id, rel.to_id) if direction == "out" else (rel.to_id, rel.from_id)
                if rel.type == via and near in todo and all(n.id != far for n in cache[near]):
                    node = self._node(far)
                    if node is not None:
                        cache[near].append(node)
        return cache

    # -- resolving --

    def resolve(self, spec: LookupSpec, row: Row, field: str) -> str | None:
        """The id of the one node that fits; None when the row leaves a cell the lookup needs empty.

        ``field`` names the relationship end in messages (``LIVES_IN to``). Raises ``LookupFailed``.
        """
        node = self._find(spec, row, field)
        return None if node is None else node.id

    def _find(self, spec: LookupSpec, row: Row, field: str) -> Node | None:
        values = [(m, m.template.render(row, f"{field} {m.label}")) for m in spec.match]
        given = [(m, v) for m, v in values if v is not None]
        if not given:
            return None
        parent: Node | None = None
        if spec.within is not None:
            parent = self._find(spec.within, row, field)
            if parent is None:
                return None
        index = self._index(spec.type)
        ids: set[str] = set()
        for m, value in given:
            key = normalise(value)
            for prop in m.properties:
                ids |= index.ids_with(prop, key)
        found = [index.nodes[i] for i in sorted(ids) if _fits(index.nodes[i], spec.where)]
        if parent is not None and spec.via is not None:
            links = self._linked([n.id for n in found], spec.via, "out")
            found = [n for n in found if any(p.id == parent.id for p in links[n.id])]
        if len(found) == 1:
            return found[0]
        inside = self._inside(parent)
        if found:
            listed = ", ".join(f"{n.id} ({self._title(n)})" for n in found[:MAX_LISTED])
            more = f" and {len(found) - MAX_LISTED} more" if len(found) > MAX_LISTED else ""
            raise LookupFailed(
                f"ambiguous: {len(found)} {spec.type} nodes match {_describe(given)}{inside}: {listed}{more}")
        where = "".join(f" ({k} {v})" for k, v in spec.where)
        # The same misspelt residential area tends to fill a whole register: suggest once per value.
        memo = (id(spec), tuple(normalise(v) for _, v in given), parent.id if parent else None)
        if memo not in self._suggested:
            self._suggested[memo] = self._suggest(spec, given, parent)
        raise LookupFailed(f"{spec.type} {_describe(given)}{where}{inside} not found{self._suggested[memo]}")

    def _title(self, node: Node) -> str:
        return str(node.props.get(self.ontology.node(node.type).title) or node.id)

    def _inside(self, parent: Node | None) -> str:
        return f" inside {self._title(parent)} ({parent.id})" if parent is not None else ""

    def _suggest(self, spec: LookupSpec, given: Sequence[tuple[Any, str]], parent: Node | None) -> str:
        """``; did you mean A (id) or B (id)?`` from the nodes the lookup could have found."""
        if parent is not None and spec.via is not None:
            pool = [n for n in self._linked([parent.id], spec.via, "in")[parent.id] if n.type == spec.type]
        else:
            pool = list(self._index(spec.type).nodes.values())
        pool = [n for n in pool if _fits(n, spec.where)]
        by_key: dict[str, list[Node]] = defaultdict(list)
        for node in pool:
            for m, _ in given:
                for prop in m.properties:
                    value = node.props.get(prop)
                    if isinstance(value, str) and value.strip():
                        by_key[normalise(value)].append(node)
        near: dict[str, Node] = {}
        for _, value in given:
            for key in difflib.get_close_matches(normalise(value), list(by_key), n=3, cutoff=0.5):
                for node in by_key[key]:
                    near.setdefault(node.id, node)
        if not near:
            return ""
        names = [f"{self._title(n)} ({n.id})" for n in list(near.values())[:3]]
        return "; did you mean " + (", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]) + "?"


def _fits(node: Node, where: Sequence[tuple[str, Any]]) -> bool:
    return all(_norm(node.props.get(name)) == _norm(value) for name, value in where)


def _describe(given: Sequence[tuple[Any, str]]) -> str:
    """``'联洋新苑'`` or ``'联洋科技' or uscc '91310115…'``: the values the row gave, as written."""
    return " or ".join(repr(v) if m.label == "name" else f"{m.label} {v!r}" for m, v in given)


__all__ = ["DryRunWrites", "EndResolver", "LookupFailed", "Lookups", "normalise"]
