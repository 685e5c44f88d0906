"""The JSON-LD ``@context`` this service serves itself (``/ngsi-ld/v1/context.jsonld``).

NGSI-LD payloads are JSON-LD: short names (``Venue``, ``capacity``, ``locatedIn``) stand for IRIs, and
the ``@context`` says which. Ours is derived from the ontology and holds everything a processor needs
to expand our entities: nothing refers to a remote context, so nothing is ever fetched (the service
runs offline, and so can its consumers).

``CORE`` vendors the terms of the ETSI NGSI-LD core context that our payloads use, with the IRIs of
``https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld`` (ETSI ISG CIM, published under
the BSD 3-Clause licence at forge.etsi.org/rep/cim/NGSI-LD; the copyright notice stays with ETSI).
Our own terms live under ``urn:talentgraph:vocab:`` (a URN: an identifier, never a location to fetch).

Attribute names: properties keep their ontology names (``parking_spaces``); relationship types become
lowerCamelCase attribute names (``LOCATED_IN`` → ``locatedIn``, the NGSI-LD convention); the node's
geometry is the GeoProperty ``location``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from talentgraph.errors import OntologyError
from talentgraph.feed.geometry import geometry_props
from talentgraph.schema.ontology import Ontology, RelType

CONTEXT_PATH = "/ngsi-ld/v1/context.jsonld"
JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
VOCAB = "urn:talentgraph:vocab:"
NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
LOCATION = "location"

# The subset of the ETSI core context our payloads use (see the module docstring for its source and licence).
CORE: dict[str, Any] = {
    "ngsi-ld": NGSI_LD,
    "geojson": "https://purl.org/geojson/vocab#",
    "id": "@id",
    "type": "@type",
    "value": "ngsi-ld:hasValue",
    "object": {"@id": "ngsi-ld:hasObject", "@type": "@id"},
    "Property": "ngsi-ld:Property",
    "Relationship": "ngsi-ld:Relationship",
    "GeoProperty": "ngsi-ld:GeoProperty",
    "DateTime": "ngsi-ld:DateTime",
    "Date": "ngsi-ld:Date",
    "observedAt": {"@id": "ngsi-ld:observedAt", "@type": "DateTime"},
    "datasetId": {"@id": "ngsi-ld:datasetId", "@type": "@id"},
    "location": "ngsi-ld:location",
    "name": "ngsi-ld:name",
    "description": "http://purl.org/dc/terms/description",
    "coordinates": {"@id": "geojson:coordinates", "@container": "@list"},
    "Point": "geojson:Point",
    "Polygon": "geojson:Polygon",
    "EntityTypeList": "ngsi-ld:EntityTypeList",
    "EntityType": "ngsi-ld:EntityType",
    "EntityTypeInfo": "ngsi-ld:EntityTypeInfo",
    "Attribute": "ngsi-ld:Attribute",
    "typeList": {"@id": "ngsi-ld:typeList", "@type": "@vocab"},
    "typeName": {"@id": "ngsi-ld:typeName", "@type": "@vocab"},
    "attributeNames": {"@id": "ngsi-ld:attributeNames", "@type": "@vocab"},
    "attributeName": {"@id": "ngsi-ld:attributeName", "@type": "@vocab"},
    "attributeTypes": {"@id": "ngsi-ld:attributeTypes", "@type": "@vocab"},
    "attributeDetails": {"@id": "ngsi-ld:attributeDetails"},
    "entityCount": {"@id": "ngsi-ld:entityCount"},
}

# Member names NGSI-LD gives a meaning of its own; no attribute of ours may take one.
RESERVED = frozenset({"id", "type", "@context", "scope", "createdAt", "modifiedAt", "observedAt", "datasetId",
                      "unitCode", "object", "value", "deletedAt", "instanceId", "lang", "languageMap"})


def rel_attribute(rel: RelType) -> str:
    """``LOCATED_IN`` → ``locatedIn``."""
    head, *rest = rel.name.lower().split("_")
    return head + "".join(w.capitalize() for w in rest)


@cache
def names(ontology: Ontology) -> "Names":
    return Names(ontology)


class Names:
    """The attribute names of one ontology, both ways, checked once for clashes."""

    def __init__(self, ontology: Ontology) -> None:
        self.ontology = ontology
        self.rel_by_attr: dict[str, RelType] = {rel_attribute(r): r for r in ontology.rel_types}
        hidden = set(geometry_props())
        self.props = sorted({p.name for t in ontology.node_types for p in t.properties if p.name not in hidden})
        # Relationship properties are sub-properties of a Relationship; they need terms, and may share a
        # name with a node property (``year``) since both mean the same kind of thing.
        self.rel_props = sorted({p.name for r in ontology.rel_types for p in r.properties} - set(self.props))
        every = set(self.rel_by_attr) | set(self.props) | set(self.rel_props)
        clash = (set(self.rel_by_attr) & (set(self.props) | set(self.rel_props))) | ((every | {LOCATION}) & RESERVED)
        if clash or len(self.rel_by_attr) != len(ontology.rel_types):
            # Two things under one name would make q and attrs ambiguous: fix the ontology, not the feed.
            raise OntologyError(f"NGSI-LD attribute names clash: {sorted(clash)}.",
                                hint="Rename the property or relationship in schema/ontology.py.")

        self._terms = self._build()

    def context(self) -> dict[str, Any]:
        """The ``@context`` object (the document served is ``{"@context": this}``); do not modify it."""
        return self._terms

    def _build(self) -> dict[str, Any]:
        terms: dict[str, Any] = dict(CORE)
        terms["tg"] = VOCAB
        for t in self.ontology.node_types:
            terms[t.name] = f"tg:{t.name}"
        for name in (*self.props, *self.rel_props):
            terms.setdefault(name, f"tg:{name}")  # ``name``/``description`` keep the core IRIs
        for attr in self.rel_by_attr:
            terms[attr] = f"tg:{attr}"
        return terms

    def iri(self, term: str) -> str:
        """The full IRI our context gives ``term`` (compact ``tg:``/``ngsi-ld:`` forms expanded)."""
        value = self.context().get(term, f"tg:{term}")
        iri = str(value["@id"] if isinstance(value, dict) else value)
        for prefix, base in (("tg:", VOCAB), ("ngsi-ld:", NGSI_LD), ("geojson:", CORE["geojson"])):
            if iri.startswith(prefix):
                return str(base) + iri[len(prefix):]
        return iri

    def expand_type(self, value: str) -> str:
        """A type given as a term or as the IRI our context gives it → the term (unknown: as given)."""
        if value.startswith(VOCAB):
            return value[len(VOCAB):]
        if value.startswith("tg:"):
            return value[3:]
        return value

    def expand_attr(self, value: str) -> str:
        """An attribute given as a term or as its full IRI → the term (unknown: as given)."""
        for prefix in (VOCAB, "tg:"):
            if value.startswith(prefix):
                return value[len(prefix):]
        core = {NGSI_LD + "name": "name", "http://purl.org/dc/terms/description": "description",
                NGSI_LD + "location": LOCATION}
        return core.get(value, value)


def context_document(ontology: Ontology) -> dict[str, Any]:
    return {"@context": names(ontology).context()}
