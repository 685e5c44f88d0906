"""The role policy (``schema/policy.yaml``) as typed data, and every decision derived from it.

One question, one function: which grant a role has on a property (``grant``), whether it sees a
type's rows (``rows_visible``), which relationship ends it may traverse (``rel_endpoints``),
whether it may count a facet (``facet_rule``), whether it may do an operation (``require``).
The GraphQL schema per role, the filters, search visibility and facet suppression are all built
from these; the permission-matrix test walks them against what the API returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from talentgraph.access.principal import Principal
from talentgraph.errors import ConfigError, ForbiddenError
from talentgraph.ingest.yamlfile import UniqueKeyLoader
from talentgraph.schema.ontology import ONTOLOGY, NodeType, Ontology, Property, RelType, Sensitivity

POLICY_FILE = Path(__file__).parent.parent / "schema" / "policy.yaml"
OPERATIONS = frozenset({"ingest", "keys", "audit", "subject_rights", "export", "resolve"})


class Grant(StrEnum):
    ALWAYS = "always"
    IN_SCOPE = "in_scope"
    NEVER = "never"


class FacetRule(StrEnum):
    EXACT = "exact"  # counts as they are
    SUPPRESSED = "suppressed"  # counts below k shown as "<k"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    read: Mapping[Sensitivity, Grant]
    aggregates: frozenset[Sensitivity]
    may: frozenset[str]
    scoped: bool = False  # needs areas (staff)


@dataclass(frozen=True)
class Scope:
    """How an area scope reaches a row: ``subject -[relationship]-> place <-[contains*]- area``."""

    subject: str
    relationship: str
    place: str
    contains: str
    depth: int = 3


@dataclass(frozen=True)
class Policy:
    roles: Mapping[str, Role]
    k_anonymity: int
    scope: Scope
    ontology: Ontology = ONTOLOGY
    # One view per role, kept: what a view derives (grant maps, visible types) is computed once, not per request.
    # init=False so that ``replace(policy, ontology=…)`` starts a fresh cache for the other ontology.
    _views: dict[str, "RoleView"] = field(default_factory=dict, init=False, compare=False, repr=False)

    def view(self, role: str) -> "RoleView":
        view = self._views.get(role)
        if view is None:
            self.role(role)
            view = self._views[role] = RoleView(self, role)
        return view

    # --- roles and operations -------------------------------------------------------------------

    def role(self, name: str) -> Role:
        role = self.roles.get(name)
        if role is None:
            raise ForbiddenError(f"Role {name!r} is not defined.",
                                 hint=f"Roles: {', '.join(self.roles)} (talentgraph/schema/policy.yaml).")
        return role

    def require(self, principal: Principal, operation: str) -> None:
        if operation not in OPERATIONS:
            raise ConfigError(f"Operation {operation!r} is not one the policy knows.",
                              hint=f"Operations: {', '.join(sorted(OPERATIONS))}.")
        if operation not in self.role(principal.role).may:
            allowed = [r.name for r in self.roles.values() if operation in r.may]
            raise ForbiddenError(f"{principal.name} ({principal.role}) may not {operation.replace('_', ' ')}.",
                                 hint=f"Roles allowed: {', '.join(allowed)}. Ask an admin for a key with one.")

    # --- reading --------------------------------------------------------------------------------

    def class_grant(self, role: str, sensitivity: Sensitivity) -> Grant:
        if sensitivity is Sensitivity.SENSITIVE:
            return Grant.NEVER
        return self.role(role).read.get(sensitivity, Grant.NEVER)

    def grant(self, role: str, prop: Property) -> Grant:
        return self.class_grant(role, prop.sensitivity)

    def rows_visible(self, role: str, type_name: str) -> bool:
        nt = self.ontology.node(type_name)
        return self.grant(role, nt.prop(nt.title)) is Grant.ALWAYS

    def visible_types(self, role: str) -> tuple[NodeType, ...]:
        return tuple(t for t in self.ontology.node_types if self.rows_visible(role, t.name))

    def rel_grant(self, role: str, rel: RelType) -> Grant:
        return self.class_grant(role, rel.sensitivity)

    def rel_endpoints(self, role: str, rel: RelType) -> tuple[tuple[str, str], ...]:
        """The (from, to) pairs of ``rel`` the role may traverse: its class read, both ends visible."""
        if self.rel_grant(role, rel) is Grant.NEVER:
            return ()
        return tuple((a, b) for a, b in rel.endpoints if self.rows_visible(role, a) and self.rows_visible(role, b))

    def path_rels(self, role: str) -> tuple[str, ...]:
        """Relationships that paths and neighbourhoods may use: read always (no per-row scope there)."""
        return tuple(r.name for r in self.ontology.rel_types
                     if self.rel_grant(role, r) is Grant.ALWAYS and self.rel_endpoints(role, r))

    def facet_rule(self, role: str, type_name: str, sensitivity: Sensitivity) -> FacetRule:
        if sensitivity is Sensitivity.SENSITIVE:
            return FacetRule.FORBIDDEN
        grant = self.class_grant(role, sensitivity)
        if grant is Grant.ALWAYS and self.rows_visible(role, type_name):
            return FacetRule.EXACT
        if grant is not Grant.NEVER or sensitivity in self.role(role).aggregates:
            return FacetRule.SUPPRESSED
        return FacetRule.FORBIDDEN

    def suppress(self, count: int) -> int | None:
        """None stands for "fewer than k" (shown as "<k")."""
        return count if count >= self.k_anonymity or count == 0 else None


@dataclass(frozen=True)
class RoleView:
    """One role's side of the policy: what the schema builder and resolvers ask."""

    policy: Policy
    role: str

    @property
    def ontology(self) -> Ontology:
        return self.policy.ontology

    @property
    def scope(self) -> Scope:
        return self.policy.scope

    def grant(self, prop: Property) -> Grant:
        return self.policy.grant(self.role, prop)

    def shows(self, prop: Property) -> bool:
        return self.grant(prop) is not Grant.NEVER

    def props(self, props: Iterable[Property]) -> tuple[Property, ...]:
        return tuple(p for p in props if self.shows(p))

    def rows(self, type_name: str) -> bool:
        return self.policy.rows_visible(self.role, type_name)

    @cached_property
    def _types(self) -> tuple[NodeType, ...]:
        return self.policy.visible_types(self.role)

    def types(self) -> tuple[NodeType, ...]:
        return self._types

    def rel_grant(self, rel: RelType) -> Grant:
        return self.policy.rel_grant(self.role, rel)

    def rel_endpoints(self, rel: RelType) -> tuple[tuple[str, str], ...]:
        return self.policy.rel_endpoints(self.role, rel)

    @cached_property
    def _path_rels(self) -> tuple[str, ...]:
        return self.policy.path_rels(self.role)

    def path_rels(self) -> tuple[str, ...]:
        return self._path_rels

    @cached_property
    def field_grants(self) -> tuple[dict[tuple[str, str], Grant], dict[tuple[str, str], FacetRule]]:
        """Per (type, property or derived field): the read grant (absent: never) and the facet rule
        (absent: may not be counted); counts over a type whose rows are hidden are suppressed."""
        read: dict[tuple[str, str], Grant] = {}
        count: dict[tuple[str, str], FacetRule] = {}
        o = self.ontology
        for t in o.node_types:
            rows = self.rows(t.name)
            items = [(p.name, p.sensitivity, p.facet) for p in t.properties]
            items += [(d.name, d.sensitivity, d.facet) for d in o.derived_for(t.name)]
            for name, sensitivity, facet in items:
                grant = self.policy.class_grant(self.role, sensitivity)
                if grant is not Grant.NEVER and rows:
                    read[(t.name, name)] = grant
                rule = self.facet_rule(t.name, sensitivity)
                if facet and rule is not FacetRule.FORBIDDEN:
                    count[(t.name, name)] = rule if rows else FacetRule.SUPPRESSED
        return read, count

    def facet_rule(self, type_name: str, sensitivity: Sensitivity) -> FacetRule:
        return self.policy.facet_rule(self.role, type_name, sensitivity)

    def provenance_class(self, node_type: NodeType) -> Sensitivity:
        """Provenance names the register a record came from (``party_members.csv`` tells political
        status), so it is as sensitive as the most sensitive readable property of the type."""
        classes = [p.sensitivity for p in node_type.properties if p.sensitivity is not Sensitivity.SENSITIVE]
        order = [Sensitivity.PUBLIC, Sensitivity.NAME, Sensitivity.PERSONAL]
        return max(classes, key=order.index, default=Sensitivity.PUBLIC)

    def provenance_grant(self, node_type: NodeType) -> Grant:
        return self.policy.class_grant(self.role, self.provenance_class(node_type))

    @property
    def scoped(self) -> bool:
        return self.policy.role(self.role).scoped


