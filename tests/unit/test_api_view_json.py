"""The GraphQL view's response bodies: compact UTF-8 JSON, whatever the values (api/view.py ``json_bytes``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from talentgraph.api.view import json_bytes


@pytest.mark.parametrize("body", [
    {"data": {"search": {"hits": [{"title": "张伟 Zhang Wei", "score": 1.5, "highlights": ["<mark>张</mark>伟"]}],
                         "facets": [{"label": "俄语", "count": 3}]}}},
    {"data": None, "errors": [{"message": "Алексей – «quoted» \"and\" \\ back", "path": ["person", 0, "name"],
                               "extensions": {"code": "BAD_QUERY", "details": {"limit": 20, "ok": True}}}]},
    {"data": {"n": -(2**63), "e": [], "o": {}, "u": "𝒳 emoji 😀 and NUL-free"}},
])
def test_the_body_reads_back_as_it_was_given_in_utf_8_without_spaces(body: dict[str, Any]) -> None:
    out = json_bytes(body)
    assert json.loads(out) == body
    assert out.decode("utf-8") == json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def test_what_orjson_refuses_is_written_by_the_standard_library() -> None:
    # A lone surrogate (echoed from a refused argument, say) and an integer past 64 bits (a JSON scalar).
    body = {"errors": [{"message": "bad text \ud83d here"}], "data": {"big": 2**70, "keys": {1: "one"}}}
    out = json_bytes(body)
    assert json.loads(out) == {"errors": [{"message": "bad text \ud83d here"}], "data": {"big": 2**70,
                                                                                           "keys": {"1": "one"}}}
    assert b"\\ud83d" in out


def test_floats_json_has_no_word_for_are_null_either_way() -> None:
    assert json.loads(json_bytes({"x": float("nan"), "y": [float("inf")]})) == {"x": None, "y": [None]}
    assert json.loads(json_bytes({"x": float("-inf"), "big": 2**70})) == {"x": None, "big": 2**70}
