"""``feed.areas.protect``: primary and complementary suppression, checked against brute force."""

from __future__ import annotations

import itertools
import random

import pytest

from talentgraph.feed.areas import Cell, Group, Status, protect

K = 5


def test_small_counts_are_hidden_and_zero_is_not() -> None:
    status = protect({"a": Cell(0), "b": Cell(1), "c": Cell(4), "d": Cell(5)}, [], K)
    assert status == {"a": Status.SHOWN, "b": Status.PRIMARY, "c": Status.PRIMARY, "d": Status.SHOWN}


def test_exact_cells_are_never_hidden() -> None:
    assert protect({"a": Cell(2, suppressible=False)}, [], K) == {"a": Status.SHOWN}


def test_a_lone_small_part_of_a_shown_total_takes_the_smallest_other_part_with_it() -> None:
    cells = {"t": Cell(30), "a": Cell(2), "b": Cell(8), "c": Cell(20)}
    status = protect(cells, [Group("t", ("a", "b", "c"))], K)
    assert status == {"t": Status.SHOWN, "a": Status.PRIMARY, "b": Status.SECONDARY, "c": Status.SHOWN}


def test_a_small_rest_hides_the_shown_part() -> None:
    # 7 residents, 6 volunteers: the one who does not volunteer would follow by subtraction.
    cells = {"t": Cell(7), "v": Cell(6), "rest": Cell(1, published=False)}
    assert protect(cells, [Group("t", ("v", "rest"))], K)["v"] is Status.SECONDARY


def test_when_no_part_can_protect_the_total_goes() -> None:
    cells = {"t": Cell(6), "us": Cell(5), "fr": Cell(1)}
    status = protect(cells, [Group("t", ("us", "fr"))], K)
    assert status["t"] is Status.SECONDARY and status["fr"] is Status.PRIMARY


def _pinned(total: int, parts: list[int], status: dict[str, Status], keys: list[str]) -> bool:
    """Brute force: does some hidden small part take only one value given what is published?"""
    rest = total - sum(v for key, v in zip(keys, parts) if status[key] is Status.SHOWN)
    hidden = [key for key in keys if status[key] is not Status.SHOWN]
    ranges = [range(1, K) if status[key] is Status.PRIMARY else range(K, max(K, rest) + 1) for key in hidden]
    options = [c for c in itertools.product(*ranges) if sum(c) == rest]
    return any(status[key] is Status.PRIMARY and len({o[i] for o in options}) < 2 for i, key in enumerate(hidden))


@pytest.mark.parametrize("seed", range(200))
def test_no_small_part_follows_from_a_shown_total(seed: int) -> None:
    rng = random.Random(seed)
    values = [rng.choice([0, 1, 2, 3, 4, 5, 6, 9, 15]) for _ in range(rng.randint(1, 5))]
    keys = [f"p{i}" for i in range(len(values))]
    cells = {"t": Cell(sum(values)), **{k: Cell(v) for k, v in zip(keys, values)}}
    status = protect(cells, [Group("t", tuple(keys))], K)
    if status["t"] is Status.SHOWN:
        assert not _pinned(sum(values), values, status, keys), (values, status)
    assert all(status[k] is not Status.SHOWN or not 0 < v < K for k, v in zip(keys, values))
