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


def session_members(session: int) -> list[int]:
    """The pids whose session id is `session` (/proc/PID/stat field 6), zombies left out."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                data = stat.read()
        except OSError:
            continue  # ended meanwhile
        # The command name (field 2) may hold spaces and ')': fields resume after the last ')'.
        state, _parent, _group, sid = data[data.rindex(b")") + 2 :].split()[:4]
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
    for process in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(members, timeout=grace)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=grace)
    return [p.pid for p in members]


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
