"""Building a job's rows with each property worked out once per distinct value of its cells.

A register repeats most of its cells: 性别 has two values in fifty thousand rows, 文化程度 eight,
职业 a few dozen, 语言能力 a couple of hundred. ``build_row`` maps (transform, split, default) and
validates (cast, vocabulary, validator) every cell of every row; a ``JobBuilder`` keeps, per
mapped property, what its cells came to — the cleaned values and what spills into companions —
keyed by the cells themselves, so a repeated cell costs a dict lookup and a row is assembled from
its properties' answers. It is the vocabulary join of a columnar load, done where the rows already
are (in the row-building workers, ``ingest/workers.py``).

The answer is ``build_row``'s, exactly; the row path is still where every problem is reported:
- a row any of whose properties fails (a transform or a validator refuses it, a required value is
  missing, a year disagrees with its date), whose key is bad or empty, or whose relationship end
  cannot be rendered or found is built again by ``build_row``, whose reasons name the row, field
  and value as always;
- only text cells (and empty ones) are remembered: ``1``, ``1.0`` and ``True`` are equal as keys
  but not the same cell, and a list from a JSON source is not hashable;
- a property whose cells rarely repeat (names, phone numbers, identity numbers) stops being
  remembered once that is clear (``SAMPLE`` lookups, under ``REPEAT_SHARE`` hits), so unique columns
  pay for no dict they never hit; memos are bounded (``MEMO_SIZE``) and forgotten when the
  vocabularies change (``vocabularies.generation``), as the validators' own memos are.

A transform is a function of its cells (and the job's id-hash key and the row's kind cell, which
are part of what is remembered); that is what the transform registry asks of every transform.
"""

from __future__ import annotations

from typing import Any

from talentgraph.errors import ValidationError
from talentgraph.ingest.lookups import EndResolver, LookupFailed
from talentgraph.ingest.mapping import JobSpec, PropSpec, RelSpec
from talentgraph.ingest.rows import BuiltRow, build_row, end_id, named_properties
from talentgraph.ingest.sources import Row
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.schema.validation import Cleaner, merge_spill, settle_value, validation_plan
from talentgraph.schema.vocabularies import generation
from talentgraph.types import NodeRecord, Provenance, RelRecord

# Distinct cells remembered per property before its memo starts over (memory stays bounded).
MEMO_SIZE = 20_000
# After this many lookups a property's memo is kept only if at least REPEAT_SHARE of them hit.
SAMPLE = 2_000
REPEAT_SHARE = 0.3

# (target, cleaned value or None, spilled (companion, values) pairs) per property target.
Answer = tuple[tuple[str, Any, tuple[tuple[str, tuple[str, ...]], ...]], ...]
_MISS = object()


class _Slots:
    """What ``check_props`` does for one owner, per target: its field, cleaner and property."""

    def __init__(self, owner: str, properties: Any) -> None:
        self.plan = validation_plan(owner, properties)
        self.by_name: dict[str, tuple[Any, str, Cleaner]] = {name: (prop, field, clean)
                                                            for name, prop, field, clean in self.plan.slots}
        self.required = tuple(name for name, prop, *_ in self.plan.slots if prop.required)


class _Property:
    """One mapped property and what its distinct cells came to."""

    __slots__ = ("spec", "owner", "columns", "kind_column", "memo", "remember", "tries", "hits", "single")

    def __init__(self, spec: PropSpec, owner: str) -> None:
        self.spec = spec
        self.owner = owner
        self.columns = spec.columns
        self.kind_column = spec.kind_column
        self.single = spec.columns[0] if len(spec.columns) == 1 and spec.kind_column is None else None
        self.memo: dict[Any, Answer | None] = {}  # None: the cells fail, the row goes the row path
        self.remember = True
        self.tries = 0
        self.hits = 0

    def answer(self, row: Row, slots: _Slots, key: bytes) -> Answer | None:
        if not self.remember:
            return _answer(self.spec, row, self.owner, key, slots)
        if self.single is not None:
            cells: Any = row.get(self.single)
            if cells is not None and type(cells) is not str:
                return _answer(self.spec, row, self.owner, key, slots)
        else:
            cells = tuple(row.get(c) for c in self.columns)
            if self.kind_column is not None:
                cells += (row.get(self.kind_column),)
            if any(c is not None and type(c) is not str for c in cells):
                return _answer(self.spec, row, self.owner, key, slots)
        hit = self.memo.get(cells, _MISS)
        self.tries += 1
        if hit is not _MISS:
            self.hits += 1
            return hit  # type: ignore[return-value]
        found = _answer(self.spec, row, self.owner, key, slots)
        if len(self.memo) >= MEMO_SIZE:
            self.memo.clear()
        self.memo[cells] = found
        if self.tries == SAMPLE and self.hits < SAMPLE * REPEAT_SHARE:
            self.remember = False  # unique values: a dict that never hits only costs
            self.memo.clear()
        return found


