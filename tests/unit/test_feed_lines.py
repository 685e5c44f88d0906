"""``GET /feed`` formats its NDJSON lines by hand (feed/stream.py ``_event_line``): the same text the encoder
makes of ``Event.as_json()``, for every shape of event."""

from __future__ import annotations

import pytest

from talentgraph.feed.changes import Event
from talentgraph.feed.stream import _JSON, _event_line

EVENTS = [
    Event(7, "upsert", "node", "Person", "per:1", "2026-01-01T00:00:00.000001Z", 3,
          {"name": "王小明 \"Ming\"\n", "lat": 31.2, "skills": ["中文", "\u2028"], "volunteer": True, "none": None},
          "Y2Vyc29y"),
    Event(8, "delete", "node", "Venue", "ven:2", "", 0, None, ""),
    Event(9, "upsert", "rel", "LIVES_IN", "per:1|LIVES_IN|are:2", "t", 1, {}, "c", "per:1", "are:2"),
    Event(10, "delete", "rel", "WORKS_AT", "k", "t", 2, None, "c", None, None),
]


@pytest.mark.parametrize("event", EVENTS)
def test_an_event_line_is_what_the_encoder_makes_of_the_event(event: Event) -> None:
    assert _event_line(event) == _JSON.encode(event.as_json()) + "\n"
