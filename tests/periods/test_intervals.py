"""Interval sets as flat tuples."""

from __future__ import annotations

import pytest

from director_jobs.periods.intervals import clip, contains, from_pairs, subtract, union


@pytest.mark.parametrize(
    ("pairs", "flat"),
    [
        ([], ()),
        ([(5, 5), (7, 6)], ()),
        ([(10, 20), (0, 5)], (0, 5, 10, 20)),
        ([(0, 5), (5, 10)], (0, 10)),
        ([(0, 10), (2, 3), (9, 15)], (0, 15)),
    ],
)
def test_from_pairs_merges(pairs: list[tuple[int, int]], flat: tuple[int, ...]) -> None:
    assert from_pairs(pairs) == flat


def test_union_subtract_clip() -> None:
    a = (0, 10, 20, 30)
    b = (5, 25)
    assert union(a, b) == (0, 30)
    assert union(a) == a
    assert union() == ()
    assert subtract(a, b) == (0, 5, 25, 30)
    assert subtract(a, (10, 20)) == a  # touching edges only
    assert subtract(a, (0, 30)) == ()
    assert subtract(a, (2, 3, 4, 6, 21, 22)) == (0, 2, 3, 4, 6, 10, 20, 21, 22, 30)
    assert clip(a, 5, 25) == (5, 10, 20, 25)
    assert clip(a, 10, 20) == ()


@pytest.mark.parametrize(("point", "inside"), [(-1, False), (0, True), (9, True), (10, False)])
def test_contains_half_open(point: int, inside: bool) -> None:
    assert contains((0, 10), point) is inside
