"""Entity ids: our node ids as NGSI-LD URNs and back.

A node id is ``<prefix>:<key>`` (``ven:V1``; the prefix names the type, ``schema/ontology.py``). Its
NGSI-LD id is ``urn:ngsi-ld:<Type>:<key>`` with the key percent-encoded (UTF-8) except for
``A-Z a-z 0-9 - . _ ~ : @``: ``ven:V1`` ↔ ``urn:ngsi-ld:Venue:V1``, ``area:联洋`` ↔
``urn:ngsi-ld:Area:%E8%81%94%E6%B4%8B``. Encoding ``,`` ``;`` ``/`` ``?`` ``#`` and ``%`` keeps every
id a valid URN (RFC 8141) that survives an ``id=`` comma list and a URL path. Decoding accepts
the key encoded or not (an HTTP server hands routes the decoded path), so both spellings name the
same entity.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from talentgraph.errors import OntologyError
from talentgraph.schema.ontology import NodeType, Ontology

URN_PREFIX = "urn:ngsi-ld:"
_SAFE = "-._~:@"
MAX_ID_LENGTH = 512
# RFC 8141: "urn:" NID ":" NSS; whitespace and control characters are never part of one.
_URN = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[^\s\x00-\x1f\x7f]+$", re.IGNORECASE)


def to_urn(ontology: Ontology, node_id: str) -> str:
    node_type = ontology.type_of_id(node_id)
    key = node_id.partition(":")[2]
    return f"{URN_PREFIX}{node_type.name}:{quote(key, safe=_SAFE)}"


def is_uri(value: str) -> bool:
    """Whether ``value`` may be an entity id at all (a URN; CIM 009 ids are URIs)."""
    return len(value) <= MAX_ID_LENGTH and _URN.match(value) is not None


def from_urn(ontology: Ontology, urn: str) -> tuple[NodeType, str] | None:
    """(type, node id) of an NGSI-LD URN; None when no node of ours can have that id.

    Only the ``urn:ngsi-ld:<Type>:<key>`` shape with one of our types names a node; any other URI
    is a valid id that simply matches nothing.
    """
    if not urn.lower().startswith(URN_PREFIX):
        return None
    type_name, sep, key = urn[len(URN_PREFIX):].partition(":")
    if not sep or not key:
        return None
    try:
        node_type = ontology.node(type_name)
    except OntologyError:
        return None
    try:
        decoded = unquote(key, errors="strict")
    except UnicodeDecodeError:
        return None  # percent-escapes that are not UTF-8: no key of ours looks like that
    return node_type, ontology.make_id(node_type.name, decoded)
