"""Progress check-ins of a running job (Harbor's Checkin): one line protocol for all types.

A job reports progress by putting a line into its output:

    ::progress 40% copying /var/backups
    ::progress 12000 rows read

Python job types call `context.progress(message, fraction)`, which writes such a line;
a `command` job prints it on stdout or stderr. The runner keeps the newest one on the run
(`runs.progress`), where `jobs show`, `status`, the API, the web page and systemd's STATUS=
show it.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

PREFIX = "::progress "
# What is kept of a message: a status line, not a log.
MAX_MESSAGE = 200


@dataclass(frozen=True)
class Progress:
    """How far a run is: a message and, when the job knows it, a fraction 0-1."""

    message: str
    fraction: float | None = None

    def text(self) -> str:
        """`40% copying`, or the message alone."""
        if self.fraction is None:
            return self.message
        return f"{self.fraction * 100:.0f}% {self.message}".rstrip()


def line_of(message: str, fraction: float | None = None) -> str:
    """The output line that reports this progress."""
    percent = ""
    if fraction is not None and math.isfinite(fraction):
        percent = f"{min(max(fraction, 0.0), 1.0) * 100:.0f}% "
    return f"{PREFIX}{percent}{' '.join(message.split())}"


@functools.cache
def _percent() -> re.Pattern[str]:
    """`40% ` at the start of a message; compiled on first use, not by every cron run."""
    return re.compile(r"(\d{1,3}(?:\.\d+)?)%\s*")


def parse(line: str) -> Progress | None:
    """The progress a line reports (`::progress [NN%] message`), or None for other lines."""
    if not line.startswith(PREFIX):
        return None
    rest = line[len(PREFIX) :].strip()
    fraction = None
    percent = _percent().match(rest)
    if percent is not None and float(percent.group(1)) <= 100:
        fraction = float(percent.group(1)) / 100
        rest = rest[percent.end() :]
    message = rest if len(rest) <= MAX_MESSAGE else rest[: MAX_MESSAGE - 1] + "…"
    return Progress(message, fraction)
