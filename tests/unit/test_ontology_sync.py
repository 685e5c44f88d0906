"""The ontology is the single source of truth: a property added there appears in all four derivations.

Graph DDL (both dialects), the GraphQL schema, the search mapping and ingest validation are each
built from an ``Ontology`` value; this test adds two properties to ``Person`` and checks each
derivation sees them — and that the stock ontology does not, so the test cannot pass vacuously.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from talentgraph.api import build_schema
from talentgraph.errors import IngestError, TalentgraphError, ValidationError
from talentgraph.graph.cypher import LADYBUG, NEO4J
from talentgraph.ingest.mapping import load_job
from talentgraph.schema.ontology import ONTOLOGY, Property, PropType, SearchKind
from talentgraph.schema.validation import validate_node_props
from talentgraph.search.mapping import search_fields

MENTOR_HOURS = Property("mentor_hours", PropType.INT, "Hours of mentoring given.", facet=True, sortable=True)
HOBBIES = Property("hobbies", PropType.STRING, "Hobbies as written.", searchable=SearchKind.TEXT)
EXTENDED = ONTOLOGY.with_property("Person", MENTOR_HOURS).with_property("Person", HOBBIES)


def _ddl(ontology: object, dialect: object) -> str:
    return "\n".join(dialect.schema(ontology))  # type: ignore[attr-defined]


@pytest.mark.parametrize("dialect", [LADYBUG, NEO4J], ids=["ladybug", "neo4j"])
def test_graph_ddl_follows_the_ontology(dialect: object) -> None:
    assert "mentor_hours" not in _ddl(ONTOLOGY, dialect)
    ddl = _ddl(EXTENDED, dialect)
    assert "mentor_hours" in ddl  # a column (LadybugDB) or a facet index (Neo4j)


def test_graphql_schema_follows_the_ontology() -> None:
    stock = str(build_schema(ONTOLOGY))
    sdl = str(build_schema(EXTENDED))
    for name in ("mentorHours", "hobbies"):
        assert name not in stock
        assert name in sdl
    person_type = sdl.split("type Person ", 1)[1].split("}", 1)[0]
    assert "mentorHours: Int" in person_type
    where = sdl.split("input PersonWhere ", 1)[1].split("}", 1)[0]
    assert "mentorHours" in where
    assert "MENTOR_HOURS" in sdl.split("enum PersonSortField ", 1)[1].split("}", 1)[0]


def test_search_mapping_follows_the_ontology() -> None:
    stock = {f.name for f in search_fields(ONTOLOGY)}
    extended = {f.name: f for f in search_fields(EXTENDED)}
    added = set(extended) - stock
    assert any(extended[n].property == "mentor_hours" and extended[n].kind == "facet" for n in added)
    assert any(extended[n].property == "hobbies" and extended[n].kind == "text" for n in added)


def test_ingest_validation_follows_the_ontology() -> None:
    person = EXTENDED.node("Person")
    cleaned = validate_node_props(person, {"name": "林晓", "mentor_hours": "12", "hobbies": "围棋"})
    assert cleaned["mentor_hours"] == 12
    with pytest.raises(ValidationError) as bad:
        validate_node_props(person, {"name": "林晓", "mentor_hours": "twelve"})
    assert "mentor_hours" in str(bad.value) and "twelve" in str(bad.value)
    with pytest.raises(ValidationError):
        validate_node_props(ONTOLOGY.node("Person"), {"name": "林晓", "mentor_hours": "12"})


def test_mapping_files_are_checked_against_the_ontology(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("编号,姓名,辅导时长\nP1,林晓,12\n", encoding="utf-8")
    job = tmp_path / "job.yaml"
    job.write_text(
        "job: mentors\nsource: {path: p.csv}\nnodes:\n  - type: Person\n    key: '{编号}'\n"
        "    properties: {name: 姓名, mentor_hours: 辅导时长}\n",
        encoding="utf-8",
    )
    spec = load_job(job, ontology=EXTENDED)
    assert spec is not None
    with pytest.raises((IngestError, TalentgraphError)) as err:
        load_job(job, ontology=ONTOLOGY)
    assert "mentor_hours" in str(err.value)
