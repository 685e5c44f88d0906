"""Pure value conversions of the Neo4j adapter (no server needed)."""

from __future__ import annotations

import datetime as dt

import pytest
from neo4j.time import Date, DateTime

from talentgraph.errors import ConfigError
from talentgraph.graph.neo4j import Neo4jGraphStore
from talentgraph.graph.neo4j.values import to_native


def test_driver_dates_become_python_dates_inside_lists_and_maps() -> None:
    value = {"d": Date(2001, 7, 1), "xs": [Date(2020, 3, 1), None, "a"], "t": DateTime(2024, 1, 2, 3, 4, 5)}
    assert to_native(value) == {"d": dt.date(2001, 7, 1), "xs": [dt.date(2020, 3, 1), None, "a"],
                                "t": dt.datetime(2024, 1, 2, 3, 4, 5)}
    assert to_native(7) == 7 and to_native(True) is True and to_native(None) is None


def test_only_bolt_urls_are_accepted_before_any_connection() -> None:
    with pytest.raises(ConfigError, match="not a Neo4j Bolt URL"):
        Neo4jGraphStore("http://127.0.0.1:7474")
