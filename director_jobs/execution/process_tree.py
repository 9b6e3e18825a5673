"""Stop a process and everything it started, including children that left its process group."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import Any

from director_jobs.identity import stat_fields


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
    _terminate_then_kill(family, grace, group=pid)


def session_members(session: int) -> list[int]:
    """The pids whose session id is `session` (/proc/PID/stat field 6), zombies left out."""
    members = []
    for entry in os.scandir("/proc"):
        fields = stat_fields(entry.name) if entry.name.isdigit() else None
        if fields is None:
            continue  # not a process, or ended meanwhile
        state, _parent, _group, sid = fields[:4]
        if int(sid) == session and state != b"Z":
            members.append(int(entry.name))
    return members


def kill_session(session: int, *, grace: float = 5.0) -> list[int]:
    """SIGTERM, then SIGKILL, every process of `session`; return the pids it found."""
    import psutil

    members = []
    for pid in session_members(session):
        with contextlib.suppress(psutil.NoSuchProcess):
            members.append(psutil.Process(pid))
    _terminate_then_kill(members, grace)
    return [p.pid for p in members]


def _terminate_then_kill(processes: list[Any], grace: float, group: int | None = None) -> None:
    """SIGTERM each (and `group`), wait up to `grace`, SIGKILL the rest; wait once more."""
    import psutil

    if group is not None:
        _signal_group(group, signal.SIGTERM)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(processes, timeout=grace)
    if group is not None:
        _signal_group(group, signal.SIGKILL)
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