def _answer(spec: PropSpec, row: Row, owner: str, key: bytes, slots: _Slots) -> Answer | None:
    """What one property's cells come to, cleaned as ``check_props`` cleans them; None on any error."""
    try:
        raw = spec.evaluate(row, owner, key)
    except ValidationError:
        return None
    out = []
    for target, value in raw.items():
        slot = slots.by_name.get(target)
        if slot is None:  # not a property of the owner: the row path names it
            return None
        prop, field, clean = slot
        spill: dict[str, list[str]] = {}
        try:
            cleaned = None if value is None else clean(value, field)
            if cleaned is not None and prop.vocabulary is not None:
                cleaned = settle_value(prop, cleaned, field, spill)
        except ValidationError:
            return None
        out.append((target, cleaned, tuple((k, tuple(v)) for k, v in spill.items())))
    return tuple(out)


class _Owner:
    """A node or relationship mapping: its properties and its owner's validation slots."""

    def __init__(self, owner: str, specs: tuple[PropSpec, ...], properties: Any) -> None:
        self.slots = _Slots(owner, properties)
        self.props = tuple(_Property(p, owner) for p in specs)

    def values(self, row: Row, key: bytes) -> dict[str, Any] | None:
        """The row's cleaned values in the ontology's order (what check_props returns), or None: row path."""
        got: dict[str, tuple[Any, tuple[tuple[str, tuple[str, ...]], ...]]] = {}
        for p in self.props:
            answer = p.answer(row, self.slots, key)
            if answer is None:
                return None
            for target, value, spill in answer:
                got[target] = (value, spill)  # a later mapping of the same target wins, as in _props
        slots = self.slots
        cleaned: dict[str, Any] = {}
        spilled: dict[str, list[str]] | None = None
        for name in slots.plan.names:
            entry = got.get(name)
            if entry is None:
                continue
            value, spill = entry
            if spill:
                if spilled is None:
                    spilled = {}
                for companion, values in spill:
                    spilled.setdefault(companion, []).extend(values)
            if value is not None:
                # Remembered lists are shared by every row with the same cells: each record gets its own.
                cleaned[name] = list(value) if type(value) is list else value
        for name in slots.required:
            if name not in cleaned:
                return None
        if spilled or slots.plan.years:
            errors: list[ValidationError] = []
            cleaned = merge_spill(slots.plan, cleaned, spilled or {}, errors)
            if errors:
                return None
        return cleaned

    def forget(self) -> None:
        for p in self.props:
            p.memo.clear()


class JobBuilder:
    """``build_row`` for every row of one job, each property's distinct cells worked out once."""

    def __init__(self, spec: JobSpec, *, id_hash_key: bytes, ontology: Ontology = ONTOLOGY,
                 lookups: EndResolver | None = None) -> None:
        self.spec = spec
        self.key = id_hash_key
        self.ontology = ontology
        self.lookups = lookups
        self.nodes = [(ns, f"{ns.type}.key", _Owner(ns.type, ns.properties, ontology.node(ns.type).properties),
                       named_properties(ontology, ns)) for ns in spec.nodes]
        self.rels = [(rs, _Owner(rs.type, rs.properties, ontology.rel(rs.type).properties))
                     for rs in spec.relationships]
        self._generation = generation()

    def build(self, number: int, row: Row, provenance: Provenance) -> BuiltRow:
        """The row's ``BuiltRow``: assembled from remembered answers, or built by ``build_row``."""
        now = generation()
        if now != self._generation:  # a vocabulary changed: what cells came to may have too
            self._generation = now
            for _, _, owner, _ in self.nodes:
                owner.forget()
            for _, owner in self.rels:
                owner.forget()
        built = self._assemble(number, row, provenance)
        return built if built is not None else self._row_path(number, row, provenance)

    def _assemble(self, number: int, row: Row, provenance: Provenance) -> BuiltRow | None:
        ontology, key = self.ontology, self.key
        nodes: list[NodeRecord] = []
        for ns, key_field, owner, named in self.nodes:
            try:
                node_key = ns.key.render(row, key_field)
            except ValidationError:
                return None
            if node_key is None:
                return None
            props = owner.values(row, key)
            if props is None:
                return None
            nodes.append(NodeRecord(ns.type, ontology.make_id(ns.type, node_key), props, provenance, named))
        rels: list[RelRecord] = []
        for rs, owner in self.rels:
            ends = self._ends(rs, row)
            if ends is None:
                return None
            if not ends:  # an optional relationship whose end's cells are empty
                continue
            props = owner.values(row, key)
            if props is None:
                return None
            rels.append(RelRecord(rs.type, ends[0], ends[1], props, provenance))
        return BuiltRow(number, row, nodes, rels, [])

    def _ends(self, rs: RelSpec, row: Row) -> tuple[str, ...] | None:
        """(from id, to id); () for an optional relationship left out; None: the row path reports it."""
        ends: list[str] = []
        for end, es in (("from", rs.from_), ("to", rs.to)):
            try:
                found = end_id(es, row, f"{rs.type}.{end}", self.lookups, self.ontology)
            except (ValidationError, LookupFailed):
                return None
            if found is None:
                return () if rs.optional else None
            ends.append(found)
        return tuple(ends)

    def _row_path(self, number: int, row: Row, provenance: Provenance) -> BuiltRow:
        return build_row(self.spec, number, row, provenance=provenance, id_hash_key=self.key,
                         ontology=self.ontology, lookups=self.lookups)


__all__ = ["MEMO_SIZE", "REPEAT_SHARE", "SAMPLE", "JobBuilder"]
