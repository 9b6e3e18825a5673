"""Sets of half-open intervals as flat sorted tuples ``(b0, e0, b1, e1, ...)`` of epoch seconds.

Intervals in such a tuple are disjoint and never touch (touching ones are merged), so a point
``t`` is inside exactly when ``bisect_right(flat, t)`` is odd.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

__all__ = ["EMPTY", "clip", "contains", "from_pairs", "subtract", "union"]

Flat = tuple[int, ...]
EMPTY: Flat = ()


def from_pairs(pairs: Iterable[tuple[int, int]]) -> Flat:
    """Merge ``(begin, end)`` pairs into a flat tuple; empty pairs (begin >= end) are dropped."""
    merged: list[int] = []
    for begin, end in sorted(pair for pair in pairs if pair[0] < pair[1]):
        if merged and begin <= merged[-1]:
            merged[-1] = max(merged[-1], end)
        else:
            merged += (begin, end)
    return tuple(merged)


def _pairs(flat: Flat) -> Iterable[tuple[int, int]]:
    return zip(flat[::2], flat[1::2], strict=True)


def union(*sets: Flat) -> Flat:
    """Every point in any of ``sets``."""
    non_empty = [flat for flat in sets if flat]
    if len(non_empty) <= 1:
        return non_empty[0] if non_empty else EMPTY
    return from_pairs(pair for flat in non_empty for pair in _pairs(flat))


def subtract(flat: Flat, removed: Flat) -> Flat:
    """Points of ``flat`` that are not in ``removed``."""
    if not flat or not removed:
        return flat
    result: list[tuple[int, int]] = []
    cuts = list(_pairs(removed))
    for begin, end in _pairs(flat):
        for cut_begin, cut_end in cuts:
            if cut_end <= begin or cut_begin >= end:
                continue  # touching only at an edge leaves the interval as it is
            if cut_begin > begin:
                result.append((begin, cut_begin))
            begin = max(begin, cut_end)
            if begin >= end:
                break
        if begin < end:
            result.append((begin, end))
    return from_pairs(result)


def clip(flat: Flat, low: int, high: int) -> Flat:
    """The part of ``flat`` inside ``[low, high)``."""
    return from_pairs((max(begin, low), min(end, high)) for begin, end in _pairs(flat))


def contains(flat: Flat, point: int) -> bool:
    """Whether ``point`` lies in one of the intervals."""
    return bisect_right(flat, point) % 2 == 1
