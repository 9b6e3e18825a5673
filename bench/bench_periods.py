"""Measure TimePeriod.contains() calls per second and next_transition() latency.

Run: ``.venv/bin/python bench/bench_periods.py`` (one process, one core). The period is a
work-hours period: monday..friday 09:00-17:00 in Europe/Berlin, excluding 10 holidays.
Targets: contains >= 100,000 calls/s; next_transition median <= 100 us.
"""

from __future__ import annotations

import platform
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from director_jobs.periods import TimePeriod
from director_jobs.periods.period import clear_caches

ROUNDS = 5
CONTAINS_CALLS = 200_000
TRANSITION_CALLS = 1_000
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
HOLIDAYS = (
    "2026-01-01",
    "2026-04-03",
    "2026-04-06",
    "2026-05-01",
    "2026-05-14",
    "2026-05-25",
    "2026-10-03",
    "2026-12-24",
    "2026-12-25",
    "2026-12-31",
)


def work_hours() -> TimePeriod:
    """The benchmarked period."""
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday")
    holidays = TimePeriod(
        {day: "00:00-24:00" for day in HOLIDAYS}, timezone="Europe/Berlin", name="holidays"
    )
    return TimePeriod(
        {day: "09:00-17:00" for day in weekdays},
        excludes=[holidays],
        timezone="Europe/Berlin",
        name="work-hours",
    )


def random_instants(count: int, seed: int) -> list[datetime]:
    """Instants spread uniformly over 2026, to the microsecond."""
    rng = random.Random(seed)
    year = 365 * 24 * 3600 * 10**6
    return [YEAR_START + timedelta(microseconds=rng.randrange(year)) for _ in range(count)]


def bench_contains(period: TimePeriod) -> tuple[float, float]:
    """Median and best calls/s over ROUNDS rounds (the first round also fills the caches)."""
    rates = []
    for round_number in range(ROUNDS):
        instants = random_instants(CONTAINS_CALLS, seed=round_number)
        contains = period.contains
        started = time.perf_counter()
        for instant in instants:
            contains(instant)
        rates.append(CONTAINS_CALLS / (time.perf_counter() - started))
    return statistics.median(rates), max(rates)


def bench_next_transition(period: TimePeriod, cold: bool) -> tuple[float, float, float]:
    """Median, 95th percentile and maximum microseconds per call over TRANSITION_CALLS calls.

    ``cold`` clears the caches before every call, so each call evaluates its days afresh.
    """
    timings = []
    for instant in random_instants(TRANSITION_CALLS, seed=99):
        if cold:
            clear_caches()
        started = time.perf_counter()
        period.next_transition(instant)
        timings.append((time.perf_counter() - started) * 1e6)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)], timings[-1]


def bench_always_active() -> float:
    """Milliseconds for next_transition of an always-active period (scans the whole horizon)."""
    always = TimePeriod({"day 1 - 31": "00:00-24:00"}, timezone="Europe/Berlin")
    started = time.perf_counter()
    assert always.next_transition(YEAR_START) is None
    return (time.perf_counter() - started) * 1e3


def main() -> None:
    """Print the results as a table."""
    period = work_hours()
    median_rate, best_rate = bench_contains(period)
    median_us, p95_us, max_us = bench_next_transition(period, cold=False)
    cold_median_us, cold_p95_us, _ = bench_next_transition(period, cold=True)
    clear_caches()
    always_ms = bench_always_active()
    rows = [
        ("contains() calls/s, median of 5 rounds", f"{median_rate:,.0f}", ">= 100,000"),
        ("contains() calls/s, best round", f"{best_rate:,.0f}", ""),
        ("next_transition() median us (1,000 calls)", f"{median_us:.1f}", "<= 100"),
        ("next_transition() p95 us", f"{p95_us:.1f}", ""),
        ("next_transition() max us", f"{max_us:.1f}", ""),
        ("next_transition() median us, caches cleared", f"{cold_median_us:.1f}", ""),
        ("next_transition() p95 us, caches cleared", f"{cold_p95_us:.1f}", ""),
        ("next_transition() always active (None), ms", f"{always_ms:.1f}", ""),
    ]
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    width = max(len(row[0]) for row in rows)
    print(f"{'measure':<{width}}  {'value':>12}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>12}  {target}")


if __name__ == "__main__":
    main()
