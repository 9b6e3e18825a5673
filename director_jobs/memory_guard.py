"""Recycle the daemon cleanly when it has grown too big or lived too long (systemd restarts it)."""

from __future__ import annotations

import os
from dataclasses import dataclass

MIB = 1024 * 1024


def rss_bytes() -> int:
    """This process's resident set size."""
    import psutil

    return int(psutil.Process(os.getpid()).memory_info().rss)


@dataclass
class MemoryGuard:
    """Compares RSS with a baseline taken after start-up, and age with a lifetime limit."""

    max_growth_mib: float | None = 100.0
    max_rss_mib: float | None = None
    max_lifetime_seconds: float | None = None
    baseline: int = 0
    started: float = 0.0

    def start(self, monotonic_now: float) -> None:
        """Record the baseline RSS and the start time."""
        self.baseline = rss_bytes()
        self.started = monotonic_now

    def reason_to_recycle(self, monotonic_now: float) -> str | None:
        """Why the daemon should exit now for a fresh start, or None."""
        if self.max_lifetime_seconds is not None:
            age = monotonic_now - self.started
            if age >= self.max_lifetime_seconds:
                return (
                    f"lifetime {age:.0f} s reached --max-lifetime {self.max_lifetime_seconds:g} s"
                )
        if self.max_growth_mib is None and self.max_rss_mib is None:
            return None
        rss = rss_bytes()
        if self.max_rss_mib is not None and rss > self.max_rss_mib * MIB:
            return f"memory {rss / MIB:.1f} MiB exceeds --max-memory {self.max_rss_mib:g} MiB"
        growth = rss - self.baseline
        if self.max_growth_mib is not None and growth > self.max_growth_mib * MIB:
            return (
                f"memory grew by {growth / MIB:.1f} MiB (from {self.baseline / MIB:.1f} to "
                f"{rss / MIB:.1f} MiB), more than --max-memory-growth {self.max_growth_mib:g} MiB"
            )
        return None
