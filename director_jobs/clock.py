"""Injectable clocks: the core asks a clock for the time, so tests move time without patching."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the core needs to know about time."""

    def now(self) -> datetime:
        """Return the current instant as an aware UTC datetime."""

    def monotonic(self) -> float:
        """Return seconds from an arbitrary origin, never going backwards."""

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> bool:
        """Wait up to `seconds`; return True when `wake` was set before that."""


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current instant as an aware UTC datetime."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Return time.monotonic()."""
        return time.monotonic()

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> bool:
        """Wait on `wake` (or plainly sleep) for up to `seconds`."""
        if wake is None:
            time.sleep(max(0.0, seconds))
            return False
        return wake.wait(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to; `sleep` advances it instantly."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware start time")
        self._now = start.astimezone(UTC)
        self._monotonic = 1000.0

    def now(self) -> datetime:
        """Return the fake current instant."""
        return self._now

    def monotonic(self) -> float:
        """Return the fake monotonic reading."""
        return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`."""
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> bool:
        """Advance instead of waiting; report whether `wake` was already set."""
        if wake is not None and wake.is_set():
            return True
        self.advance(max(0.0, seconds))
        return False
