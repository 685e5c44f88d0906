"""A document sent again is parsed and validated once per schema, and nothing else changes: syntax
errors still take strawberry's path, and a role's schema never sees another role's validation."""

from __future__ import annotations

from typing import Any

import pytest

from talentgraph.api import limits
from talentgraph.api.schema import build_schema

pytestmark = pytest.mark.anyio


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"parse": 0, "validate": 0}
    parse, validate = limits.parse, limits.validate_document

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        calls["parse"] += 1
        return parse(*args, **kwargs)

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        calls["validate"] += 1
        return validate(*args, **kwargs)

    monkeypatch.setattr(limits, "parse", counting_parse)
    monkeypatch.setattr(limits, "validate_document", counting_validate)
    limits._validate.cache_clear()
    monkeypatch.setattr(limits, "_PARSED", type(limits._PARSED)())
    monkeypatch.setattr(limits, "_VALIDATED", type(limits._VALIDATED)())
    return calls


def _messages(result: Any) -> list[str]:
    return [e.message for e in result.errors or []]


async def test_the_same_document_is_parsed_and_validated_once(counted: dict[str, int]) -> None:
    schema = build_schema()
    for _ in range(3):
        result = await schema.execute("{ persons(first: 1) { nodes { nope } } }")
        assert any("Cannot query field 'nope'" in m for m in _messages(result))
    assert counted == {"parse": 1, "validate": 1}


async def test_a_syntax_error_is_reported_every_time_and_not_kept(counted: dict[str, int]) -> None:
    schema = build_schema()
    for _ in range(2):
        result = await schema.execute("{ persons(first: 1) { nodes { id }")
        assert result.data is None and any("Syntax Error" in m for m in _messages(result))
    assert not limits._PARSED


async def test_each_role_validates_against_its_own_schema(counted: dict[str, int]) -> None:
    query = "{ auditLog(limit: 1) { at } }"  # the access record: admins only
    platform, admin = build_schema(role="platform"), build_schema(role="admin")
    for schema, refused in ((platform, True), (admin, False), (platform, True), (admin, False)):
        result = await schema.execute(query)
        assert any("Cannot query field 'auditLog'" in m for m in _messages(result)) is refused
    assert counted["parse"] == 1 and counted["validate"] == 2
