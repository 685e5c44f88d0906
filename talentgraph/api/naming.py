"""GraphQL names derived mechanically from ontology names (pure functions).

The scheme, so a client can predict every name from the ontology alone:

- object type: the node type's name (``Person``); list query: ``persons``; single query: ``person``;
  plural = lower-camel name + ``s`` (``y`` after a consonant → ``ies``; ``s/x/z/ch/sh`` → ``es``).
- property field: lower camelCase of the property (``latin_name`` → ``latinName``).
- relationship field, outgoing: lower camelCase of the relationship (``MEMBER_OF`` → ``memberOf``,
  ``CO_BUILDS_WITH`` → ``coBuildsWith``); incoming: the same plus ``In`` (``memberOfIn`` on
  ``PartyOrganization`` lists the people whose MEMBER_OF points in), unless the relationship declares
  an ``inverse`` name (``MENTIONS`` → ``mentionedIn``). A type on both ends of a
  relationship (``PART_OF`` between areas) gets both fields.
- vocabulary labels of a field: ``<field>Labels`` (``languagesLabels``).
- per-type inputs/enums: ``PersonWhere``, ``PersonOrderBy``, ``PersonSortField``.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z0-9]+")


def words(name: str) -> list[str]:
    """Split ``MEMBER_OF``, ``latin_name`` or ``PartyOrganization`` into lower-case words."""
    out: list[str] = []
    for chunk in _WORD.findall(name):
        if chunk.isupper() or chunk.islower() or chunk.isdigit():
            out.append(chunk.lower())
        else:
            out.extend(w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", chunk))
    return out


def camel(name: str) -> str:
    """``MEMBER_OF`` → ``memberOf``; ``latin_name`` → ``latinName``; ``PartyOrganization`` → ``partyOrganization``."""
    ws = words(name)
    return ws[0] + "".join(w.capitalize() for w in ws[1:]) if ws else name


def pascal(name: str) -> str:
    """``MEMBER_OF`` → ``MemberOf``."""
    return "".join(w.capitalize() for w in words(name))


def constant(name: str) -> str:
    """``latin_name`` → ``LATIN_NAME`` (GraphQL enum value style)."""
    return "_".join(w.upper() for w in words(name))


def plural(type_name: str) -> str:
    """``Person`` → ``persons``; ``PartyOrganization`` → ``partyOrganizations``; ``Category`` → ``categories``."""
    base = camel(type_name)
    if re.search(r"[^aeiou]y$", base):
        return base[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", base):
        return base + "es"
    return base + "s"


def single(type_name: str) -> str:
    return camel(type_name)


def rel_field(rel_name: str, direction: str, inverse: str = "") -> str:
    """``inverse``: the relationship's declared name for its incoming side (``RelType.inverse``)."""
    if direction == "in":
        return camel(inverse) if inverse else camel(rel_name) + "In"
    return camel(rel_name)


def labels_field(prop_name: str) -> str:
    return camel(prop_name) + "Labels"