def parse_policy(data: Mapping[str, Any], ontology: Ontology = ONTOLOGY, *, source: str = "policy") -> Policy:
    """Check a policy mapping strictly: a typo in a role file must not silently grant or deny."""
    if not isinstance(data, Mapping) or set(data) - {"k_anonymity", "roles", "scope"}:
        raise ConfigError(f"{source}: expected keys k_anonymity, scope and roles, "
                          f"got {sorted(data) if isinstance(data, Mapping) else data!r}.")
    scope = _scope(data.get("scope"), ontology, source)
    k = data.get("k_anonymity", 5)
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise ConfigError(f"{source}: k_anonymity is {k!r}.", hint="Use a whole number of 2 or more (5 is usual).")
    roles: dict[str, Role] = {}
    for name, spec in (data.get("roles") or {}).items():
        where = f"{source}: role {name}"
        if not isinstance(spec, Mapping) or set(spec) - {"description", "read", "aggregates", "may", "scoped"}:
            raise ConfigError(f"{where}: unexpected keys {sorted(set(spec) - {'description', 'read', 'aggregates', 'may', 'scoped'}) if isinstance(spec, Mapping) else spec!r}.",
                              hint="A role has description, read, aggregates, may and scoped.")
        read: dict[Sensitivity, Grant] = {}
        for cls, grant in (spec.get("read") or {}).items():
            try:
                s, g = Sensitivity(cls), Grant(grant)
            except ValueError:
                raise ConfigError(f"{where}: read {cls}: {grant} is not valid.",
                                  hint=f"Classes: {', '.join(x.value for x in Sensitivity)}; "
                                  "grants: always, in_scope.") from None
            if s is Sensitivity.SENSITIVE and g is not Grant.NEVER:
                raise ConfigError(f"{where}: grants read on sensitive data.",
                                  hint="Identity documents never leave through any path; remove the line.")
            read[s] = g
        aggregates = frozenset(Sensitivity(x) for x in spec.get("aggregates") or ())
        may = frozenset(spec.get("may") or ())
        if may - OPERATIONS:
            raise ConfigError(f"{where}: unknown operations {sorted(may - OPERATIONS)}.",
                              hint=f"Operations: {', '.join(sorted(OPERATIONS))}.")
        scoped = bool(spec.get("scoped", False))
        if scoped != (Grant.IN_SCOPE in read.values()):
            raise ConfigError(f"{where}: `scoped: true` goes with an in_scope read, and only with one.")
        roles[name] = Role(name, str(spec.get("description", "")).strip(), read, aggregates, may, scoped)
    if "admin" not in roles:
        raise ConfigError(f"{source}: no admin role.", hint="Someone must be able to manage keys and data.")
    return Policy(roles, k, scope, ontology)


