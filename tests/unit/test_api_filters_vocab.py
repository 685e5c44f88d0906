"""Filters on vocabulary fields read labels as ingest does; an unknown value is a BAD_QUERY naming close terms."""

from __future__ import annotations

import pytest

from talentgraph.access.policy import POLICY
from talentgraph.api.filters import compile_where, node_fields
from talentgraph.errors import BadQueryError
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.types import Cmp

PERSON = node_fields(ONTOLOGY.node("Person"), POLICY.view("admin"))
ENTERPRISE = node_fields(ONTOLOGY.node("Enterprise"), POLICY.view("admin"))


@pytest.mark.parametrize("label", ["俄语", "Russian", "ru", "русский", "俄文", " RU "])
def test_language_labels_become_the_term_id(label: str) -> None:
    assert compile_where(PERSON, {"languages": {"contains": label}}, owner="PersonWhere") == \
        Cmp("languages", "contains", "ru")


def test_in_eq_and_ne_are_normalised_too() -> None:
    assert compile_where(PERSON, {"languages": {"in": ["俄语", "French"]}}, owner="PersonWhere") == \
        Cmp("languages", "in", ("ru", "fr"))
    assert compile_where(PERSON, {"nationality": {"eq": "俄罗斯"}}, owner="PersonWhere") == Cmp("nationality", "eq", "RU")
    assert compile_where(ENTERPRISE, {"industry": {"ne": "IT"}}, owner="EnterpriseWhere") == \
        Cmp("industry", "ne", "information_technology")


def test_starts_with_compares_stored_ids_as_text() -> None:
    assert compile_where(PERSON, {"nationality": {"startsWith": "R"}}, owner="PersonWhere") == \
        Cmp("nationality", "starts_with", "R")


def test_unknown_value_is_a_bad_query_with_close_terms() -> None:
    with pytest.raises(BadQueryError) as err:
        compile_where(PERSON, {"languages": {"contains": "Russain"}}, owner="PersonWhere")
    e = err.value
    assert e.code == "BAD_QUERY"
    assert "PersonWhere.languages.contains: 'Russain' is not in the 'languages' vocabulary" in e.message
    assert e.hint is not None and "ru (俄语 / Russian)" in e.hint and "languagesUnreviewed" in e.hint


def test_unreviewed_companions_filter_as_plain_text() -> None:
    assert compile_where(PERSON, {"skillsUnreviewed": {"contains": "红酒品鉴"}}, owner="PersonWhere") == \
        Cmp("skills_unreviewed", "contains", "红酒品鉴")
