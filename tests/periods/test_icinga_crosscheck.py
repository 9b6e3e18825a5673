"""Cross-check our windows against the segments the real icinga2 binary computes.

How: ``icinga2 console -r SCRIPT`` with ``TZ=<zone>`` (see PLATFORM.md section 7). The script
borrows the built-in LegacyTimePeriod function from a throw-away TimePeriod, creates the periods
with an ``update`` that evaluates a fixed window of local days, and prints the main period's
segments, which include/exclude handling has already been applied to.

Debian ships icinga2 2.13.6, which has bugs that 2.15 fixed; every compared region avoids them
(each case says how):

* a day definition other than a plain weekday also matches the day after it ends, so a region
  never holds the day after such a match (plain weekday keys are safe);
* ``<weekday> -N`` is a week late when the next month starts on that weekday.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from director_jobs.periods import TimePeriod

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
MARKER = "SEGMENTS "
TIMEOUT_SECONDS = 30


def _find_icinga2() -> str | None:
    found = shutil.which("icinga2")
    if found is None and Path("/usr/sbin/icinga2").exists():
        found = "/usr/sbin/icinga2"
    return found


@pytest.fixture(scope="module")
def icinga2() -> str:
    """Path of the icinga2 binary; missing fails on CI and skips elsewhere."""
    found = _find_icinga2()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("icinga2 not installed: apt-get install icinga2")
        pytest.skip("icinga2 not installed: apt-get install icinga2")
    return found


@dataclass(frozen=True)
class Period:
    """One period, written the same way for icinga2 and for us."""

    ranges: Mapping[str, str]
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    prefer_includes: bool = True


@dataclass(frozen=True)
class Case:
    """Periods (references first, the compared one last) and the local days compared."""

    name: str
    zone: str
    periods: Mapping[str, Period]
    regions: tuple[tuple[date, date], ...]  # first and last local day, inclusive
    why_safe: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


def _icinga_string(text: str) -> str:
    return json.dumps(text)  # Icinga 2 string literals accept JSON escapes


def _script(case: Case, begin: int, end: int) -> str:
    """An icinga2 console script that prints the last period's segments."""
    lines = [
        'Internal.run_with_activation_context(function() { object TimePeriod "probe" { } })',
        'globals.LTP = get_object(TimePeriod, "probe").update',
    ]
    for name, period in case.periods.items():
        ranges = ", ".join(
            f"{_icinga_string(key)} = {_icinga_string(value)}"
            for key, value in period.ranges.items()
        )
        lines += [
            "Internal.run_with_activation_context(function() {",
            f"  object TimePeriod {_icinga_string(name)} {{",
            f"    ranges = {{ {ranges} }}",
            f"    includes = {json.dumps(list(period.includes))}",
            f"    excludes = {json.dumps(list(period.excludes))}",
            f"    prefer_includes = {'true' if period.prefer_includes else 'false'}",
            f"    update = function(tp, begin, end) {{ return LTP(tp, {begin}, {end}) }}",
            "  }",
            "})",
        ]
    main = _icinga_string(list(case.periods)[-1])
    lines.append(f'log("{MARKER}" + Json.encode(get_object(TimePeriod, {main}).segments))')
    return "\n".join(lines) + "\n"


