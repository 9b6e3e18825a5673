"""Watch the memory of a job's whole process tree and say when it passes the job's limit."""

from __future__ import annotations

import time

MIB = 1024 * 1024
# psutil walks /proc for every process in the tree; twice a second is enough to stop a
# runaway allocation long before it takes the machine down.
CHECK_EVERY_SECONDS = 0.5


class TreeMemoryWatch:
    """Sums the RSS of a process and all its descendants, at most every half second."""

    def __init__(self, pid: int, limit_mib: float | None) -> None:
        self.pid = pid
        self.limit_mib = limit_mib
        self._next_check = 0.0

    def exceeded(self) -> str | None:
        """A message when the tree uses more than the limit, else None."""
        if self.limit_mib is None or time.monotonic() < self._next_check:
            return None
        self._next_check = time.monotonic() + CHECK_EVERY_SECONDS
        rss = tree_rss(self.pid)
        if rss > self.limit_mib * MIB:
            return (
                f"memory limit {self.limit_mib:g} MiB exceeded (RSS {rss / MIB:.0f} MiB); "
                "killed with its children"
            )
        return None


def tree_rss(pid: int) -> int:
    """RSS of `pid` and its descendants in bytes (0 when it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in family:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total
