"""A job's progress bar (``ingest/progress.py``): the count follows the rows taken in, and a step that stands the
count still is named once it has lasted, with its seconds, until it ends."""

from __future__ import annotations

import re
import threading
import time

import pytest

from talentgraph.ingest import progress
from talentgraph.ingest.progress import JobProgress


class _Screen:
    """What the bars wrote to stderr so far, read as it comes."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.text = ""

    def shows(self, pattern: str, seconds: float = 5.0) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.text += self.capsys.readouterr().err
            if re.search(pattern, self.text):
                return True
            time.sleep(0.01)
        return False


def _ticking(monkeypatch: pytest.MonkeyPatch, say_after: float) -> None:
    monkeypatch.setattr(progress, "SAY_AFTER", say_after)
    monkeypatch.setattr(progress, "TICK", 0.01)


def test_a_step_that_lasts_is_named_with_its_seconds_a_nested_one_gives_way_and_both_clear(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ticking(monkeypatch, 0.05)
    screen = _Screen(capsys)
    bar = JobProgress("residents", enabled=True)
    with bar.doing("ending what the file no longer lists"):
        with bar.doing("writing 100,000 rows to the graph"):
            assert screen.shows(r"writing 100,000 rows to the graph, \d+ s")
        screen.text = ""
        assert screen.shows(r"ending what the file no longer lists, \d+ s")  # the step around it, again
    assert bar._bar.postfix == ""  # no step now: the bar no longer claims one
    bar.close(300)
    assert screen.shows("300 rows")


def test_a_quick_step_is_never_shown(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _ticking(monkeypatch, 30.0)
    bar = JobProgress("areas", enabled=True)
    with bar.doing("writing 12 rows to the graph"):
        time.sleep(0.1)  # ten ticks, all under SAY_AFTER
    bar.close(12)
    assert "rows to the graph" not in capsys.readouterr().err


def test_the_count_follows_file_positions_in_steps_and_ends_at_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    bar = JobProgress("residents", enabled=True)
    bar.at(100)  # under a step: not redrawn yet
    assert bar._bar.n == 0
    bar.at(progress.STEP + 3)  # rows between taken-in ones (empty rows the reader skipped) count too
    assert bar._bar.n == progress.STEP + 3
    bar.close(1_000)
    assert bar._bar.n == 1_000
    assert "1000 rows" in capsys.readouterr().err


def test_closing_stops_the_ticker_and_a_disabled_bar_runs_none() -> None:
    before = threading.active_count()
    bar = JobProgress("residents", enabled=True)
    assert threading.active_count() == before + 1
    bar.close(0)
    assert threading.active_count() == before
    quiet = JobProgress("residents", enabled=False)
    assert threading.active_count() == before
    with quiet.doing("writing 1 row to the graph"):
        quiet.at(10_000)
    quiet.close(10_000)


def test_a_job_that_counts_what_it_finishes_advances_and_closes_where_it_stands(
    capsys: pytest.CaptureFixture[str]
) -> None:
    bar = JobProgress("documents", enabled=True, unit=" files")
    bar.advance(3)
    bar.advance()
    bar.close()
    assert bar._bar.n == 4
    assert "4 files" in capsys.readouterr().err


def test_phases_are_named_at_once_counted_as_they_end_and_the_total_can_come_later(
    capsys: pytest.CaptureFixture[str]
) -> None:
    bar = JobProgress("generate", enabled=True, unit=" steps")
    bar.phase("making 300 residents")
    assert bar._bar.n == 0 and bar._bar.postfix == "making 300 residents"  # named before it has lasted
    bar.phase("writing residents.csv (300 rows)")
    assert bar._bar.n == 1 and bar._bar.postfix == "writing residents.csv (300 rows)"
    bar.expect(3)
    bar.phase(None)
    assert bar._bar.n == 2 and bar._bar.postfix == ""
    bar.close()
    assert "2/3" in capsys.readouterr().err
