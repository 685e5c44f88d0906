"""Docs stay honest: every setting and command is in the README, and its GraphQL examples are valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from talentgraph.api import build_schema
from talentgraph.cli import EXAMPLE_QUERIES, build_parser
from talentgraph.config import SETTINGS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```", 2)[1]
    assert "scripts/demo" in first_block and "scripts/test" in first_block


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: object) -> None:
    flag = "--" + setting.name.replace("_", "-")  # type: ignore[attr-defined]
    row = next((ln for ln in README.splitlines() if ln.startswith(f"| `{flag}`")), None)
    assert row is not None, f"README configuration table lacks {flag}"
    assert setting.env in row  # type: ignore[attr-defined]


def test_every_command_is_documented() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"`talentgraph {name}" in README, f"README commands table lacks {name}"


def test_graphql_examples_are_valid_for_the_role_they_are_written_for() -> None:
    """Each example starts with `# as <role>` and must validate against that role's own schema."""
    schemas = {}
    blocks = re.findall(r"```graphql\n(.*?)```", README, re.S) + [q for _, q in EXAMPLE_QUERIES]
    assert len(blocks) >= 6
    for block in blocks:
        m = re.match(r"# as (\w+)\n", block)
        assert m, f"example does not say which role it is for:\n{block}"
        role = m.group(1)
        schema = schemas.setdefault(role, build_schema(role=role)._schema)
        errors = validate(schema, parse(block))
        assert not errors, f"{errors[0].message} ({role}) in:\n{block}"
