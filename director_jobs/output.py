"""A bounded, thread-safe tail of a run's output, and how a stored tail splits into lines.

The tail is stored as text: its kept lines joined by newlines, after a first line
`[… N earlier lines dropped]` once the bound made it drop some. With the count of all
lines ever appended (stored beside it), a reader that has seen the first `n` lines can
tell which kept lines are new to it and how many it missed.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from director_jobs import progress
from director_jobs.model import OUTPUT_TAIL_BYTES


class OutputTail:
    """Keeps the last `limit` bytes of appended lines, dropping whole lines from the front."""

    def __init__(
        self, limit: int = OUTPUT_TAIL_BYTES, scrub: Callable[[str], str] | None = None
    ) -> None:
        self._limit = limit
        # Known secrets (the job's own, the database password) never reach the tail.
        self.scrub: Callable[[str], str] = scrub or _unchanged
        self._lines: deque[str] = deque()
        self._size = 0
        self._dropped = 0
        self._lock = threading.Lock()
        self.progress: progress.Progress | None = None  # the newest `::progress` line's

    def append(self, text: str) -> None:
        """Add one line (without its newline); text with newlines (a traceback) adds several.

        Scrubbed whole before it is split: a secret that spans lines (a PEM key) matches.
        """
        for line in self.scrub(text).split("\n"):
            self._append_line(line)

    def _append_line(self, line: str) -> None:
        line = line[-self._limit :]
        if line.startswith(progress.PREFIX) or line.startswith("[stderr] " + progress.PREFIX):
            self.progress = progress.parse(line.removeprefix("[stderr] "))
        size = len(line.encode("utf-8", "replace")) + 1
        with self._lock:
            self._lines.append(line)
            self._size += size
            while self._size > self._limit and len(self._lines) > 1:
                dropped = self._lines.popleft()
                self._size -= len(dropped.encode("utf-8", "replace")) + 1
                self._dropped += 1

    def text(self) -> str:
        """Return the kept lines, with a note when earlier lines were dropped."""
        return self.snapshot()[0]

    def snapshot(self) -> tuple[str, int]:
        """The text and the count of all lines appended so far, taken together."""
        with self._lock:
            body = "\n".join(self._lines)
            total = self._dropped + len(self._lines)
            if self._dropped:
                return f"{_DROPPED_NOTE.format(self._dropped)}\n{body}", total
            return body, total


_DROPPED_NOTE = "[… {} earlier lines dropped]"
_DROPPED_NOTE_PATTERN = re.compile(r"\[… (\d+) earlier lines dropped\]")


@dataclass(frozen=True)
class StoredLines:
    """The lines of a stored tail with their numbers: line `first` (1-based) is lines[0]."""

    lines: list[str]
    first: int

    def after(self, seen: int) -> tuple[list[str], int]:
        """The lines after the first `seen`, and how many of those were dropped unseen."""
        missed = max(0, self.first - 1 - seen)
        return self.lines[max(0, seen - (self.first - 1)) :], missed


def stored_lines(text: str, total: int) -> StoredLines:
    """Split a stored tail (`text`, `total` lines appended in all) into numbered lines.

    The note about dropped lines counts only when its number agrees with `total`, so a
    job that prints a look-alike line cannot shift the numbering.
    """
    if total <= 0:  # no output, or a run stored before the count existed (migration 0009)
        return StoredLines(text.split("\n") if text else [], 1)
    parts = text.split("\n")
    note = _DROPPED_NOTE_PATTERN.fullmatch(parts[0])
    if note is not None and int(note.group(1)) + len(parts) - 1 == total:
        return StoredLines(parts[1:], int(note.group(1)) + 1)
    # No note: all lines are kept (or the text predates the count; number what is there).
    return StoredLines(parts, max(1, total - len(parts) + 1))


def _unchanged(text: str) -> str:
    return text
