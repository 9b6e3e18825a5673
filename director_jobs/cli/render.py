"""Printing: aligned tables for people, JSON for scripts, times in the configured zone."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click

from director_jobs.model import Job
from director_jobs.validation import zone


def local(value: datetime | None, timezone: str) -> str:
    """A time in the display zone, e.g. `2026-11-23 20:30:00 CET`, or '-'."""
    if value is None:
        return "-"
    return value.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")


# A column is never cut below this many characters (`…` included), nor below its header.
MIN_COLUMN = 6


@dataclass(frozen=True)
class Painted:
    """A table cell shown in `colour` (a click colour name) when colour is wanted."""

    value: Any
    colour: str


def colour_wanted() -> bool:
    """True when stdout is a terminal and NO_COLOR is unset or empty (no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def paint(text: str, colour: str) -> str:
    """`text` in `colour` (a click colour name) when colour is wanted, else as it is."""
    return click.style(text, fg=colour) if colour_wanted() else text


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows as left-aligned columns, cut with … to fit the terminal's width.

    Only when stdout is a terminal (its width, or $COLUMNS) are cells cut, the widest
    column first and none below its header; in a pipe a script gets whole values.
    A `Painted` cell is coloured on a terminal.
    """
    no_colours: list[str | None] = [None] * len(headers)
    colours = [no_colours] + [
        [c.colour if isinstance(c, Painted) else None for c in r] for r in rows
    ]
    cells = [[str(c) for c in headers]] + [[_text(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    available = terminal_width()
    if available is not None:
        floors = [min(w, max(MIN_COLUMN, len(h))) for w, h in zip(widths, headers, strict=True)]
        widths = _fit(widths, floors, available - 2 * (len(widths) - 1))
    coloured = colour_wanted()
    for row, row_colours in zip(cells, colours, strict=True):
        parts = []
        for text, width, colour in zip(row, widths, row_colours, strict=True):
            shown = _cut(text, width)
            padding = " " * (width - len(shown))  # after the colour codes, which take no room
            if coloured and colour:
                shown = click.style(shown, fg=colour)
            parts.append(shown + padding)
        click.echo("  ".join(parts).rstrip())


def _text(cell: Any) -> str:
    """What a cell shows: '-' for None, a Painted cell's value."""
    value = cell.value if isinstance(cell, Painted) else cell
    return "-" if value is None else str(value)


def terminal_width() -> int | None:
    """The width of the terminal stdout is ($COLUMNS first), or None in a pipe or file."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def fit_line(text: str) -> str:
    """One line cut with … to the terminal's width; whole in a pipe."""
    available = terminal_width()
    return text if available is None else _cut(text, max(available, MIN_COLUMN))


def _fit(widths: list[int], floors: list[int], room: int) -> list[int]:
    """Narrow the widest columns, one character at a time, until they fit in `room`."""
    widths = list(widths)
    while sum(widths) > room:
        narrowable = [i for i in range(len(widths)) if widths[i] > floors[i]]
        if not narrowable:
            break  # as narrow as they go: the line wraps, but every column shows
        widest = max(narrowable, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _cut(text: str, width: int) -> str:
    """`text`, or its start and … when it is wider than `width`."""
    return text if len(text) <= width else text[: width - 1] + "…"


def print_json(value: Any) -> None:
    """Pretty JSON on stdout."""
    click.echo(json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False))


def schedule_text(job: Job) -> str:
    """`every 15m`, `cron '0 3 * * *' Europe/Berlin`, or `manual`."""
    spec = job.spec
    if spec.interval is not None:
        return f"every {duration_text(spec.interval)}"
    if spec.cron is not None:
        return f"cron {spec.cron!r}" + (f" {spec.timezone}" if spec.timezone else "")
    return "manual"


def state_text(job: Job) -> str:
    """`running on HOST:PID`, `disabled` or `enabled`."""
    if job.claimed_by:
        return "running on " + job.claimed_by
    return "disabled" if job.spec.disabled else "enabled"


def duration_text(seconds: float) -> str:
    """900 -> '15m', 5400 -> '1h30m', 1.5 -> '1.5s'."""
    if seconds < 60 or seconds != int(seconds):
        return f"{seconds:g}s"
    parts, rest = [], int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)
