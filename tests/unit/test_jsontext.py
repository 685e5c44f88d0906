"""graph/jsontext.py writes json.dumps's compact text byte for byte: stored hashes and claims must not
change with the encoder."""

from __future__ import annotations

import json
import random
from collections import OrderedDict
from enum import IntEnum, StrEnum
from typing import Any

import pytest

from talentgraph.graph import jsontext


def _json(value: Any, sort_keys: bool = False) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


EVERY_CHAR = "".join(chr(i) for i in range(0x300)) + "\u2028\u2029\ufeff\u200b汉字\U0001F600\ue000"

VALUES: list[Any] = [
    EVERY_CHAR, "", 'a"b\\c', "per:LY013525|MEMBER_OF|org:D01", True, False, None, 0, -1, 2**63 - 1, -(2**63),
    2**64, 10**30,  # past orjson's ints: json's text
    [], {}, [1, "a", None, [True, ["x"]]], ("t", 1), {"b": 1, "a": [2, {"d": 1, "c": 2}], "中": 3, "é": 4},
    0.1, -0.0, 1.5, 121.47, 1e16, 1e-07, 5e-05, 1e-4, 5e-324, 1.7976931348623157e308, float("inf"), float("nan"),
    {"lat": 31.2, "tags": ["a", 1e-07]}, OrderedDict([("z", 1), ("a", [0.00001])]), Colour.RED, Level.HIGH,
    {"name": "王芳", "birth_date": "1936-01-29", "languages": ["zh", "en"], "volunteer": False, "birth_year": 1936},
]


@pytest.mark.parametrize("sort_keys", [False, True])
def test_the_text_is_json_dumps_text(sort_keys: bool) -> None:
    for value in VALUES:
        assert jsontext.dumps(value, sort_keys=sort_keys) == _json(value, sort_keys), value


def test_random_floats_anywhere_in_a_value_keep_json_text() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        f = rng.uniform(1, 10) * 10 ** rng.randint(-320, 300) * rng.choice((1, -1))
        value = {"p": rng.choice([f, [f], ["x", [f]], ("y", f)]), "q": "text"}
        assert jsontext.dumps(value, sort_keys=True) == _json(value, True)


def test_what_json_refuses_it_refuses() -> None:
    with pytest.raises(TypeError):
        jsontext.dumps({"when": object()})


def test_a_new_nodes_claims_and_hash_keep_json_text_with_floats_in_them() -> None:
    """``fresh_claims`` checks the values it writes out, not the wrapping: a float among them still takes json's
    path."""
    from talentgraph.graph import claims
    from talentgraph.graph.common import content_hash

    props = {"name": "图书馆", "lat": 1e-07, "tags": ["a", 5e-05], "floors": 3}
    # The node shows every one of them: each claim is its source's number alone.
    assert claims.fresh_claims(props) == _json(dict.fromkeys(props, 0))
    kept = {"lat": float("nan"), "tags": [], "when": "2024-1-2"}  # not read back as written: kept in the claim
    assert claims.fresh_claims({**props, **kept}, dates={"when"}) == _json(
        {**dict.fromkeys(props, 0), **{k: [[0, v]] for k, v in kept.items()}})
    import hashlib
    assert content_hash(props) == hashlib.sha256(_json(props, True).encode()).hexdigest()
