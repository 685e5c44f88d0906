"""Which ontology properties the API shows: decided here, and only here, from the sensitivity class.

SENSITIVE properties (identity-document hash, last four characters, kind) never leave the graph
through the API: not as fields, not as filter or sort keys (a filter is an oracle for the value).
PERSONAL ones are exposed for now; the role layer will mask them by changing this one function.
"""

from __future__ import annotations

from collections.abc import Iterable

from talentgraph.schema.ontology import Property, Sensitivity


def exposed(prop: Property) -> bool:
    return prop.sensitivity is not Sensitivity.SENSITIVE


def exposed_properties(props: Iterable[Property]) -> tuple[Property, ...]:
    return tuple(p for p in props if exposed(p))
