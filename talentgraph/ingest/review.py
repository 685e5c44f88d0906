"""The review queue of unreviewed vocabulary values, and re-normalising them once the vocabulary knows them.

Ingest keeps a value its vocabulary lacks in the property's ``<name>_unreviewed`` companion
(``schema/validation.py``). The queue is read from the graph itself rather than kept in a second
file: an erased person (PIPL art. 47), a re-run job that now writes a known term, or a
``renormalise`` all change the queue without any bookkeeping of their own, and the data directory
holds no extra copy of register text.

``renormalise`` rewrites, through the ``GraphStore`` port, every node whose unreviewed values the
vocabularies now know (after ``talentgraph vocab add`` / ``alias``): the value moves to the
term-id property, as a claim of the same source that wrote it (``graph/claims.py``), so the node
keeps its provenance and a re-run of that job changes nothing. The search index follows from the
change log (``SearchProjector.sync``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from talentgraph.graph import claims
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import ONTOLOGY, NodeType, Ontology, Property, PropType
from talentgraph.schema.qualifiers import split_level
from talentgraph.schema.vocabularies import Vocabulary, load_vocabularies
from talentgraph.types import Cmp, Node, NodeRecord, Not, Provenance

PAGE = 500
EXAMPLES = 3


@dataclass
class Pending:
    """One unreviewed value: where it occurs and a few records holding it."""

    vocabulary: str
    property: str  # "Person.skills"
    value: str
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)  # {id, job, row}

    def to_dict(self) -> dict[str, Any]:
        return {"vocabulary": self.vocabulary, "property": self.property, "value": self.value,
                "count": self.count, "examples": self.examples}


def open_properties(ontology: Ontology = ONTOLOGY) -> Iterator[tuple[NodeType, Property]]:
    """(node type, vocabulary property) pairs whose unknown values are kept for review."""
    for nt in ontology.node_types:
        for p in nt.properties:
            if p.unreviewed is not None and p.vocabulary is not None:
                yield nt, p


def _holding(graph: GraphStore, type_name: str, companion: str) -> Iterator[Node]:
    """Nodes with a non-empty companion, page by page (keyset cursors, so rewrites do not skip any)."""
    after: str | None = None
    while True:
        page = graph.list_nodes(type_name, where=Not(Cmp(companion, "is_null", True)), first=PAGE, after=after)
        yield from page.items
        if not page.has_next_page:
            return
        after = page.end_cursor


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _claims(node: Node, nt: NodeType) -> claims.Claims:
    return claims.load(node.props, [p.name for p in nt.properties])


def pending(graph: GraphStore, ontology: Ontology = ONTOLOGY) -> list[Pending]:
    """Every unreviewed value in the graph, most frequent first, with up to EXAMPLES records each."""
    found: dict[tuple[str, str, str], Pending] = {}
    for nt, p in open_properties(ontology):
        companion = p.unreviewed or ""
        for node in _holding(graph, nt.name, companion):
            sources = _claims(node, nt).get(companion) or []
            for text in dict.fromkeys(_texts(node.props.get(companion))):
                key = (nt.name, p.name, text)
                item = found.setdefault(key, Pending(p.vocabulary or "", f"{nt.name}.{p.name}", text))
                item.count += 1
                if len(item.examples) < EXAMPLES:
                    src = next((c for c in sources if text in _texts(c.get("v"))), None) or {}
                    item.examples.append({"id": node.id, "job": src.get("job") or node.props.get("src_job"),
                                          "row": src.get("row") or node.props.get("src_row")})
    return sorted(found.values(), key=lambda x: (-x.count, x.property, x.value))


def resolve(vocab: Vocabulary, text: str, *, levels: bool = False) -> tuple[str, str | None] | None:
    """(term id, level or None) when ``vocab`` now knows ``text`` (``levels``: also with a level qualifier)."""
    term = vocab.lookup(text)
    if term is not None:
        return term.id, None
    if levels:
        parts = split_level(text)
        base = vocab.lookup(parts[0]) if parts is not None else None
        if parts is not None and base is not None:
            return base.id, parts[1]
    return None


def _rewrites(nt: NodeType, p: Property, node: Node, vocab: Vocabulary) -> list[NodeRecord]:
    """One record per source whose unreviewed values of ``p`` are now terms."""
    companion = p.unreviewed or ""
    held = _claims(node, nt)
    out: list[NodeRecord] = []
    for claim in held.get(companion) or []:
        texts = _texts(claim.get("v"))
        known = {t: r for t in texts if (r := resolve(vocab, t, levels=p.levels_into is not None)) is not None}
        if not known:
            continue
        job = claim.get("job")
        own = {name: next((c.get("v") for c in held.get(name) or [] if c.get("job") == job), None)
               for name in (p.name, p.levels_into) if name is not None}
        ids = [term_id for term_id, _ in known.values()]
        props: dict[str, Any] = {companion: [t for t in texts if t not in known] or None}
        if p.type is PropType.STRING_LIST:
            props[p.name] = list(dict.fromkeys([*_texts(own.get(p.name)), *ids]))
        else:
            props[p.name] = own.get(p.name) or ids[0]
        if p.levels_into is not None:
            levels = _texts(own.get(p.levels_into))
            have = {lv.partition(":")[0] for lv in levels}
            extra = [f"{i}:{lv}" for i, lv in known.values() if lv is not None and i not in have]
            if extra:
                props[p.levels_into] = [*levels, *extra]
        prov = Provenance(str(job or node.props.get("src_job") or "vocab"),
                          str(claim.get("file") or node.props.get("src_file") or ""),
                          int(claim.get("row") or node.props.get("src_row") or 0),
                          str(claim.get("at") or node.props.get("ingested_at") or ""), int(claim.get("p") or 0))
        out.append(NodeRecord(nt.name, node.id, props, prov, names=frozenset(props)))
    return out


def renormalise(graph: GraphStore, vocabularies: Mapping[str, Vocabulary] | None = None,
                ontology: Ontology = ONTOLOGY) -> int:
    """Move unreviewed values the vocabularies now know to their term ids; the number of nodes changed."""
    vocabs = vocabularies if vocabularies is not None else load_vocabularies()
    changed: set[str] = set()
    for nt, p in open_properties(ontology):
        vocab = vocabs.get(p.vocabulary or "")
        if vocab is None:
            continue
        # Collected first, written after: writing while paging would move the cursor's ground.
        records = [r for node in _holding(graph, nt.name, p.unreviewed or "") for r in _rewrites(nt, p, node, vocab)]
        for start in range(0, len(records), PAGE):
            result = graph.upsert_nodes(records[start:start + PAGE])
            changed.update(result.inserted, result.updated)
    return len(changed)


__all__ = ["Pending", "open_properties", "pending", "renormalise", "resolve"]
