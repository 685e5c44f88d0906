"""The data directory's vocabulary overlay: written 0600 as YAML, merged over the package, reloaded on change."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from talentgraph.errors import OntologyError
from talentgraph.schema import vocabularies
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.schema.overlay import add_alias, add_term, read_overlay
from talentgraph.schema.validation import check_node_props
from talentgraph.schema.vocabularies import (
    generation,
    load_vocabularies,
    package_vocabularies,
    refresh,
    vocabulary,
)


def test_without_an_overlay_file_the_package_vocabularies_are_used(overlay: Path) -> None:
    assert not overlay.exists()
    assert load_vocabularies() is package_vocabularies()


def test_add_term_writes_a_private_yaml_file_and_the_term_is_merged(overlay: Path) -> None:
    add_term(overlay, package_vocabularies(), "skills",
             {"id": "cooking.wine_tasting", "zh": "红酒品鉴", "en": "Wine tasting", "parent": "cooking"})
    assert stat.S_IMODE(overlay.stat().st_mode) == 0o600
    data = yaml.safe_load(overlay.read_text(encoding="utf-8"))
    assert data == {"skills": {"terms": [{"id": "cooking.wine_tasting", "zh": "红酒品鉴", "en": "Wine tasting",
                                          "parent": "cooking"}]}}
    refresh()
    skills = vocabulary("skills")
    assert skills.lookup("红酒品鉴").id == "cooking.wine_tasting"  # type: ignore[union-attr]
    assert "cooking.wine_tasting" in skills.expand("cooking")
    assert "cooking.wine_tasting" not in package_vocabularies()["skills"]  # the package is never changed
    assert load_vocabularies() is load_vocabularies()


def test_alias_adds_a_label_to_a_package_term(overlay: Path) -> None:
    add_alias(overlay, package_vocabularies(), "languages", "ru", "俄罗斯话")
    add_alias(overlay, package_vocabularies(), "languages", "ru", "俄罗斯话")  # twice: kept once
    assert read_overlay(overlay) == {"languages": {"aliases": {"ru": ["俄罗斯话"]}}}
    refresh()
    assert vocabulary("languages").lookup("俄罗斯话").id == "ru"  # type: ignore[union-attr]


def test_a_change_by_another_process_is_seen_after_the_recheck_interval(overlay: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vocabularies, "OVERLAY_RECHECK", 0.0)
    before = generation()
    assert vocabulary("skills").lookup("品酒") is None
    overlay.write_text("skills:\n  aliases:\n    cooking: [品酒]\n", encoding="utf-8")
    assert vocabulary("skills").lookup("品酒").id == "cooking"  # type: ignore[union-attr]
    assert generation() > before


def test_validation_memo_follows_the_overlay(overlay: Path) -> None:
    person = ONTOLOGY.node("Person")
    cleaned, _ = check_node_props(person, {"name": "林晓", "skills": ["红酒品鉴"]})
    assert cleaned["skills_unreviewed"] == ["红酒品鉴"] and "skills" not in cleaned
    add_alias(overlay, package_vocabularies(), "skills", "cooking", "红酒品鉴")
    refresh()
    cleaned, _ = check_node_props(person, {"name": "林晓", "skills": ["红酒品鉴"]})
    assert cleaned["skills"] == ["cooking"] and "skills_unreviewed" not in cleaned


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("skills:\n  aliases:\n    law: [a]\n  aliases:\n    law: [b]\n", "appears twice"),
        ("skillz:\n  aliases:\n    law: [a]\n", "'skillz' is not a vocabulary"),
        ("skills:\n  terms:\n    - {id: law, zh: 法律2, en: Law2}\n", "already in the package vocabulary"),
        ("skills:\n  aliases:\n    law: [律师事务]\n    medicine: [律师事务]\n", "belongs to both"),
        ("skills:\n  aliases:\n    nope: [x]\n", "'nope', which does not exist"),
        ("skills:\n  extra: 1\n", "entry 'skills'"),
    ],
)
def test_bad_overlays_are_refused_naming_the_file(overlay: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                                                  message: str) -> None:
    overlay.write_text(text, encoding="utf-8")
    refresh()
    with pytest.raises(OntologyError, match=message) as err:
        load_vocabularies()
    assert "vocab-overlay.yaml" in str(err.value)


def test_writes_that_would_break_loading_are_refused_and_leave_the_file_alone(overlay: Path) -> None:
    add_alias(overlay, package_vocabularies(), "skills", "law", "律所顾问")
    before = overlay.read_text(encoding="utf-8")
    with pytest.raises(OntologyError, match="belongs to both"):
        add_alias(overlay, package_vocabularies(), "skills", "medicine", "律师")  # 律师 is law's
    with pytest.raises(OntologyError, match="already in the package"):
        add_term(overlay, package_vocabularies(), "skills", {"id": "law", "zh": "法", "en": "L"})
    assert overlay.read_text(encoding="utf-8") == before
    assert not list(overlay.parent.glob(".vocab-overlay-*"))
