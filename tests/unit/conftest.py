"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from talentgraph.schema.overlay import overlay_path
from talentgraph.schema.vocabularies import use_overlay


@pytest.fixture
def overlay(tmp_path: Path) -> Iterator[Path]:
    """A data dir's vocabulary overlay file (not written yet), merged over the package's vocabularies."""
    path = overlay_path(tmp_path)
    use_overlay(path)
    yield path
    use_overlay(None)  # later tests see the package vocabularies only
