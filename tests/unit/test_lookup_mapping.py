"""Lookup ends in job files: the YAML shape, its errors, and the normalised form names are compared in.

Resolution against a graph is in ``tests/integration/test_ingest_lookups.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from talentgraph.errors import IngestError
from talentgraph.ingest.lookups import normalise
from talentgraph.ingest.mapping import JobSpec, load_job, name_properties
from talentgraph.ingest.quarantine import row_ids
from talentgraph.schema.ontology import ONTOLOGY


def job(tmp_path: Path, to: dict[str, Any], rel_type: str = "LIVES_IN") -> JobSpec:
    (tmp_path / "r.csv").write_text("编号,姓名,小区,楼栋,单位,代码\n", encoding="utf-8")
    data = {
        "job": "residents",
        "source": {"path": "r.csv"},
        "nodes": [{"type": "Person", "key": "{编号}", "properties": {"name": "姓名"}}],
        "relationships": [{"type": rel_type, "from": {"type": "Person", "key": "{编号}"}, "to": to}],
    }
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_job(path)


@pytest.mark.parametrize(("a", "b"), [
    ("12号", "12栋"), ("12号", "１２幢"), ("12号", "12号楼"), ("12号", "12"),
    ("联洋 新苑", "联洋新苑"), ("Lianyang TECH", "lianyangtech"), ("ＬＩＡＮＹＡＮＧ", "lianyang"),
    ("联洋新苑\u3000", "联洋新苑"),
])
def test_names_written_differently_normalise_alike(a: str, b: str) -> None:
    assert normalise(a) == normalise(b)


@pytest.mark.parametrize(("a", "b"), [("12号", "13号"), ("12号", "112号"), ("联洋新苑", "联洋花园"), ("A座", "B座")])
def test_different_names_stay_different(a: str, b: str) -> None:
    assert normalise(a) != normalise(b)


def test_a_lookup_end_parses_with_where_within_and_columns(tmp_path: Path) -> None:
    spec = job(tmp_path, {"type": "Area", "lookup": {
        "name": "{楼栋}", "where": {"level": "楼栋"},  # a vocabulary label becomes the stored id
        "within": {"name": "{小区}", "where": {"level": "residential_area"}}}})
    end = spec.relationships[0].to
    assert end.key is None and end.lookup is not None
    lk = end.lookup
    assert [m.label for m in lk.match] == ["name"]
    assert lk.match[0].properties == name_properties(ONTOLOGY.node("Area"))
    assert lk.where == (("level", "building"),)
    assert lk.within is not None and lk.via == "PART_OF" and lk.within.where == (("level", "residential_area"),)
    assert end.columns == ("楼栋", "小区")
    # Header checks see the lookup's columns, so a misspelt one is reported before any row is read.
    assert ("relationships[0].to.lookup", "小区") in list(spec.column_refs())
    with pytest.raises(IngestError, match="小区"):
        spec.check_header(["编号", "姓名", "楼栋"])


def test_name_means_the_title_and_the_other_name_properties(tmp_path: Path) -> None:
    spec = job(tmp_path, {"type": "Enterprise", "lookup": {"name": "{单位}", "uscc": "{代码}"}}, "WORKS_AT")
    lk = spec.relationships[0].to.lookup
    assert lk is not None
    assert [(m.label, m.properties) for m in lk.match] == [("name", ("name", "latin_name")), ("uscc", ("uscc",))]


def test_within_names_its_link_when_the_ontology_has_several(tmp_path: Path) -> None:
    within = {"type": "PartyOrganization", "name": "{小区}"}  # PART_OF and CO_BUILDS_WITH both link them
    with pytest.raises(IngestError, match="Say which with via: PART_OF"):
        job(tmp_path, {"type": "PartyOrganization", "lookup": {"name": "{单位}", "within": within}}, "MEMBER_OF")
    lookup = {"name": "{单位}", "within": {**within, "via": "PART_OF"}}
    spec = job(tmp_path, {"type": "PartyOrganization", "lookup": lookup}, "MEMBER_OF")
    lk = spec.relationships[0].to.lookup
    assert lk is not None and lk.via == "PART_OF" and lk.within is not None
    assert lk.within.type == "PartyOrganization"


def test_a_lookup_end_does_not_name_ids_in_quarantine_files(tmp_path: Path) -> None:
    spec = job(tmp_path, {"type": "Area", "lookup": {"name": "{楼栋}"}})
    assert row_ids(spec, {"编号": "P1", "楼栋": "12号"}) == ["per:P1"]


@pytest.mark.parametrize(("to", "message"), [
    ({"type": "Area", "key": "{楼栋}", "lookup": {"name": "{楼栋}"}}, "both key and lookup"),
    ({"type": "Area", "lookup": {"nmae": "{楼栋}"}}, "Did you mean 'name'"),
    ({"type": "Area", "lookup": {"households": "{楼栋}"}}, "no text property 'households'"),
    ({"type": "Area", "lookup": {"where": {"level": "building"}}}, "matches on nothing"),
    ({"type": "Area", "lookup": {"name": "{楼栋}", "where": {"level": "{小区}"}}}, "not a constant"),
    ({"type": "Area", "lookup": {"name": "{楼栋}", "where": {"level": "楼房"}}}, "area_levels"),
    ({"type": "Area", "lookup": {"name": "{楼栋}", "where": {"lvl": "building"}}}, "no property 'lvl'"),
    ({"type": "Area", "lookup": "{楼栋}"}, "is not a lookup"),
    ({"type": "Area", "lookup": {"name": "{楼栋}", "within": {"type": "Venue", "name": "{小区}"}}},
     "no relationship does"),
])
def test_lookup_mistakes_are_reported_with_the_yaml_path(tmp_path: Path, to: dict[str, Any], message: str) -> None:
    with pytest.raises(IngestError, match="relationships\\[0\\].to") as info:
        job(tmp_path, to)
    assert message in str(info.value)
