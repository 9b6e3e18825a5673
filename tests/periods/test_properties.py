"""Property tests: contains, windows and next_transition agree with each other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from director_jobs.periods import TimePeriod

ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST change
    "America/Santiago",  # DST changes at midnight
    "Asia/Kolkata",  # +05:30, no DST
    "Pacific/Chatham",  # +12:45 / +13:45
)
KEYS = (
    "monday",
    "saturday",
    "sunday",
    "day 1",
    "day -1",
    "day 29",
    "day 31",
    "february 29",
    "march -1",
    "october 25",
    "monday 1",
    "sunday -1",
    "sunday -1 march",
    "sunday -1 october",
    "thursday 5",
    "2026-03-29",
    "2026-10-25",
    "2026-11-01",
    "day 1 - 7",
    "day 25 - 5",
    "day -3 - -1",
    "monday - friday",
    "friday - monday",
    "november 15 - february 15",
    "march 20 - april 5 / 3",
    "monday 1 - thursday 3",
    "2026-03-01 - 2026-04-30 / 2",
    "day 1 - 31 / 3",
    "2025-12-24 - 2026-01-06",
)
VALUES = (
    "",
    "00:00-24:00",
    "09:00-17:00",
    "09:00-12:00,13:00-17:00",
    "22:00-06:00",
    "01:30-03:30",
    "02:00-03:00",
    "02:30-02:45:30",
    "23:00-01:00",
    "12:00-12:00",
    "00:00-00:00",
    "00:15-00:45,23:45-24:00",
)
START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2028, 12, 31, tzinfo=UTC)
MICRO = timedelta(microseconds=1)


def leaf_periods() -> st.SearchStrategy[TimePeriod]:
    """A period with a few random keys and values and no references."""
    return st.builds(
        lambda ranges, zone: TimePeriod(ranges, timezone=zone),
        st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=4),
        st.sampled_from(ZONES),
    )


def periods() -> st.SearchStrategy[TimePeriod]:
    """A leaf period, or one with up to two includes and two excludes."""
    return st.one_of(
        leaf_periods(),
        st.builds(
            lambda leaf, includes, excludes, prefer: TimePeriod(
                leaf.ranges,
                includes=includes,
                excludes=excludes,
                prefer_includes=prefer,
                timezone=leaf.timezone,
            ),
            leaf_periods(),
            st.lists(leaf_periods(), max_size=2),
            st.lists(leaf_periods(), max_size=2),
            st.booleans(),
        ),
    )


def instants() -> st.SearchStrategy[datetime]:
    """Aware instants in 2024-2028 in assorted zones, to the microsecond."""
    return st.builds(
        lambda offset, zone: (START + timedelta(microseconds=offset)).astimezone(ZoneInfo(zone)),
        st.integers(0, int((END - START) / MICRO)),
        st.sampled_from(ZONES),
    )


def inside(windows: list[tuple[datetime, datetime]], instant: datetime) -> bool:
    return any(begin <= instant < end for begin, end in windows)


@settings(max_examples=300, deadline=None)
@given(periods(), instants())
def test_contains_agrees_with_windows(period: TimePeriod, instant: datetime) -> None:
    windows = list(period.windows(instant - timedelta(days=2), instant + timedelta(days=2)))
    assert period.contains(instant) is inside(windows, instant)


@settings(max_examples=200, deadline=None)
@given(periods(), instants(), st.integers(1, 10 * 24 * 3600))
def test_windows_are_merged_sorted_and_clipped(
    period: TimePeriod, start: datetime, seconds: int
) -> None:
    end = start + timedelta(seconds=seconds)
    windows = list(period.windows(start, end))
    for begin, stop in windows:
        assert begin.tzinfo is UTC and stop.tzinfo is UTC
        assert start <= begin < stop <= end
    for (_, first_end), (second_begin, _) in pairwise(windows):
        assert first_end < second_begin  # touching windows would have been merged
    # splitting the interval anywhere changes nothing once the halves are joined
    middle = start + (end - start) / 3
    halves = list(period.windows(start, middle)) + list(period.windows(middle, end))
    joined: list[tuple[datetime, datetime]] = []
    for begin, stop in halves:
        if joined and joined[-1][1] == begin:
            joined[-1] = (joined[-1][0], stop)
        else:
            joined.append((begin, stop))
    assert joined == windows


@settings(max_examples=300, deadline=None)
@given(periods(), instants(), st.lists(st.floats(0, 1, exclude_max=True), max_size=8))
def test_next_transition_is_the_next_change(
    period: TimePeriod, instant: datetime, fractions: list[float]
) -> None:
    state = period.contains(instant)
    found = period.next_transition(instant)
    if found is None:
        horizon = instant + timedelta(days=5 * 365)
        expected = [(instant, horizon)] if state else []
        assert list(period.windows(instant, horizon)) == expected
        return
    assert found.tzinfo is UTC
    assert found > instant
    assert period.contains(found) is not state
    assert period.contains(found - MICRO) is state
    # nothing changes in between: one whole window, or none
    assert list(period.windows(instant, found)) == ([(instant, found)] if state else [])
    for fraction in fractions:
        # timedelta * float rounds to whole microseconds: stay below ``found``
        between = min(instant + (found - instant) * fraction, found - MICRO)
        assert period.contains(between) is state
