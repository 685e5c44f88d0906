"""The embedded graph's page cache is a setting with a floor: a typo cannot starve or disable it."""

from __future__ import annotations

import pytest

from talentgraph.config import Settings, auto_graph_memory_mb
from talentgraph.errors import ConfigError


def test_graph_memory_comes_from_the_environment_and_is_checked() -> None:
    auto = Settings.load(env={}).graph_memory_mb
    assert auto == auto_graph_memory_mb() and 1024 <= auto <= 16 * 1024
    assert Settings().graph_memory_mb == auto
    assert Settings.load(env={"TALENTGRAPH_GRAPH_MEMORY_MB": "2048"}).graph_memory_mb == 2048
    for bad in ("0", "-5", "63"):
        with pytest.raises(ConfigError, match="graph_memory_mb"):
            Settings.load(env={"TALENTGRAPH_GRAPH_MEMORY_MB": bad})
    with pytest.raises(ConfigError):
        Settings.load(env={"TALENTGRAPH_GRAPH_MEMORY_MB": "a lot"})
