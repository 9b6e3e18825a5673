"""A bounded, thread-safe tail of a run's output."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

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

    def append(self, line: str) -> None:
        """Add one line (without its newline)."""
        line = self.scrub(line[-self._limit :])
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
        with self._lock:
            body = "\n".join(self._lines)
            if self._dropped:
                return f"[… {self._dropped} earlier lines dropped]\n{body}"
            return body


def _unchanged(text: str) -> str:
    return text
