"""Who a runner is (host:pid plus process start), and whether a recorded runner still lives."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class RunnerIdentity:
    """A runner process: `host:pid`, and its start time to tell a recycled pid apart."""

    host: str
    pid: int
    process_start: float | None

    @property
    def label(self) -> str:
        """The `host:pid` text stored with runs and claims."""
        return f"{self.host}:{self.pid}"

    @classmethod
    def current(cls) -> RunnerIdentity:
        """This process."""
        return cls(socket.gethostname(), os.getpid(), process_start(os.getpid()))


def stat_fields(pid: int | str) -> list[bytes] | None:
    """Fields 3 onwards of /proc/PID/stat (state, ppid, pgrp, session, …), or None when gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and ')'; fields resume after the last ')'.
    return data[data.rindex(b")") + 2 :].split()


def process_start(pid: int) -> float | None:
    """Start time of `pid` in clock ticks since boot (/proc/PID/stat field 22), or None."""
    fields = stat_fields(pid)
    return None if fields is None else float(fields[19])  # field 22 = index 19 from field 3


def parse_label(label: str) -> tuple[str, int] | None:
    """Split `host:pid`; None when it is not of that form."""
    host, _, pid = label.rpartition(":")
    return (host, int(pid)) if host and pid.isdigit() else None


def is_alive(host: str, pid: int, started: float | None) -> bool | None:
    """True/False for a runner on this host; None when it runs elsewhere (we cannot tell)."""
    if host != socket.gethostname():
        return None
    now_started = process_start(pid)
    if now_started is None:
        return False
    return started is None or now_started == started
