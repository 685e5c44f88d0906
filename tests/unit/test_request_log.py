"""The request log's target: the path and parameter names as sent, every value elided (access/request_log.py).
A real server's log is checked in tests/integration/test_cli.py."""

from __future__ import annotations

import logging

import pytest

from talentgraph.access.request_log import ElideQueryValues, redacted_target


@pytest.mark.parametrize(("target", "logged"), [
    ("/graphql", "/graphql"),
    ("/people/per:LY000123", "/people/per:LY000123"),
    ("/?q=%E5%BC%A0%E4%BC%9F&lang=ru", "/?q=…&lang=…"),
    ("/suggest?q=", "/suggest?q=…"),
    ("/ngsi-ld/v1/entities?type=Venue&q=name%3D%3D%22x%22", "/ngsi-ld/v1/entities?type=…&q=…"),
    ("/geo/Venue?bbox[]=1&bbox[]=2", "/geo/Venue?bbox[]=…&bbox[]=…"),
    ("/health?", "/health?"),
    ("/health?&&x", "/health?x=…"),
    ("/health?%E5%BC%A0%E4%BC%9F", "/health?…"),  # a bare value in the place of a name
    ("/health?=%E5%BC%A0", "/health?…"),
    ("/health?a%20b=1", "/health?…"),
    ("/feed?after=12?x=3", "/feed?after=…"),
])
def test_a_target_keeps_its_path_and_plain_parameter_names(target: str, logged: str) -> None:
    assert redacted_target(target) == logged


def test_the_filter_rewrites_uvicorns_access_record_and_nothing_else() -> None:
    access = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/?q=%E5%BC%A0", "1.1", 200), None)
    other = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "%s", ("/?q=kept",), None)
    assert ElideQueryValues().filter(access) and ElideQueryValues().filter(other)
    assert access.getMessage() == '127.0.0.1:5000 - "GET /?q=… HTTP/1.1" 200'
    assert other.getMessage() == "/?q=kept"
