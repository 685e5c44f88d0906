"""Job files: every mistake is reported before any row is read, naming the YAML path and the fix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from talentgraph.errors import IngestError
from talentgraph.ingest.mapping import load_job, load_pipeline

HEADER = "居民编号,姓名,出生日期,语言,证件号码,证件类型,楼栋编号,入住日期,经度,纬度\n"


def job_dict(**over: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "job": "residents",
        "description": "居民登记表 → Person, LIVES_IN",
        "source": {"path": "residents.csv", "encoding": "auto"},
        "nodes": [{
            "type": "Person",
            "key": "{居民编号}",
            "properties": {
                "name": "姓名",
                "birth_year": {"column": "出生日期", "transform": "year"},
                "languages": {"column": "语言", "split": "[,;，；、/]"},
                "identity": {"column": "证件号码", "transform": "identity", "kind_column": "证件类型"},
                "nationality": {"value": "CN"},
            },
        }],
        "relationships": [{
            "type": "LIVES_IN",
            "from": {"type": "Person", "key": "{居民编号}"},
            "to": {"type": "Area", "key": "{楼栋编号}"},
            "optional": True,
        }],
    }
    job.update(over)
    return job


def write(tmp_path: Path, job: dict[str, Any], header: str = HEADER) -> Path:
    (tmp_path / "residents.csv").write_text(header, encoding="utf-8")
    path = tmp_path / "residents.yaml"
    path.write_text(yaml.safe_dump(job, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def error(tmp_path: Path, job: dict[str, Any]) -> str:
    with pytest.raises(IngestError) as info:
        load_job(write(tmp_path, job))
    return str(info.value)


def test_valid_job_loads(tmp_path: Path) -> None:
    spec = load_job(write(tmp_path, job_dict()))
    assert spec.job == "residents" and spec.source.format == "csv"
    assert spec.source.path == (tmp_path / "residents.csv").resolve()
    person = spec.nodes[0]
    assert [p.name for p in person.properties] == ["name", "birth_year", "languages", "identity", "nationality"]
    identity = person.properties[3]
    assert identity.targets == ("id_hash", "id_last4", "id_kind") and identity.kind_column == "证件类型"
    assert spec.identity_columns == {"证件号码"}
    assert person.properties[0].transform == "str"  # shorthand → default transform for a string property
    spec.check_header(HEADER.strip().split(","))


def test_input_dir_overrides_job_folder(tmp_path: Path) -> None:
    path = write(tmp_path, job_dict())
    other = tmp_path / "in"
    other.mkdir()
    (other / "residents.csv").write_text(HEADER, encoding="utf-8")
    assert load_job(path, input_dir=other).source.path == (other / "residents.csv").resolve()


@pytest.mark.parametrize(
    ("change", "where", "fix"),
    [
        (lambda j: j["nodes"][0].update(type="Persn"), "nodes[0].type", "Known types: Person"),
        (lambda j: j["relationships"][0].update(type="LIVES_AT"), "relationships[0].type", "LIVES_IN"),
        (lambda j: j["nodes"][0]["properties"].update(birthyear="出生日期"), "nodes[0].properties.birthyear",
         "Did you mean 'birth_year'"),
        (lambda j: j["nodes"][0]["properties"]["birth_year"].update(transform="yaer"),
         "nodes[0].properties.birth_year.transform", "Did you mean 'year'"),
        (lambda j: j["relationships"][0]["to"].update(type="Enterprise"), "relationships[0]",
         "The ontology allows Person→Area"),
        (lambda j: j["nodes"][0]["properties"].pop("name"), "nodes[0].properties", "Person requires name"),
        (lambda j: j["nodes"][0]["properties"].update(name={"column": "姓名", "split": ","}),
         "nodes[0].properties.name.split", "not a list property"),
        (lambda j: j["nodes"][0]["properties"].update(phone={"column": "x", "kind_column": "y"}),
         "nodes[0].properties.phone.kind_column", "only applies to transform: identity"),
        (lambda j: j["nodes"][0]["properties"].update(name={"column": "姓名", "colour": 1}),
         "nodes[0].properties.name.colour", "Allowed here"),
        (lambda j: j["nodes"][0]["properties"].update(lon_lat={"columns": ["经度", "纬度"], "transform": "gcj02"}),
         "nodes[0].properties.lon_lat.transform", "Person has no lon, lat"),
        (lambda j: j["nodes"][0]["properties"].update(occupation={"column": "x", "value": "y"}),
         "nodes[0].properties.occupation", "exactly one of column, columns or value"),
        (lambda j: j["nodes"][0]["properties"].update(languages={"column": "语言", "split": "[,"}),
         "nodes[0].properties.languages.split", "not a regular expression"),
        (lambda j: j["nodes"][0].update(key="{居民编号"), "nodes[0].key", "unbalanced brace"),
        (lambda j: j["nodes"][0].pop("key"), "nodes[0].key", "missing"),
        (lambda j: j.update(job="Residents!"), "job", "lower-case letters"),
        (lambda j: j.update(sources={}), "sources", "Did you mean 'source'"),
        (lambda j: j["source"].update(sheet="居民"), "source.sheet", "does not apply to csv"),
        (lambda j: j["source"].update(format="parquet"), "source.format", "Registered formats"),
        (lambda j: j["source"].update(path="nope.csv"), "source.path", "does not exist"),
        (lambda j: j["relationships"][0].update(optional="yes"), "relationships[0].optional", "optional: true"),
        (lambda j: j["relationships"][0].update(properties={"since": "入住日期"}),
         "relationships[0].properties.since", "LIVES_IN has no property 'since'"),
        (lambda j: j["nodes"][0]["properties"].update(id_hash="证件号码"), "nodes[0].properties.id_hash",
         "already writes"),
    ],
)
def test_mapping_errors_name_the_yaml_path(tmp_path: Path, change: Any, where: str, fix: str) -> None:
    job = job_dict()
    change(job)
    message = error(tmp_path, job)
    assert message.startswith("residents.yaml: ")
    assert f" {where}" in message or f"{where}:" in message, message
    assert fix in message, message


def test_rel_properties_checked_against_the_rel_type(tmp_path: Path) -> None:
    job = job_dict(relationships=[{
        "type": "MEMBER_OF", "from": {"type": "Person", "key": "{居民编号}"},
        "to": {"type": "Group", "key": "{楼栋编号}"},
        "properties": {"since": {"column": "入住日期", "transform": "date"}, "role": {"value": "member"}},
    }])
    spec = load_job(write(tmp_path, job))
    assert [p.name for p in spec.relationships[0].properties] == ["since", "role"]


def test_header_check_names_every_missing_column(tmp_path: Path) -> None:
    spec = load_job(write(tmp_path, job_dict()))
    header = [c for c in HEADER.strip().split(",") if c not in ("楼栋编号", "证件类型")] + ["楼栋号"]
    with pytest.raises(IngestError) as info:
        spec.check_header(header)
    message = str(info.value)
    assert "relationships[0].to.key: column '楼栋编号'" in message
    assert "nodes[0].properties.identity.kind_column: column '证件类型'" in message
    assert "Did you mean '楼栋号'" in message
    assert re.search(r"2 mapped column\(s\)", message)


def test_pipeline(tmp_path: Path) -> None:
    write(tmp_path, job_dict())
    (tmp_path / "pipeline.yaml").write_text("pipeline: demo\njobs: [residents.yaml]\n", encoding="utf-8")
    specs = load_pipeline(tmp_path / "pipeline.yaml")
    assert [s.job for s in specs] == ["residents"]
    (tmp_path / "pipeline.yaml").write_text("pipeline: demo\njobs: [residents.yaml, missing.yaml]\n",
                                            encoding="utf-8")
    with pytest.raises(IngestError, match=r"pipeline.yaml: jobs\[1\]: .*missing.yaml does not exist"):
        load_pipeline(tmp_path / "pipeline.yaml")


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("job: [unclosed\n", encoding="utf-8")
    with pytest.raises(IngestError, match="bad.yaml is not valid YAML"):
        load_job(path)


# --- rendering keys (precompiled templates) ----------------------------------------------------------


@pytest.mark.parametrize(("text", "row", "key"), [
    ("{楼号}-{单元}", {"楼号": " 12 ", "单元": 3.0}, "12-3"),
    ("B{ 楼号 }x", {"楼号": "7"}, "B7x"),
    ("{a}{b}", {"a": "x", "b": ""}, None),
    ("{a}", {"a": "1E5"}, "1E5"),  # short scientific-looking text is kept as typed
])
def test_template_render(text: str, row: dict[str, Any], key: str | None) -> None:
    from talentgraph.ingest.mapping import Template

    assert Template.parse(text, Path("j.yaml"), "key").render(row, "Person.key") == key


@pytest.mark.parametrize("cell", ["3.1E+17", "+3.1E+17", "3.10e17"])
def test_template_refuses_rounded_spreadsheet_numbers(cell: str) -> None:
    from talentgraph.errors import ValidationError
    from talentgraph.ingest.mapping import Template

    with pytest.raises(ValidationError, match="spreadsheets keep only 15 digits"):
        Template.parse("{id}", Path("j.yaml"), "key").render({"id": cell}, "Person.key")


def test_template_refuses_pipes_and_control_characters() -> None:
    from talentgraph.errors import ValidationError
    from talentgraph.ingest.mapping import Template

    t = Template.parse("{a}", Path("j.yaml"), "key")
    for bad in ("a|b", "a\x01b"):
        with pytest.raises(ValidationError):
            t.render({"a": bad}, "Person.key")


def test_load_jobs_tells_a_job_from_a_pipeline_by_its_keys(tmp_path: Path) -> None:
    from talentgraph.ingest.mapping import load_jobs

    (tmp_path / "p.csv").write_text("编号,姓名\nP1,林晓\n", encoding="utf-8")
    job = tmp_path / "job.yaml"
    job.write_text("job: people\ndescription: 'not a pipeline: just one job'\nsource: {path: p.csv}\n"
                   "nodes:\n  - type: Person\n    key: '{编号}'\n    properties: {name: 姓名}\n", encoding="utf-8")
    pipeline = tmp_path / "all.yaml"
    pipeline.write_text("pipeline: all\njobs: [job.yaml, job.yaml]\n", encoding="utf-8")
    assert [s.job for s in load_jobs(job)] == ["people"]
    assert [s.job for s in load_jobs(pipeline)] == ["people", "people"]
