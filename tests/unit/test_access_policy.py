"""The role policy file: strict parsing, and the decisions derived from the ontology's sensitivity classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from talentgraph.access.policy import POLICY, POLICY_FILE, FacetRule, Grant, load_policy, parse_policy
from talentgraph.access.principal import Principal
from talentgraph.errors import ConfigError, ForbiddenError
from talentgraph.schema.ontology import ONTOLOGY, Sensitivity


def base() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
    return data


def test_sensitive_data_can_never_be_granted() -> None:
    data = base()
    data["roles"]["admin"]["read"]["sensitive"] = "always"
    with pytest.raises(ConfigError, match="sensitive"):
        parse_policy(data)
    for role in POLICY.roles:
        for t in ONTOLOGY.node_types:
            for p in t.properties:
                if p.sensitivity is Sensitivity.SENSITIVE:
                    assert POLICY.grant(role, p) is Grant.NEVER
                    assert POLICY.facet_rule(role, t.name, p.sensitivity) is FacetRule.FORBIDDEN


@pytest.mark.parametrize("mutate,needle", [
    (lambda d: d["roles"]["analyst"]["read"].update(personal="sometimes"), "not valid"),
    (lambda d: d["roles"]["analyst"].update(may=["drop_tables"]), "unknown operations"),
    (lambda d: d["roles"]["staff"].update(scoped=False), "scoped"),
    (lambda d: d["roles"].pop("admin"), "no admin"),
    (lambda d: d.update(k_anonymity=1), "k_anonymity"),
    (lambda d: d["scope"].update(relationship="WORKS_AT"), "does not match"),
    (lambda d: d["roles"]["analyst"].update(colour="blue"), "unexpected keys"),
])
def test_a_typo_in_the_policy_is_an_error_not_a_silent_grant(mutate: Any, needle: str) -> None:
    data = base()
    mutate(data)
    with pytest.raises(ConfigError, match=needle):
        parse_policy(data)


def test_duplicate_keys_in_the_policy_file_are_refused(tmp_path: Path) -> None:
    text = POLICY_FILE.read_text(encoding="utf-8") + "\n  analyst:\n    read: {public: always, personal: always}\n"
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="analyst"):
        load_policy.__wrapped__(path)


def test_what_the_shipped_policy_derives() -> None:
    person, lives_in = ONTOLOGY.node("Person"), ONTOLOGY.rel("LIVES_IN")
    assert POLICY.grant("analyst", person.prop("name")) is Grant.ALWAYS
    assert POLICY.grant("analyst", person.prop("phone")) is Grant.NEVER
    assert POLICY.grant("staff", person.prop("phone")) is Grant.IN_SCOPE
    assert not POLICY.rows_visible("platform", "Person") and POLICY.rows_visible("platform", "Venue")
    assert POLICY.rel_endpoints("analyst", lives_in) == ()
    assert "LIVES_IN" not in POLICY.path_rels("staff") and "LIVES_IN" in POLICY.path_rels("admin")
    assert ("Document", "Person") not in POLICY.rel_endpoints("platform", ONTOLOGY.rel("MENTIONS"))
    assert POLICY.facet_rule("analyst", "Person", Sensitivity.PERSONAL) is FacetRule.SUPPRESSED
    assert POLICY.facet_rule("platform", "Person", Sensitivity.PUBLIC) is FacetRule.SUPPRESSED  # rows hidden
    assert POLICY.suppress(4) is None and POLICY.suppress(5) == 5 and POLICY.suppress(0) == 0
    assert POLICY.view("staff").provenance_grant(person) is Grant.IN_SCOPE  # a register's name tells too much


def test_operations_are_checked_by_role() -> None:
    POLICY.require(Principal("a", "admin"), "keys")
    with pytest.raises(ForbiddenError, match="admin"):
        POLICY.require(Principal("b", "analyst"), "audit")
