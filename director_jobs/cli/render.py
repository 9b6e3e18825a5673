"""Printing: aligned tables for people, JSON for scripts, times in the configured zone."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
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


# A column is never cut below this many characters (`…` included) to fit the terminal.
MIN_COLUMN = 6


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows as left-aligned columns, cut with … to fit the terminal's width.

    The width is $COLUMNS, else the terminal's when stdout is one; in a pipe nothing is
    cut (a script gets whole values, or uses --json).
    """
    cells = [[str(c) for c in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    available = _terminal_width()
    if available is not None:
        widths = _fit(widths, available - 2 * (len(widths) - 1))
    for row in cells:
        click.echo(
            "  ".join(_cut(c, w).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        )


def _terminal_width() -> int | None:
    """$COLUMNS, or the width of the terminal stdout is, or None (not a terminal)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _fit(widths: list[int], room: int) -> list[int]:
    """Narrow the widest columns, one character at a time, until they fit in `room`."""
    widths = list(widths)
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= MIN_COLUMN:
            break  # as narrow as they go: the line wraps, but every column shows
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