def _merge(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(pairs):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _clip(pairs: list[tuple[int, int]], low: int, high: int) -> list[tuple[int, int]]:
    clipped = [(max(begin, low), min(end, high)) for begin, end in pairs]
    return [(begin, end) for begin, end in clipped if begin < end]


def icinga_segments(binary: str, case: Case, tmp_path: Path) -> list[tuple[int, int]]:
    """Merged segments of the case's last period, evaluated by icinga2 for local days
    from two days before the first region to one day after the last."""
    zone = ZoneInfo(case.zone)
    first = min(region[0] for region in case.regions) - timedelta(days=2)
    last = max(region[1] for region in case.regions) + timedelta(days=1)
    # icinga2 evaluates the days of begin, begin + 24 h, ... up to end: start at local noon so
    # that a DST change in between still leaves each reference time on its own day.
    begin = int(datetime.combine(first, time(12), tzinfo=zone).timestamp())
    end = begin + (last - first).days * 86400
    script = tmp_path / f"{case.name}.icinga"
    script.write_text(_script(case, begin, end))
    result = subprocess.run(
        [binary, "console", "-r", str(script)],
        env={**os.environ, "TZ": case.zone},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    for line in result.stdout.splitlines():
        if MARKER in line:
            segments = json.loads(line.split(MARKER, 1)[1])
            return _merge([(int(s["begin"]), int(s["end"])) for s in segments])
    raise AssertionError(f"icinga2 printed no segments:\n{result.stdout}\n{result.stderr}")


def our_periods(case: Case) -> dict[str, TimePeriod]:
    """The case's periods built with director-jobs."""
    built: dict[str, TimePeriod] = {}
    for name, period in case.periods.items():
        built[name] = TimePeriod(
            period.ranges,
            includes=[built[ref] for ref in period.includes],
            excludes=[built[ref] for ref in period.excludes],
            prefer_includes=period.prefer_includes,
            timezone=case.zone,
            name=name,
        )
    return built


def region_bounds(case: Case, region: tuple[date, date]) -> tuple[datetime, datetime]:
    """Local midnight starting the first day and local midnight ending the last day."""
    zone = ZoneInfo(case.zone)
    start = datetime.combine(region[0], time(), tzinfo=zone)
    end = datetime.combine(region[1] + timedelta(days=1), time(), tzinfo=zone)
    return start, end


def our_segments(period: TimePeriod, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """Our windows as epoch-second pairs."""
    return [(int(b.timestamp()), int(e.timestamp())) for b, e in period.windows(start, end)]


def readable(pairs: list[tuple[int, int]], zone: str) -> list[str]:
    """Pairs as local times, for assertion messages."""
    tz = ZoneInfo(zone)
    return [
        f"{datetime.fromtimestamp(b, tz):%a %m-%d %H:%M:%S%z} - "
        f"{datetime.fromtimestamp(e, tz):%a %m-%d %H:%M:%S%z}"
        for b, e in pairs
    ]


def weekdays(value: str) -> dict[str, str]:
    return dict.fromkeys(WEEKDAYS, value)


D = date
CASES = [
    Case(
        "weekday-keys",
        "Europe/Berlin",
        {"main": Period({**weekdays("09:00-17:00"), "saturday": "10:00-12:00,14:00-16:30:30"})},
        ((D(2026, 1, 3), D(2026, 1, 11)),),
        "plain weekdays only",
    ),
    Case(
        "overnight",
        "Europe/Berlin",
        {
            "main": Period(
                {
                    "friday": "22:00-06:00",
                    "sunday": "23:30-00:30",
                    "tuesday": "18:00-24:00",
                    "wednesday": "00:00-02:00,9:5-9:7",
                    "thursday": "12:00-12:00",
                }
            )
        },
        ((D(2026, 1, 4), D(2026, 1, 12)),),
        "plain weekdays only",
    ),
    Case(
        "month-end",
        "Europe/Berlin",
        {
            "main": Period(
                {"day -1": "20:00-04:00", "day 1": "08:00-09:00", "day -3": "12:00-13:00"}
            )
        },
        ((D(2026, 1, 27), D(2026, 1, 29)), (D(2026, 1, 31), D(2026, 2, 1))),
        "the days after day -3 and day 1 would match too; day -1 resolves in the next month "
        "on the 1st",
    ),
    Case(
        "leap-february",
        "Europe/Berlin",
        {
            "main": Period(
                {"day -1": "20:00-04:00", "day -3": "12:00-13:00", "february -1": "15:00-16:00"}
            )
        },
        ((D(2024, 2, 25), D(2024, 2, 27)), (D(2024, 2, 29), D(2024, 2, 29))),
        "the days after day -3 (Feb 28) and after february -1 (March 1) would match too",
    ),
    Case(
        "nth-weekday-of-may",
        "Europe/Berlin",
        {"main": Period({"tuesday 2 may": "08:00-12:00"})},
        ((D(2026, 5, 4), D(2026, 5, 12)),),
        "May 13 would match too",
    ),
    Case(
        "nth-weekday-monthly",
        "Europe/Berlin",
        {"main": Period({"thursday 2": "13:00-14:00", "monday -1": "06:00-07:00"})},
        ((D(2026, 1, 4), D(2026, 1, 8)), (D(2026, 1, 20), D(2026, 1, 26))),
        "days after Jan 8 and Jan 26 would match; February 1 2026 is a Sunday, not a Monday",
    ),
    Case(
        "date-range-stride",
        "Europe/Berlin",
        {
            "main": Period(
                {"2026-01-05 - 2026-01-25 / 3": "10:00-11:00", "day 10 - 14": "07:00-08:00"}
            )
        },
        ((D(2026, 1, 3), D(2026, 1, 14)), (D(2026, 1, 16), D(2026, 1, 25))),
        "Jan 15 (after day 14) and Jan 26 (21 days after the start) would match too",
    ),
    Case(
        "excludes",
        "Europe/Berlin",
        {
            "lunch": Period(weekdays("12:00-13:00")),
            "holiday": Period({"2026-01-06": "00:00-24:00"}),
            "main": Period(weekdays("08:00-18:00"), excludes=("lunch", "holiday")),
        },
        ((D(2026, 1, 3), D(2026, 1, 6)), (D(2026, 1, 8), D(2026, 1, 11))),
        "Jan 7 would be excluded too",
    ),
    Case(
        "includes-prefer-excludes",
        "Europe/Berlin",
        {
            "on-call": Period({"monday": "18:00-20:00", "wednesday": "11:00-14:00"}),
            "lunch": Period(weekdays("12:00-13:00")),
            "main": Period(
                weekdays("08:00-17:00"),
                includes=("on-call",),
                excludes=("lunch",),
                prefer_includes=False,
            ),
        },
        ((D(2026, 1, 4), D(2026, 1, 10)),),
        "plain weekdays only",
    ),
    Case(
        "includes-prefer-includes",
        "Europe/Berlin",
        {
            "on-call": Period({"monday": "18:00-20:00", "wednesday": "11:00-14:00"}),
            "lunch": Period(weekdays("12:00-13:00")),
            "main": Period(weekdays("08:00-17:00"), includes=("on-call",), excludes=("lunch",)),
        },
        ((D(2026, 1, 4), D(2026, 1, 10)),),
        "plain weekdays only",
    ),
    Case(
        "berlin-spring-forward",
        "Europe/Berlin",
        {
            "main": Period(
                {
                    "friday": "00:00-24:00",
                    "saturday": "22:00-03:00",
                    "sunday": "01:00-02:30,03:00-04:00,02:15-02:45,10:00-11:00",
                    "monday": "00:00-24:00",
                }
            )
        },
        ((D(2026, 3, 26), D(2026, 3, 31)),),
        "plain weekdays only",
    ),
    Case(
        "berlin-fall-back",
        "Europe/Berlin",
        {
            "main": Period(
                {
                    "saturday": "23:00-02:30",
                    "sunday": "02:30-03:30,05:00-06:00",
                    "monday": "00:00-24:00",
                }
            )
        },
        ((D(2026, 10, 23), D(2026, 10, 27)),),
        "plain weekdays only",
    ),
    Case(
        "every-day-across-dst",
        "Europe/Berlin",
        {
            "main": Period(
                {**weekdays("00:00-24:00"), "saturday": "00:00-24:00", "sunday": "00:00-24:00"}
            )
        },
        ((D(2026, 3, 26), D(2026, 4, 1)), (D(2026, 10, 22), D(2026, 10, 28))),
        "plain weekdays only",
    ),
    Case(
        "new-york-spring-forward",
        "America/New_York",
        {"main": Period({"saturday": "23:00-02:30", "sunday": "02:30-04:00"})},
        ((D(2026, 3, 6), D(2026, 3, 10)),),
        "plain weekdays only",
    ),
    Case(
        "new-york-fall-back",
        "America/New_York",
        {"main": Period({"saturday": "22:00-01:30", "sunday": "01:30-03:00"})},
        ((D(2026, 10, 30), D(2026, 11, 3)),),
        "plain weekdays only",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_windows_match_icinga2(icinga2: str, case: Case, tmp_path: Path) -> None:
    icinga = icinga_segments(icinga2, case, tmp_path)
    main = our_periods(case)[list(case.periods)[-1]]
    for region in case.regions:
        start, end = region_bounds(case, region)
        low, high = int(start.timestamp()), int(end.timestamp())
        theirs = _clip(icinga, low, high)
        ours = our_segments(main, start, end)
        assert readable(ours, case.zone) == readable(theirs, case.zone), case.why_safe
        assert ours, "a region without any window checks nothing"


# Keys where Icinga 2 (2.13 and, by the same code, 2.15+) is degenerate and we are not: the
# binary must behave as our warnings say. (key, what icinga2 matches instead, local days)
DIFFERENCES = [
    ("monday - friday", {"monday": "10:00-11:00"}, (D(2026, 1, 4), D(2026, 1, 11))),
    ("friday - monday", {"friday": "10:00-11:00"}, (D(2026, 1, 4), D(2026, 1, 11))),
    ("day 25 - 5", {}, (D(2026, 1, 20), D(2026, 2, 8))),
    ("december 28 - january 3", {}, (D(2026, 12, 24), D(2027, 1, 6))),
]


@pytest.mark.parametrize(
    ("key", "icinga_ranges", "region"), DIFFERENCES, ids=[d[0] for d in DIFFERENCES]
)
def test_documented_differences(
    icinga2: str,
    key: str,
    icinga_ranges: Mapping[str, str],
    region: tuple[date, date],
    tmp_path: Path,
) -> None:
    case = Case("difference", "Europe/Berlin", {"main": Period({key: "10:00-11:00"})}, (region,))
    start, end = region_bounds(case, region)
    low, high = int(start.timestamp()), int(end.timestamp())
    theirs = _clip(icinga_segments(icinga2, case, tmp_path), low, high)
    expected = TimePeriod(icinga_ranges, timezone="Europe/Berlin")
    assert theirs == our_segments(expected, start, end)
    ours = TimePeriod({key: "10:00-11:00"}, timezone="Europe/Berlin")
    assert our_segments(ours, start, end) != theirs
    assert ours.warnings(), "a difference from Icinga 2 must be warned about"
