"""Entity type discovery (CIM 009 clause 5.7.5, 5.7.6): EntityTypeList, EntityType and EntityTypeInfo.

Only the types the caller's role reads are listed, and only those with at least one entity (the
list says what can be queried). A type the role may not read is answered as if it did not exist.
"""

from __future__ import annotations

import hashlib
from typing import Any

from talentgraph.access.policy import RoleView
from talentgraph.access.records import readable_types
from talentgraph.feed.ngsild.context import names
from talentgraph.feed.ngsild.lookup import type_attributes
from talentgraph.graph.port import GraphStore
from talentgraph.schema.ontology import NodeType


def _present(graph: GraphStore, view: RoleView) -> list[tuple[NodeType, int]]:
    return [(t, n) for t in readable_types(view) if (n := graph.count_nodes(t.name)) > 0]


def type_list(graph: GraphStore, view: RoleView, details: bool) -> Any:
    present = _present(graph, view)
    if details:
        iri = names(view.ontology).iri
        return [{"id": iri(t.name), "type": "EntityType", "typeName": t.name,
                 "attributeNames": sorted(type_attributes(view, t))} for t, _ in present]
    type_names = [t.name for t, _ in present]
    # A URI for the list itself; derived from its content so the same answer keeps the same id.
    digest = hashlib.sha256(",".join(type_names).encode()).hexdigest()[:16]
    return {"id": f"urn:ngsi-ld:EntityTypeList:{digest}", "type": "EntityTypeList", "typeList": type_names}


def type_info(graph: GraphStore, view: RoleView, node_type: NodeType) -> dict[str, Any] | None:
    count = graph.count_nodes(node_type.name)
    if count == 0:
        return None
    attributes = type_attributes(view, node_type)
    iri = names(view.ontology).iri
    return {
        "id": iri(node_type.name),
        "type": "EntityTypeInfo",
        "typeName": node_type.name,
        "entityCount": count,
        "attributeDetails": [{"id": iri(name), "type": "Attribute", "attributeName": name,
                              "attributeTypes": [kind]} for name, kind in sorted(attributes.items())],
    }
