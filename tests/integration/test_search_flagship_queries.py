"""Query understanding end to end, on every search backend, over a small world from the demo generator.

Residents as ``talentgraph.demo.build`` makes them (skills, languages, nationality, residential area,
names in their own scripts) are indexed with ``build_doc``; the generator's truth says who should come
first. Issue 10's flagship question: "俄语 翻译" / "Russian translator" ranks the Russian-speaking translators
first, in any spelling a staff member types.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from talentgraph.demo.generator import build
from talentgraph.demo.people import Resident
from talentgraph.demo.places import RESIDENTIAL_AREAS
from talentgraph.search.mapping import build_doc
from talentgraph.search.port import SearchIndex
from talentgraph.search.service import SearchService
from talentgraph.types import Node

RESIDENTS = 2000


def _translates(r: Resident) -> bool:
    return any(s.split(".")[0] in ("translation", "interpretation") for s in r.skills)


def _speaks_ru(r: Resident) -> bool:
    return "ru" in r.languages or "translation.ru" in r.skills


@pytest.fixture(scope="module")
def world(search_backend: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SearchService, dict[str, Resident]]]:
    residents = build(residents=RESIDENTS, seed=7).residents
    index: SearchIndex = search_backend.fresh(tmp_path_factory.mktemp("understanding") / "idx")  # type: ignore[attr-defined]
    people = {f"per:{i:05d}": r for i, r in enumerate(residents)}
    docs = [build_doc(Node(f"area:{a.key.lower()}", "Area", {"name": a.name, "level": "residential_area"}))
            for a in RESIDENTIAL_AREAS]
    for pid, r in people.items():
        props = {"name": r.name.name, "latin_name": r.name.latin, "nationality": r.nationality,
                 "languages": r.languages, "skills": r.skills, "volunteer": r.volunteer}
        if r.occupation is not None:
            props["occupation"] = r.occupation.zh
        docs.append(build_doc(Node(pid, "Person", props), {"residential_area": [f"area:{r.area.lower()}"]}))
    index.index(docs)
    index.commit()
    try:
        yield SearchService(index), people
    finally:
        search_backend.discard(index)  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", ["俄语 翻译", "Russian translator", "俄语翻译", "eyu fanyi", "Rusian translater",
                                  "переводчик, говорящий по-русски"])
def test_russian_speaking_translators_come_first(world: tuple[SearchService, dict[str, Resident]], text: str) -> None:
    service, people = world
    wanted = {pid for pid, r in people.items() if _translates(r) and _speaks_ru(r)}
    assert wanted, "the generated world has Russian-speaking translators"
    res = service.search(text, first=20)
    top = [h.id for h in res.hits[: len(wanted)]]
    assert set(top) == wanted, [(people[h.id].languages, people[h.id].skills) for h in res.hits[:5]]
    # Everyone after them still translates or speaks Russian, and every hit says why it matched.
    assert all(_translates(people[h.id]) or _speaks_ru(people[h.id]) for h in res.hits)
    assert all(h.explanations for h in res.hits)


def test_a_place_name_finds_its_residents(world: tuple[SearchService, dict[str, Resident]]) -> None:
    service, people = world
    area = RESIDENTIAL_AREAS[0]
    res = service.search(f"{area.name} 英语", first=50)
    english = {"translation.en", "language_teaching.english"}  # work in English: they speak it
    there = {pid for pid, r in people.items() if r.area == area.key and ("en" in r.languages or english & set(r.skills))}
    assert res.total == len(there) > 0 and {h.id for h in res.hits} <= there
    assert any(w.startswith(f"{area.name} ← residential_area") for w in res.hits[0].explanations)


def test_filler_and_unknown_words_do_not_empty_the_result(world: tuple[SearchService, dict[str, Resident]]) -> None:
    service, _people = world
    plain = service.search("俄语", first=10)
    assert plain.total > 0
    for text in ("谁会说俄语", "someone who speaks Russian", "кто говорит по-русски"):
        res = service.search(text, first=10)
        assert res.total == plain.total and [h.id for h in res.hits] == [h.id for h in plain.hits], text


def test_holders_rank_above_people_who_only_mention_it(world: tuple[SearchService, dict[str, Resident]]) -> None:
    service, people = world
    res = service.search("会计", first=100)
    holders = [h.id for h in res.hits if any(s.startswith("finance.accounting") for s in people[h.id].skills)]
    assert holders and [h.id for h in res.hits[: len(holders)]] == holders


def test_a_hanja_name_finds_the_hangul_name(world: tuple[SearchService, dict[str, Resident]]) -> None:
    service, people = world
    korean = next(r for r in people.values() if r.name.culture == "ko" and len(r.name.family) > 1
                  and len(r.name.given) > 1)
    res = service.search(korean.name.family[1] + korean.name.given[1], first=5)
    assert res.hits and people[res.hits[0].id].name.name == korean.name.name
