"""Watch the memory of a job's whole process tree and say when it passes the job's limit."""

from __future__ import annotations

import time

MIB = 1024 * 1024
# psutil walks /proc for every process in the tree; twice a second is enough to stop a
# runaway allocation long before it takes the machine down.
CHECK_EVERY_SECONDS = 0.5


class TreeMemoryWatch:
    """Sums the memory of a process and all its descendants, at most every half second.

    A child forked from the runner starts with the runner's pages, shared copy-on-write
    (some 40 MiB, resident in both): with `forked`, that process counts only the memory
    it owns (USS), so that a limit measures the job, not the runner.
    """

    def __init__(self, pid: int, limit_mib: float | None, *, forked: bool = False) -> None:
        self.pid = pid
        self.limit_mib = limit_mib
        self.forked = forked
        self._next_check = 0.0

    def exceeded(self) -> str | None:
        """A message when the tree uses more than the limit, else None."""
        if self.limit_mib is None or time.monotonic() < self._next_check:
            return None
        self._next_check = time.monotonic() + CHECK_EVERY_SECONDS
        used = tree_memory(self.pid, own_only=self.forked)
        if used > self.limit_mib * MIB:
            what = "memory of its own" if self.forked else "RSS"
            return (
                f"memory limit {self.limit_mib:g} MiB exceeded ({what} {used / MIB:.0f} MiB); "
                "killed with its children"
            )
        return None


def tree_memory(pid: int, *, own_only: bool = False) -> int:
    """RSS of `pid` (or, with `own_only`, its USS) plus its descendants' RSS, in bytes."""
    import psutil

    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in family:
        try:
            if own_only and process is root:
                total += process.memory_full_info().uss  # /proc/PID/smaps_rollup: ~2 ms
            else:
                total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total
