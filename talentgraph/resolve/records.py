"""Person records as the model sees them: one row of comparison keys per graph record.

Which ontology properties feed which key is declared once here (``SOURCES``) and checked against the
ontology at import, so a renamed property fails loudly instead of silently matching on nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from talentgraph.graph.port import GraphStore
from talentgraph.resolve.keys import name_key, name_keys, phone_key
from talentgraph.schema.ontology import ONTOLOGY, Ontology
from talentgraph.types import Node

SUBJECT = "Person"
LINK = "SAME_AS"  # the relationship resolution writes (ontology: Person → Person)
CANONICAL = "canonical"  # the Person property naming a cluster's canonical record

# key column → the Person properties it is built from (first present wins for scalars)
SOURCES: dict[str, tuple[str, ...]] = {
    "name_key": ("latin_name", "name"),
    "name_keys": ("name", "latin_name", "other_names"),
    "birth_date": ("birth_date",),
    "birth_year": ("birth_year",),
    "phone": ("phone",),
    "id_hash": ("id_hash",),
    "nationality": ("nationality",),
    "gender": ("gender",),
}

SCHEMA = pa.schema([
    ("unique_id", pa.string()),
    ("name_key", pa.string()),
    ("name_keys", pa.list_(pa.string())),
    ("birth_date", pa.string()),
    ("birth_year", pa.int32()),
    ("phone", pa.string()),
    ("id_hash", pa.string()),
    ("nationality", pa.string()),
    ("gender", pa.string()),
])


def check_ontology(ontology: Ontology = ONTOLOGY) -> None:
    person = ontology.node(SUBJECT)
    for props in SOURCES.values():
        for p in props:
            person.prop(p)
    person.prop(CANONICAL)
    rel = ontology.rel(LINK)
    if not rel.allows(SUBJECT, SUBJECT):
        raise ValueError(f"{LINK} must link {SUBJECT} to {SUBJECT} for entity resolution.")


check_ontology()


@dataclass(frozen=True)
class Record:
    """What clustering needs to know of a record beyond its keys."""

    id: str
    canonical: str | None
    filled: int  # how many properties the record carries: the fuller record stands for a cluster


def _first(props: dict[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        v = props.get(n)
        if v not in (None, "", []):
            return v
    return None


def _names(props: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for n in SOURCES["name_keys"]:
        v = props.get(n)
        if isinstance(v, list):
            out.extend(str(x) for x in v if x)
        elif v:
            out.append(str(v))
    return out


def features(node: Node) -> dict[str, Any]:
    p = node.props
    year = _first(p, SOURCES["birth_year"])
    born = _first(p, SOURCES["birth_date"])
    if year is None and isinstance(born, str) and born[:4].isdigit():
        year = born[:4]  # a record written without the derived year still compares by year
    return {
        "unique_id": node.id,
        "name_key": name_key(_first(p, SOURCES["name_key"])),
        "name_keys": name_keys(_names(p)),
        "birth_date": born,
        "birth_year": int(year) if year is not None else None,
        "phone": phone_key(_first(p, SOURCES["phone"])),
        "id_hash": _first(p, SOURCES["id_hash"]),
        "nationality": _first(p, SOURCES["nationality"]),
        "gender": _first(p, SOURCES["gender"]),
    }


def scan(graph: GraphStore, ontology: Ontology = ONTOLOGY, page: int = 20_000) -> list[Node]:
    """Every Person record with the properties resolution reads, in id order (the model's sampling is seeded:
    the same records in the same order train the same model).

    A bulk scan of named columns: at 50k records 1.3 s against 4.3 s for pages of whole nodes in id order.
    """
    fields = sorted(_compared(ontology) | {CANONICAL})
    out: list[Node] = []
    after: str | None = None
    while True:
        result = graph.scan_nodes(SUBJECT, after, page, fields=fields)
        out.extend(node for _, node in result.items)
        if result.next is None:
            break
        after = result.next
    out.sort(key=lambda node: node.id)
    return out


def _record(node: Node, names: set[str]) -> Record:
    filled = sum(1 for k in names if node.props.get(k) not in (None, "", []))
    return Record(node.id, node.props.get(CANONICAL) or None, filled)


def _compared(ontology: Ontology) -> set[str]:
    return {p.name for p in ontology.node(SUBJECT).properties} - {CANONICAL}


def load_records(graph: GraphStore, ontology: Ontology = ONTOLOGY) -> dict[str, Record]:
    """Every Person record's clustering facts, without the comparison keys (a steward's decision needs no model)."""
    names = _compared(ontology)
    return {node.id: _record(node, names) for node in scan(graph, ontology)}


def load(graph: GraphStore, ontology: Ontology = ONTOLOGY) -> tuple[pa.Table, dict[str, Record]]:
    """Every Person record's keys (an Arrow table for the model) and its clustering facts."""
    rows: list[dict[str, Any]] = []
    records: dict[str, Record] = {}
    names = _compared(ontology)
    for node in scan(graph, ontology):
        rows.append(features(node))
        records[node.id] = _record(node, names)
    return pa.Table.from_pylist(rows, schema=SCHEMA), records
