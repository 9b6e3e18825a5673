"""Slow down guessing: a client that sent many bad tokens is refused for a while."""

from __future__ import annotations

import threading
import time
from collections import deque

# More than this many failed authentications from one client within WINDOW_SECONDS and
# every request of that client needing a token gets 429 until the oldest one ages out.
# 20 a minute: generous for a mistyped token in a script, useless for guessing 256 bits.
LIMIT = 20
WINDOW_SECONDS = 60.0
# Clients tracked at most (the oldest are forgotten): bounded memory under a spray.
_MAX_CLIENTS = 10_000


class FailureThrottle:
    """Failed-authentication times per client address, in a sliding window."""

    def __init__(self, limit: int = LIMIT, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float | None:
        """Seconds until `client` may try again; None when it may now."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return None
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if not failures:
                del self._failures[client]
                return None
            if len(failures) < self.limit:
                return None
            return failures[0] + self.window - now

    def failed(self, client: str) -> None:
        """Note one failed authentication of `client`."""
        now = time.monotonic()
        with self._lock:
            if client not in self._failures and len(self._failures) >= _MAX_CLIENTS:
                self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(client, deque()).append(now)
