"""A job's progress bar (``ingest/progress.py``): the count follows the rows taken in, and a step that stands the
count still is named once it has lasted, with its seconds, until it ends."""

from __future__ import annotations

import threading
import time

import pytest

from talentgraph.ingest import progress
from talentgraph.ingest.progress import JobProgress


def _wait_for(cond: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_a_step_that_lasts_is_named_with_its_seconds_and_cleared_when_it_ends(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress, "SAY_AFTER", 0.05)
    monkeypatch.setattr(progress, "TICK", 0.01)
    bar = JobProgress("residents", enabled=True)
    with bar.doing("writing 100,000 rows to the graph"):
        assert _wait_for(lambda: "writing 100,000 rows to the graph, 0 s" in capsys.readouterr().err)
    assert bar._bar.postfix == ""  # the step is over: the bar no longer claims it
    bar.close(300)
    err = capsys.readouterr().err
    assert "300 rows" in err


def test_a_quick_step_is_never_shown(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(progress, "SAY_AFTER", 30.0)
    monkeypatch.setattr(progress, "TICK", 0.01)
    bar = JobProgress("areas", enabled=True)
    with bar.doing("writing 12 rows to the graph"):
        time.sleep(0.1)  # ten ticks, all under SAY_AFTER
    bar.close(12)
    assert "rows to the graph" not in capsys.readouterr().err


def test_a_nested_step_gives_way_to_the_one_around_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress, "SAY_AFTER", 0.02)
    monkeypatch.setattr(progress, "TICK", 0.01)
    bar = JobProgress("residents", enabled=True)
    with bar.doing("ending what the file no longer lists"):
        with bar.doing("writing 5 rows to the graph"):
            assert _wait_for(lambda: "writing 5 rows" in capsys.readouterr().err)
        assert _wait_for(lambda: "ending what the file no longer lists" in capsys.readouterr().err)
    bar.close(5)


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
