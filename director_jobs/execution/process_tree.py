"""Stop a process and everything it started, including children that left its process group."""

from __future__ import annotations

import contextlib
import os
import signal
import time


def kill_tree(pid: int, *, grace: float = 5.0) -> None:
    """SIGTERM the process group of `pid` and every descendant, then SIGKILL what is left.

    Descendants are collected before the first signal: once the parent dies its orphans
    are re-parented to init and can no longer be found through it.
    """
    import psutil  # imported here: only runs that time out or are stopped pay for it

    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    _signal_group(pid, signal.SIGTERM)
    for process in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(family, timeout=grace)
    _signal_group(pid, signal.SIGKILL)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=grace)


def _signal_group(pid: int, signum: int) -> None:
    """Signal the process group led by `pid`, if it still exists."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until `pid` no longer exists (or is a zombie); True when it is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
