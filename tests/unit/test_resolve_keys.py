"""Name, phone and date keys: the spellings registers use meet; different names stay apart."""

from __future__ import annotations

import pytest

from talentgraph.resolve.decisions import Decision, DecisionLog, pair
from talentgraph.resolve.keys import name_key, name_keys, phone_key
from talentgraph.resolve.model import ScoredPair
from talentgraph.errors import ConfigError


@pytest.mark.parametrize("forms", [
    ("张伟", "ZHANG Wei", "Wei Zhang", "zhang  wei"),
    ("Наталья", "Natalya", "Natalia", "NATALIA"),
    ("김민수", "Kim Min-su", "Minsu Kim", "KIM MINSU"),
    ("José Müller", "Jose Muller", "Mueller Jose"),
    ("Ｚｈａｎｇ Ｗｅｉ", "Zhang Wei"),  # full-width letters
])
def test_spellings_of_one_name_meet(forms: tuple[str, ...]) -> None:
    assert len({name_key(f) for f in forms}) == 1, {f: name_key(f) for f in forms}


@pytest.mark.parametrize("a,b", [("张伟", "张强"), ("Natalia Ivanova", "Natalia Petrova"), ("김민수", "김민준"),
                                 ("王芳", "汪芳x")])
def test_different_names_stay_apart(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_empty_names_have_no_key() -> None:
    assert name_key(None) is None and name_key("  ") is None and name_key("") is None
    assert name_keys(["张伟", "Zhang Wei", None, "Wei ZHANG", "Wang Fang"]) == [name_key("张伟"), name_key("王芳")]


def test_phone_key_drops_formatting_and_china_code() -> None:
    assert phone_key("+86 138 0013 8000") == phone_key("138-0013-8000") == phone_key("13800138000") == "13800138000"
    assert phone_key("+7 916 123 45 67") == "79161234567"
    assert phone_key(None) is None and phone_key("") is None


def test_name_alone_never_corroborates() -> None:
    name_only = ScoredPair("a", "b", 0.999, {}, {"name": 4, "birth": -1, "phone": 0, "document": -1})
    assert not name_only.corroborated
    assert ScoredPair("a", "b", 0.99, {}, {"name": 4, "phone": 1}).corroborated
    assert ScoredPair("a", "b", 0.99, {}, {"name": 2, "birth": 4}).corroborated
    assert not ScoredPair("a", "b", 0.99, {}, {"name": 4, "birth": 1}).corroborated  # same year only


def test_decision_log_latest_wins_and_rejects_garbage(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = DecisionLog(tmp_path / "d.jsonl")
    assert log.load() == {}
    log.record([Decision("b", "a", "accept", "x", "t")])
    log.record([Decision("a", "b", "reject", "y", "t2")])
    assert log.load()[pair("a", "b")].verdict == "reject"
    assert oct(log.path.stat().st_mode & 0o777) == "0o600"
    log.path.write_text('{"a": "x", "b": "y", "verdict": "maybe"}\n')
    with pytest.raises(ConfigError, match="maybe"):
        log.load()
    log.path.write_text("not json\n")
    with pytest.raises(ConfigError, match=":1:"):
        log.load()


def test_homophones_share_a_key_by_design() -> None:
    # Registers transcribe names by sound (a clerk types 张炜 for 张伟); the key follows the sound and the
    # other comparisons (birth date, phone, document) decide.
    assert name_key("张伟") == name_key("张炜")
