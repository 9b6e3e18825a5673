"""The two small SVG drawings of the pages, as geometry for the templates to draw.

Templates write the SVG elements (so every text in them is escaped); this module only
computes where the bars and the open hours go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from director_jobs.model import Run
from director_jobs.web import words

# The run chart's drawing area, in SVG units (the SVG scales to the page's width).
CHART_WIDTH = 1000
CHART_HEIGHT = 120
# A bar never gets shorter than this: a 0.01 s run stays visible.
MIN_BAR_HEIGHT = 2
# Room for this many runs, whatever the count: a bar is always as wide, and a young job's
# few runs sit at the right (newest) end instead of filling the chart.
CHART_SLOTS = 100
# The week strip: a label column, then 24 hours; one row per day.
STRIP_LABEL = 90
STRIP_HOURS_WIDTH = 960  # 40 units an hour
STRIP_ROW = 22


@dataclass(frozen=True)
class Bar:
    """One run in the chart: its box, its status colour and its tooltip."""

    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    run_id: int


@dataclass(frozen=True)
class RunChart:
    """Bars oldest to newest (left to right), and the duration the top line stands for."""

    bars: list[Bar]
    top: float  # seconds

    @property
    def top_label(self) -> str:
        """The longest duration, as the axis says it."""
        return words.duration_words(self.top)


def run_chart(runs: list[Run]) -> RunChart:
    """Duration per run, the newest `runs` given newest first (as the history reads)."""
    ended = [run for run in reversed(runs) if run.duration is not None]
    top = max((run.duration or 0.0 for run in ended), default=0.0) or 1.0
    slot = CHART_WIDTH / max(len(ended), CHART_SLOTS)
    first = CHART_WIDTH - slot * len(ended)  # x of the oldest bar
    width = max(slot * 0.8, 1.0)
    bars = []
    for index, run in enumerate(ended):
        seconds = run.duration or 0.0
        height = max(CHART_HEIGHT * seconds / top, MIN_BAR_HEIGHT)
        started = run.started_at.isoformat(sep=" ", timespec="seconds") if run.started_at else "?"
        title = f"#{run.id} {run.status.value}, {words.duration_words(seconds)}, {started} UTC"
        bars.append(
            Bar(
                x=round(first + index * slot, 2),
                y=round(CHART_HEIGHT - height, 2),
                width=round(width, 2),
                height=round(height, 2),
                css=words.status_class(run.status),
                title=title,
                run_id=run.id,
            )
        )
    return RunChart(bars, top)


@dataclass(frozen=True)
class OpenSpan:
    """Part of a day the period is open, as x and width in the strip."""

    x: float
    width: float
    title: str


@dataclass(frozen=True)
class Day:
    """One row of the week strip."""

    label: str
    y: float
    spans: list[OpenSpan]


def week_strip(
    windows: list[tuple[datetime, datetime]], first_day: date, days: int, tz: ZoneInfo
) -> list[Day]:
    """The open windows drawn day by day (local days of `tz`), `days` rows from `first_day`."""
    rows = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        start = datetime.combine(day, time(), tz)
        end = datetime.combine(day + timedelta(days=1), time(), tz)
        length = (end - start).total_seconds()  # 23 or 25 hours on a DST change
        spans = []
        for opened, closed in windows:
            left, right = max(opened, start), min(closed, end)
            if left >= right:
                continue
            x = STRIP_LABEL + STRIP_HOURS_WIDTH * (left - start).total_seconds() / length
            width = STRIP_HOURS_WIDTH * (right - left).total_seconds() / length
            shown = f"{left.astimezone(tz):%H:%M}–{_end_label(right.astimezone(tz), end)}"
            spans.append(OpenSpan(round(x, 2), round(max(width, 1.0), 2), shown))
        rows.append(Day(f"{day:%a %d %b}", offset * STRIP_ROW, spans))
    return rows


def _end_label(right: datetime, day_end: datetime) -> str:
    """An open span's end: '24:00' when it runs to midnight."""
    return "24:00" if right >= day_end else f"{right:%H:%M}"