def _scope(spec: Any, ontology: Ontology, source: str) -> Scope:
    if not isinstance(spec, Mapping) or set(spec) - {"subject", "relationship", "place", "contains", "depth"}:
        raise ConfigError(f"{source}: scope is {spec!r}.",
                          hint="Give subject, relationship, place, contains (and depth) from the ontology.")
    try:
        scope = Scope(str(spec["subject"]), str(spec["relationship"]), str(spec["place"]), str(spec["contains"]),
                      int(spec.get("depth", 3)))
    except KeyError as exc:
        raise ConfigError(f"{source}: scope lacks {exc.args[0]}.") from None
    # Names must be the ontology's own, and the relationships must connect what they say.
    rel, contains = ontology.rel(scope.relationship), ontology.rel(scope.contains)
    if not rel.allows(ontology.node(scope.subject).name, ontology.node(scope.place).name) or \
            not contains.allows(scope.place, scope.place):
        raise ConfigError(f"{source}: scope {scope} does not match the ontology's relationships.")
    return scope


@lru_cache(maxsize=1)
def load_policy(path: Path = POLICY_FILE) -> Policy:
    # Duplicate keys are refused: a role listed twice must not silently keep only its last grants.
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {exc}", hint="Fix the policy file; see its header for the format.") from None
    return parse_policy(data, source=str(path))


POLICY = load_policy()

__all__ = ["FacetRule", "Grant", "OPERATIONS", "POLICY", "Policy", "Role", "RoleView", "Scope", "load_policy",
           "parse_policy"]
